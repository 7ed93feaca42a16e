"""Terraform harness fixtures: one provider mirror per session (in a temp cache), fixture modules copied per test."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from edakit.tfharness import Harness, install

FIXTURES = Path(__file__).with_name("fixtures")


@pytest.fixture(scope="session")
def harness(repo_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Harness:
    return Harness(repo_root, install(repo_root, cache=tmp_path_factory.mktemp("edakit-cache")))


@pytest.fixture
def module_copy(tmp_path: Path) -> Callable[[str], Path]:
    """Copy fixtures/<name> to a fresh directory (Terraform writes .terraform/ and a lock file beside the code)."""

    def copy(name: str) -> Path:
        target = tmp_path / name
        shutil.copytree(FIXTURES / name, target, ignore=shutil.ignore_patterns(".terraform*"))
        return target

    return copy
