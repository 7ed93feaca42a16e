"""Located spec problems: every error names its file, line, column and key path."""

from __future__ import annotations

from dataclasses import dataclass

# A key path inside the spec document: mapping keys are str, sequence indexes are int.
KeyPath = tuple[str | int, ...]


def format_path(path: KeyPath) -> str:
    """`("subscribers", "billing", "dlq")` -> `subscribers.billing.dlq`; list items as `events[0]`."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(root)"


@dataclass(frozen=True, order=True)
class Problem:
    file: str
    line: int
    column: int
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column} {self.path}: {self.message}"


class SpecError(ValueError):
    """Every problem found in one spec, sorted by position; raised once per load."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(set(problems))
        super().__init__("\n".join(str(p) for p in self.problems))
