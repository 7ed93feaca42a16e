"""Runtime-layer fixtures; the real servers come from tests/conftest.py, started once per session."""

from __future__ import annotations

from pathlib import Path

import pytest

from edakit.runtime.adapters.embedded import EmbeddedBroker


@pytest.fixture
def embedded(tmp_path: Path) -> EmbeddedBroker:
    return EmbeddedBroker(tmp_path / "broker.sqlite3", visibility_timeout=30.0)
