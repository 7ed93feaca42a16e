"""Fixtures of the AsyncAPI, diagram and docs-site tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from asyncapi_paths import CONFIGS, FIXTURES  # noqa: F401 - re-exported for the fixtures below


@pytest.fixture()
def import_root(tmp_path: Path) -> Path:
    """An empty repository root for imports (inline payload schemas are written under it)."""
    (tmp_path / "pyproject.toml").write_text("", encoding="utf-8")
    return tmp_path
