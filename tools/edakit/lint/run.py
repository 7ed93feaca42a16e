"""The runner: paths -> targets (a spec per environment, or a tfvars file) -> every rule -> findings."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

from edakit.lint.core import RULES, Finding, Severity, Target
from edakit.lint.rules import delivery
from edakit.lint.suppressions import apply_suppressions, parse_suppressions
from edakit.render import render_tfvars
from edakit.routing.routes import examples_dir, load_examples
from edakit.spec import Problem, Spec, SpecError, load_environments, load_spec
from edakit.spec.limits import MAX_SPEC_BYTES
from edakit.spec.source import read_document

MODULES = (delivery.SNS_SQS, delivery.KAFKA, delivery.PUBSUB, delivery.EVENTGRID)
TFVARS_SUFFIXES = (".auto.tfvars.json", ".tfvars.json")
SPEC_SUFFIXES = (".yaml", ".yml")


def lint_paths(paths: Iterable[str | Path], env: str | None = None, *,
               events_dir: Path | None = None) -> list[Finding]:
    """Lint specs and `<module>.auto.tfvars.json` files; every finding, suppressed ones marked, sorted by place.

    Without `env` a spec is linted in each of its environments (or its base if it has none). A spec's example
    events are read from `<events_dir>/<spec name>/` (default: `examples/events/` of its repository). Raises
    SpecError listing every problem of every unreadable or invalid input.
    """
    findings: set[Finding] = set()
    problems: list[Problem] = []
    for path in paths:
        try:
            targets = load_targets(Path(path), env, events_dir)
        except SpecError as exc:
            problems += exc.problems
            continue
        for target in targets:
            findings.update(lint_target(target))
    if problems:
        raise SpecError(problems)
    return sorted(findings, key=lambda f: f.sort_key)


def blocking(findings: Iterable[Finding]) -> list[Finding]:
    """Unsuppressed error findings: what fails `edakit lint` and `make validate`."""
    return [f for f in findings if f.suppressed is None and f.severity is Severity.ERROR]


def lint_target(target: Target) -> list[Finding]:
    findings = [
        Finding(location, rule.id, rule.severity, message)
        for rule in RULES.values()
        for location, message in rule.check(target)
    ]
    return apply_suppressions(findings, list(target.suppressions))


def load_targets(path: Path, env: str | None, events_dir: Path | None = None) -> list[Target]:
    if path.name.endswith(TFVARS_SUFFIXES):
        return [tfvars_target(path, env)]
    if path.suffix in SPEC_SUFFIXES:
        return spec_targets(path, env, events_dir)
    raise SpecError([Problem(str(path), 1, 1, "(root)", "expected a spec (.yaml) or a "
                                                        "<module>.auto.tfvars.json file")])


def lint_loaded(loaded: Mapping[Path, list[Spec]]) -> list[Finding]:
    """Lint specs already loaded (spec file -> its environments, e.g. edakit.validate.Specs): like `lint_paths` on
    the files, without reading them again. Raises SpecError for example events that cannot be read."""
    findings: set[Finding] = set()
    for path, specs in loaded.items():
        for target in loaded_targets(path, specs):
            findings.update(lint_target(target))
    return sorted(findings, key=lambda f: f.sort_key)


def spec_targets(path: Path, env: str | None, events_dir: Path | None = None) -> list[Target]:
    specs = [load_spec(path, env)] if env is not None else load_environments(path)
    return loaded_targets(path, specs, events_dir)


def loaded_targets(path: Path, specs: list[Spec], events_dir: Path | None = None) -> list[Target]:
    """One target per loaded environment of the spec at `path` (its suppressions and example events read once)."""
    spec = specs[0]
    suppressions = tuple(parse_suppressions(path.read_text(encoding="utf-8")))
    examples = tuple(load_examples(events_dir / spec.name if events_dir else examples_dir(spec)))
    return [Target(file=str(path), env=s.environment, spec=s, tfvars=render_tfvars(s), examples=examples,
                   suppressions=suppressions) for s in specs]


def tfvars_target(path: Path, env: str | None) -> Target:
    """A rendered (or hand-written) tfvars file; the module is named by the file: `<module>.auto.tfvars.json`."""
    file = str(path)
    module = next(path.name.removesuffix(s) for s in TFVARS_SUFFIXES if path.name.endswith(s))
    if module not in MODULES:
        expected = f"<module>.auto.tfvars.json with module one of {', '.join(MODULES)}"
        message = f"unknown module '{module}' in the file name; expected {expected}"
        raise SpecError([Problem(file, 1, 1, "(root)", message)])
    # JSON is YAML: the spec's bounded reader and parser give every key's line and column
    document, problems = read_document(path, what="tfvars file", max_bytes=MAX_SPEC_BYTES)
    if not problems and not isinstance(document.data, dict):
        problems = [document.problem((), "expected a JSON object of the module's input variables")]
    if problems:
        raise SpecError(problems)
    return Target(file=file, env=env, spec=None, tfvars={module: document.data}, positions=document.positions)
