"""`edakit docs`: each Terraform module's inputs and outputs tables, generated from its code into its README.md,
each pattern root's declarations of the module inputs it passes through (`inputs.MODULE_INPUTS`), and the modules'
copies of shared Terraform templates (`shared.SHARED_FILES`)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

from edakit.docs.errors import DocsError, Problem, fail, problem
from edakit.docs.inputs import MODULE_INPUTS, module_inputs
from edakit.docs.readme import generated_section, splice
from edakit.docs.shared import shared_copies
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
    """Regenerate the shared templates' copies, then the module inputs file and the README section, of each module (`paths`, or all under `root`);
    returns the files changed. Inputs first: a root's README documents them."""
    written = []
    for target, current, expected in _generated(root, paths):
        if current != expected:
            target.write_bytes(expected.encode("utf-8"))
            written.append(target)
    return written


def check_docs(root: Path, paths: Iterable[Path] | None = None) -> list[Problem]:
    """One problem per generated file (shared template copy, README section, module inputs) that is missing or stale, at its first
    differing line."""
    problems = []
    for target, current, expected in _generated(root, paths):
        if current is None:
            problems.append(problem(target, None, "missing: run `edakit docs` to create it"))
        elif current != expected:
            problems.append(_first_difference(target, current, expected))
    return problems


def _is_module(path: Path) -> bool:
    return path.is_dir() and any(path.glob("*.tf"))


def _generated(root: Path, paths: Iterable[Path] | None) -> Iterator[tuple[Path, str | None, str]]:
    """(file, its text or None when absent, the text it should have) per generated file, every problem of the run
    raised together. A root's README is computed after its module inputs were yielded (and written)."""
    modules = module_dirs(root) if paths is None else list(paths)
    problems = []
    try:
        for target, expected in shared_copies(root, None if paths is None else modules):
            yield target, _read(target), expected
    except DocsError as exc:
        problems += exc.problems
    for module in modules:
        try:
            inputs = _module_inputs(module)
            if inputs is not None:
                yield inputs
            yield _readme(module)
        except DocsError as exc:
            problems += exc.problems
    if problems:
        raise DocsError(problems)


def _module_inputs(module: Path) -> tuple[Path, str | None, str] | None:
    """None when `module` passes nothing through (its README step then checks that it is a module at all)."""
    expected = module_inputs(module)
    target = module / MODULE_INPUTS
    current = _read(target)
    if expected is None:
        if current is not None:
            raise fail(target, None, "generated for module inputs this root no longer passes through: delete it")
        return None
    return target, current, expected


def _read(path: Path) -> str | None:
    # Bytes, not read_text: universal newlines would rewrite the line endings of hand-written text.
    return path.read_bytes().decode("utf-8") if path.exists() else None


def _readme(module: Path) -> tuple[Path, str | None, str]:
    if not _is_module(module):
        raise fail(module, None, "not a Terraform module: expected a directory holding *.tf files")
    readme = module / README
    current = _read(readme)
    base = f"# {module.resolve().name}\n" if current is None else current
    return readme, current, splice(readme, base, generated_section(read_module(module)))


def _first_difference(target: Path, current: str, expected: str) -> Problem:
    found, wanted = current.split("\n"), expected.split("\n")
    index = _first_mismatch(found, wanted)
    found_line, wanted_line = (lines[index] if index < len(lines) else None for lines in (found, wanted))
    column = _first_mismatch(found_line or "", wanted_line or "")
    return problem(target, index + 1, f"generated docs are stale (run `edakit docs`): from column {column + 1}, found "
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
