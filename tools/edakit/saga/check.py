"""What `edakit validate` runs for sagas: every saga file loads and generates ASL."""

from __future__ import annotations

from pathlib import Path

from .asl import to_asl
from edakit.spec.errors import Problem

from .loader import SagaError, load_saga


def check_sagas(directory: str | Path) -> list[Problem]:
    """Problems in every configs/sagas/*.yaml under directory; an empty list means all are valid."""
    problems: list[Problem] = []
    for path in sorted(Path(directory).glob("*.yaml")):
        try:
            to_asl(load_saga(path))
        except SagaError as exc:
            problems.extend(exc.problems)
    return problems
