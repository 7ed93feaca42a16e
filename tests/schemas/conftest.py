"""Fixtures of the schema layer: a throw-away copy of the repository's schemas and a registry serving it."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from edakit.schemas.registry import Registry
from edakit.schemas.serve import running


@pytest.fixture
def repo_copy(repo_root: Path, tmp_path: Path) -> Path:
    """schemas/ and examples/payloads/ copied into a temporary project root (tests may plant files there)."""
    shutil.copytree(repo_root / "schemas", tmp_path / "schemas")
    shutil.copytree(repo_root / "examples" / "payloads", tmp_path / "examples" / "payloads")
    return tmp_path


@pytest.fixture
def registry_url(repo_copy: Path) -> Iterator[str]:
    """A registry on 127.0.0.1 (free port) preloaded from the copy, persisting accepted versions into it."""
    with running(Registry.from_repository(repo_copy / "schemas", persist=True)) as url:
        yield url


@pytest.fixture
def empty_registry_url() -> Iterator[str]:
    with running(Registry()) as url:
        yield url
