"""Fixtures of the lint tests."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def tmp_repo(tmp_path: Path, repo_root: Path) -> Path:
    """A repository of its own (pyproject.toml marks the root) that sees the real event schemas."""
    (tmp_path / "pyproject.toml").write_text("", encoding="utf-8")
    (tmp_path / "schemas").symlink_to(repo_root / "schemas")
    return tmp_path
