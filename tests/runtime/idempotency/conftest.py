"""Fixtures of the idempotency tests: the DynamoDB table on the session's moto server, store server addresses."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from lease_stores import TABLE, dynamodb_client

from edakit.runtime.idempotency.dynamodb import create_table


@pytest.fixture(scope="session")
def dynamodb(moto_url: str) -> Any:
    client = dynamodb_client(moto_url)
    create_table(client, TABLE)
    return client


@pytest.fixture
def store_address(request: pytest.FixtureRequest, redis_url: str) -> Callable[[str], str]:
    """The host:port of the server behind a store kind (DynamoDB's table is created on first use)."""

    def address(kind: str) -> str:
        if kind.startswith("redis"):
            return redis_url.split("://", 1)[1].split("/", 1)[0]
        request.getfixturevalue("dynamodb")
        return request.getfixturevalue("moto_url").split("://", 1)[1]

    return address
