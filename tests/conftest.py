"""Repository-wide fixtures: the real servers several test layers use (PostgreSQL, Redis, moto, Tansu, noida-db,
pstest, Azurite) start here, once per session, on 127.0.0.1, and stop after."""

from __future__ import annotations

from collections.abc import Iterator
import time
import uuid
from pathlib import Path

import psycopg
import pytest

from edakit import devservers
from edakit.devservers import pubsub_emulator_launcher

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"


def pytest_report_header() -> str:
    # Only a root conftest.py can add to the header: it is read before the layers' ones.
    try:
        return f"Pub/Sub servers: pstest, and Google's emulator at {pubsub_emulator_launcher()}"
    except RuntimeError as missing:
        return f"Pub/Sub servers: pstest only; Google's emulator tests are skipped: {missing}"


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def conformance_dir() -> Path:
    path = SHARED / "conformance"
    if not path.is_dir():
        pytest.fail(f"conformance cases not found at {path} (expected ../shared/conformance beside the project root)")
    return path


@pytest.fixture(scope="session")
def pstest_host() -> Iterator[str]:
    """Google's pstest Pub/Sub fake on 127.0.0.1; `host:port` for PubSubBroker's `emulator_host`."""
    with devservers.pstest_server() as host:
        yield host


@pytest.fixture(scope="session")
def azurite_blob() -> Iterator[str]:
    """Azurite's Blob service on 127.0.0.1; its connection string."""
    with devservers.azurite_blob() as connection:
        yield connection


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    with devservers.postgres_server() as url:
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
    with devservers.redis_server() as url:
        yield url


@pytest.fixture(scope="session")
def moto_url() -> Iterator[str]:
    with devservers.moto_server() as url:
        yield url


@pytest.fixture(scope="session")
def tansu_bootstrap() -> Iterator[str]:
    with devservers.tansu_broker() as bootstrap:
        yield bootstrap


@pytest.fixture(scope="session")
def noida_bootstrap() -> Iterator[str]:
    with devservers.noida_kafka() as bootstrap:
        yield bootstrap
