"""Repository-wide fixtures. Each test layer keeps the servers only it uses in its own conftest.py; pstest and
Azurite, which several layers use, start here once per session."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

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
