"""Fixtures of the event-sourcing tests: an SQLite store per test, a PostgreSQL one on the session server."""

from __future__ import annotations

import importlib
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from edakit.es.store import store_env

# eventsourcing.tests.persistence (the library's recorder and transcoder test cases) imports eventsourcing.cipher,
# which needs pycryptodome (the library's "crypto" extra; the kit does not install it). The library ships the same
# AESCipher on the `cryptography` package, which is installed, as eventsourcing.cryptography: it stands in. Only the
# library's InfrastructureFactoryTestCase uses a cipher, and it is not run here.
try:
    import eventsourcing.cipher  # noqa: F401
except ModuleNotFoundError:
    sys.modules["eventsourcing.cipher"] = importlib.import_module("eventsourcing.cryptography")


@pytest.fixture
def sqlite_env(tmp_path: Path) -> dict[str, str]:
    return store_env(f"sqlite:{tmp_path / 'events.db'}")


@pytest.fixture
def pg_env(pg_url: str) -> dict[str, str]:
    return store_env(pg_url)


@pytest.fixture
def pg_query_url(postgres_url: str) -> Iterator[str]:
    """A second fresh database on the session server: the query side, apart from the event store."""
    name = f"q_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    yield postgres_url.rsplit("/", 1)[0] + f"/{name}"
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        admin.execute(f"DROP DATABASE {name} WITH (FORCE)")
