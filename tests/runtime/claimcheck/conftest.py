"""Claim-check fixtures: the local-development store, and a fake-gcs-server for the GCS store (the other servers come
from tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from edakit.devservers import fake_gcs_server
from edakit.runtime.claimcheck import LocalDirectoryStore


@pytest.fixture
def local_store(tmp_path: Path) -> LocalDirectoryStore:
    return LocalDirectoryStore(tmp_path / "claims", bucket="claims")


@pytest.fixture(scope="session")
def gcs_url() -> Iterator[str]:
    with fake_gcs_server() as url:
        yield url
