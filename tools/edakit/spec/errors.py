"""Located problems: every error names its file, line, column and key path.

`Problem` is the kit's one located-problem type: spec, schemas repository, docs, Terraform diagnostics and lint
findings all report with it (edakit.validate prints them), so every line reads `file:line:column key.path: message`
with the parts a source does not know left out.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

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
    line: int  # 1-based; 0: the problem is the file itself (missing, unreadable)
    column: int  # 1-based; 0: not known
    key_path: str  # e.g. `subscribers.billing.dlq` (format_path); "": not at a key
    message: str

    @classmethod
    def at(cls, file: str | Path, message: str, line: int | None = None, column: int | None = None,
           key_path: str = "") -> Problem:
        """A problem where only some of the location is known (a file, perhaps a line)."""
        return cls(str(file), line or 0, column or 0, key_path, message)

    @property
    def path(self) -> str:
        """The key path (the field's name before Problem was shared by every source)."""
        return self.key_path

    def __str__(self) -> str:
        where = self.file + (f":{self.line}" if self.line else "") + (f":{self.column}" if self.line and self.column
                                                                       else "")
        if self.key_path:
            return f"{where} {self.key_path}: {self.message}" if where else f"{self.key_path}: {self.message}"
        return f"{where}: {self.message}" if where else self.message


class SpecError(ValueError):
    """Every problem found in one spec, sorted by position; raised once per load."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(set(problems))
        super().__init__("\n".join(str(p) for p in self.problems))
