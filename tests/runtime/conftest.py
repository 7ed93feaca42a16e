"""Runtime-layer servers (PostgreSQL, Redis, moto) started once per session on 127.0.0.1 and stopped after."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from edakit.devservers import moto_server, postgres_server, redis_server, tansu_broker
from edakit.runtime.adapters.embedded import EmbeddedBroker


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    with postgres_server() as url:
        # The port opens before recovery ends ("the database system is starting up"): wait for a real session.
        deadline = time.monotonic() + 30
        while True:
            try:
                psycopg.connect(url).close()
                break
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        yield url


@pytest.fixture
def pg_url(postgres_url: str) -> Iterator[str]:
    """A fresh, empty database per test, dropped after it."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    yield postgres_url.rsplit("/", 1)[0] + f"/{name}"
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        admin.execute(f"DROP DATABASE {name} WITH (FORCE)")


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    with redis_server() as url:
        yield url


@pytest.fixture(scope="session")
def moto_url() -> Iterator[str]:
    with moto_server() as url:
        yield url


@pytest.fixture(scope="session")
def tansu_bootstrap() -> Iterator[str]:
    with tansu_broker() as bootstrap:
        yield bootstrap


@pytest.fixture
def embedded(tmp_path: Path) -> EmbeddedBroker:
    return EmbeddedBroker(tmp_path / "broker.sqlite3", visibility_timeout=30.0)
