"""Located problems (edakit.spec.errors.Problem, the kit's one type): bad input (raised as DocsError) and stale
generated files (returned by check_docs)."""

from __future__ import annotations

from pathlib import Path

from edakit.spec.errors import Problem

__all__ = ["DocsError", "Problem", "fail", "problem"]


def problem(file: Path, line: int | None, message: str) -> Problem:
    """A docs problem: a file and, unless the problem is the file itself (missing, not a module), a line."""
    return Problem.at(file, message, line)


class DocsError(ValueError):
    """Input `edakit docs` cannot read, every problem of one run."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(problem) for problem in problems))


def fail(file: Path, line: int | None, message: str) -> DocsError:
    return DocsError([problem(file, line, message)])
