"""`make validate` loads each spec once and hands the model to every step; every step reports with the one
located-problem type (edakit.spec.errors.Problem)."""

from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path

import pytest

import edakit.spec.loader as loader
from edakit.docs.errors import problem as docs_problem
from edakit.lint.core import Finding, Severity
from edakit.schemas.repo import check_repository
from edakit.spec.errors import Problem
from edakit.spec.model import Location
from edakit.tfharness.runner import Diagnostic
from edakit.validate import BAD_INPUT, STEPS, Specs, validate

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture()
def copy(tmp_path: Path) -> Path:
    for part in ("pyproject.toml", "configs", "schemas", "examples"):
        source = ROOT / part
        if source.is_dir():
            shutil.copytree(source, tmp_path / part, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, tmp_path / part)
    return tmp_path


def test_each_spec_is_read_once_for_every_step(copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    reads: Counter[str] = Counter()
    original = loader.read_document

    def counting(path, *args, **kwargs):  # noqa: ANN001, ANN202 - the loader's own signature
        reads[Path(path).name] += 1
        return original(path, *args, **kwargs)

    monkeypatch.setattr(loader, "read_document", counting)
    steps = [s for s in STEPS if s.name.split(":")[0] in ("specs", "lint", "routes")]
    assert len(steps) == 3
    out: list[str] = []
    assert validate(copy, out.append, steps=steps) == 0, "\n".join(out)
    specs = sorted(p.name for p in (copy / "configs").glob("*.yaml"))
    assert sorted(reads) == specs and set(reads.values()) == {1}, reads


def test_a_spec_that_does_not_load_is_reported_once_by_the_specs_step(copy: Path) -> None:
    (copy / "configs" / "order-events-kafka.yaml").write_text("name: [unclosed\n")
    loaded = Specs.load(copy)
    assert [p.file.endswith("order-events-kafka.yaml") for p in loaded.problems] == [True]
    assert copy / "configs" / "order-events-sns.yaml" in loaded.loaded  # the others still load
    out: list[str] = []
    steps = [s for s in STEPS if s.name.startswith(("specs", "lint"))]
    assert validate(copy, out.append, steps=steps) == BAD_INPUT
    assert sum("order-events-kafka.yaml:2:1 (root): invalid YAML" in line for line in out) == 2  # once per step


def test_every_source_reports_the_same_problem_type(tmp_path: Path) -> None:
    assert isinstance(docs_problem(tmp_path / "README.md", 3, "stale"), Problem)
    assert str(docs_problem(tmp_path / "README.md", None, "missing")) == f"{tmp_path / 'README.md'}: missing"
    (tmp_path / "schemas").mkdir()
    (tmp_path / "schemas" / "orders").mkdir()
    (tmp_path / "schemas" / "orders" / "v1").mkdir()
    (tmp_path / "schemas" / "orders" / "v1" / "nope.txt").write_text("x")
    found = check_repository(tmp_path)
    assert found and all(isinstance(p, Problem) for p in found)
    diagnostic = Diagnostic("error", "Unsupported argument", "x", tmp_path / "main.tf", 4, 3)
    assert diagnostic.problem(tmp_path) == Problem("main.tf", 4, 3, "", "error: Unsupported argument: x")
    assert diagnostic.format(tmp_path) == "main.tf:4:3: error: Unsupported argument: x"
    assert Diagnostic("error", "terraform init failed").format() == "error: terraform init failed"
    finding = Finding(Location("spec.yaml", 7, 5), "EDA001", Severity.ERROR, "no DLQ")
    assert finding.problem == Problem("spec.yaml", 7, 5, "", "EDA001 error: no DLQ")
    spec_problem = Problem("spec.yaml", 2, 1, "subscribers.billing", "bad")
    assert (str(spec_problem), spec_problem.path) == ("spec.yaml:2:1 subscribers.billing: bad", "subscribers.billing")
