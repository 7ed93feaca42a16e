"""`edakit docs`: each Terraform module's inputs and outputs tables, generated from its code into its README.md."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

from edakit.docs.errors import DocsError, Problem, fail
from edakit.docs.readme import generated_section, splice
from edakit.docs.terraform import read_module

__all__ = ["DocsError", "Problem", "check_docs", "module_dirs", "write_docs"]

# Reusable modules, and pattern root configurations (terraform/patterns/<pattern>/<broker>).
MODULE_GLOBS = ("terraform/modules/*", "terraform/patterns/*/*")
README = "README.md"
_CONTEXT = 40  # characters shown either side of the first difference


def module_dirs(root: Path) -> list[Path]:
    """Every directory under `root` matching MODULE_GLOBS that holds a `*.tf` file."""
    return sorted(path for pattern in MODULE_GLOBS for path in root.glob(pattern) if _is_module(path))


def write_docs(root: Path, paths: Iterable[Path] | None = None) -> list[Path]:
    """Regenerate the README section of each module (`paths`, or all under `root`); returns the READMEs changed."""
    written = []
    for readme, current, expected in _readmes(root, paths):
        if current != expected:
            readme.write_bytes(expected.encode("utf-8"))
            written.append(readme)
    return written


def check_docs(root: Path, paths: Iterable[Path] | None = None) -> list[Problem]:
    """One problem per README whose generated section is missing or stale, at its first differing line."""
    problems = []
    for readme, current, expected in _readmes(root, paths):
        if current is None:
            problems.append(Problem(readme, None, "missing: run `edakit docs` to create it"))
        elif current != expected:
            problems.append(_first_difference(readme, current, expected))
    return problems


def _is_module(path: Path) -> bool:
    return path.is_dir() and any(path.glob("*.tf"))


def _readmes(root: Path, paths: Iterable[Path] | None) -> list[tuple[Path, str | None, str]]:
    """(README path, its text or None when absent, its text with a fresh generated section) per module."""
    modules = module_dirs(root) if paths is None else list(paths)
    results, problems = [], []
    for module in modules:
        try:
            results.append(_readme(module))
        except DocsError as exc:
            problems += exc.problems
    if problems:
        raise DocsError(problems)
    return results


def _readme(module: Path) -> tuple[Path, str | None, str]:
    if not _is_module(module):
        raise fail(module, None, "not a Terraform module: expected a directory holding *.tf files")
    readme = module / README
    # Bytes, not read_text: universal newlines would rewrite the line endings of the hand-written text.
    current = readme.read_bytes().decode("utf-8") if readme.exists() else None
    base = f"# {module.resolve().name}\n" if current is None else current
    return readme, current, splice(readme, base, generated_section(read_module(module)))


def _first_difference(readme: Path, current: str, expected: str) -> Problem:
    found, wanted = current.split("\n"), expected.split("\n")
    index = _first_mismatch(found, wanted)
    found_line, wanted_line = (lines[index] if index < len(lines) else None for lines in (found, wanted))
    column = _first_mismatch(found_line or "", wanted_line or "")
    return Problem(readme, index + 1, f"generated docs are stale (run `edakit docs`): from column {column + 1}, found "
                                      f"{_excerpt(found_line, column)}, expected {_excerpt(wanted_line, column)}")


def _first_mismatch(found: Sequence[str], wanted: Sequence[str]) -> int:
    """Index of the first item that differs (or that only one of the two has)."""
    mismatches = (index for index, (a, b) in enumerate(zip(found, wanted, strict=False)) if a != b)
    return next(mismatches, min(len(found), len(wanted)))


def _excerpt(line: str | None, column: int) -> str:
    if line is None:
        return "end of file"
    start, end = max(0, column - _CONTEXT), column + _CONTEXT
    return f'"{"…" if start else ""}{line[start:end]}{"…" if len(line) > end else ""}"'
