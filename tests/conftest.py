"""Repository-wide fixtures; each test layer keeps the servers it starts in its own conftest.py."""

from __future__ import annotations

from pathlib import Path

import pytest

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
