"""`load_spec`: YAML (within edakit.spec.limits) -> environment merge -> schema + references -> typed model ->
cross-checks, in one SpecError."""

from __future__ import annotations

from pathlib import Path

from edakit.spec import schema
from edakit.spec.build import build
from edakit.spec.checks import cross_check
from edakit.spec.errors import SpecError
from edakit.spec.limits import MAX_SPEC_BYTES
from edakit.spec.model import Spec
from edakit.spec.overrides import base, environment_names, merge
from edakit.spec.references import check_references
from edakit.spec.schema import did_you_mean
from edakit.spec.source import read_document


def repository_root(spec_path: Path) -> Path:
    """Nearest ancestor holding `.git` or `pyproject.toml`; event schema paths are relative to it."""
    start = spec_path.resolve().parent
    for directory in (start, *start.parents):
        if (directory / ".git").exists() or (directory / "pyproject.toml").is_file():
            return directory
    return start


def load_spec(path: str | Path, env: str | None = None, *, root: Path | None = None) -> Spec:
    """Load and check a spec; the base and every environment are checked, the one asked for is returned.

    Raises SpecError listing every problem, each with file, line, column and key path.
    """
    variants = _load(path, env, root)
    return variants[env]


def load_environments(path: str | Path, *, root: Path | None = None) -> list[Spec]:
    """Every environment of a spec (its base alone when it defines none), from one read of the file: what
    render, lint, routes and validate iterate over. Raises SpecError like `load_spec`."""
    variants = _load(path, None, root)
    names = variants[None].environments
    return [variants[name] for name in names] if names else [variants[None]]


def _load(path: str | Path, env: str | None, root: Path | None) -> dict[str | None, Spec]:
    document, problems = read_document(path, what="spec", max_bytes=MAX_SPEC_BYTES)
    if problems and document.data is None:  # not YAML at all
        raise SpecError(problems)
    problems += schema.check(document)
    if not isinstance(document.data, dict):
        raise SpecError(problems)

    names = environment_names(document)
    if env is not None and env not in names:
        where = ("environments",) if names else ()
        problems.append(document.problem(where, f"no environment '{env}' in the spec{did_you_mean(env, names)}"))
    root = root if root is not None else repository_root(Path(path))
    variants: dict[str | None, Spec] = {}
    for name in (None, *names):
        if name is None:
            variant, merge_problems = base(document), []
        else:
            variant, merge_problems = merge(document, name)
        schema_problems = schema.check(variant)
        problems += merge_problems + schema_problems + check_references(variant, root, schema_problems)
        if schema_problems:
            continue  # the model's cross-checks need a well-formed spec; the schema problems say what to fix first
        spec = build(variant, name, names, root)
        problems += cross_check(spec, variant)
        variants[name] = spec
    if problems:
        raise SpecError(problems)
    return variants
