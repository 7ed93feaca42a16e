"""Located problems: bad input (raised as DocsError) and stale generated files (returned by check_docs)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Problem:
    file: Path
    line: int | None  # None when the problem is the file itself (missing, not a module)
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}" if self.line else f"{self.file}: {self.message}"


class DocsError(ValueError):
    """Input `edakit docs` cannot read, every problem of one run."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(problem) for problem in problems))


def fail(file: Path, line: int | None, message: str) -> DocsError:
    return DocsError([Problem(file, line, message)])
