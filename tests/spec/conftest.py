"""A throw-away repository (pyproject.toml marker, schemas/, configs/) for specs written by the tests."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from edakit.spec import SpecError, load_spec


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'shop'\n")
    schemas = tmp_path / "schemas" / "shop" / "v1"
    schemas.mkdir(parents=True)
    for event in ("order-placed", "order-shipped"):
        (schemas / f"{event}.avsc").write_text('{"type": "record", "name": "X", "fields": []}\n')
    (tmp_path / "configs").mkdir()
    monkeypatch.chdir(tmp_path)  # problems then name `configs/shop.yaml`, as a user running from the root sees
    return tmp_path


@pytest.fixture
def write_spec(repo: Path) -> Callable[[str], str]:
    def write(text: str, name: str = "shop.yaml") -> str:
        path = f"configs/{name}"
        (repo / path).write_text(textwrap.dedent(text).lstrip("\n"))
        return path

    return write


@pytest.fixture
def problems() -> Callable[..., list[str]]:
    """The formatted problems of a spec that must fail to load."""

    def collect(path: str, env: str | None = None) -> list[str]:
        with pytest.raises(SpecError) as caught:
            load_spec(path, env)
        return [str(problem) for problem in caught.value.problems]

    return collect
