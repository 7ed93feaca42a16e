"""`edakit validate` (what `make validate` runs): every static check of the repository, in one run.

Each step prints what it checked and every problem with its location (edakit.spec.errors.Problem, the kit's one
located-problem type); all steps run even when one fails, so a single run lists everything to fix. The result is
the exit code: 0 clean, 1 findings, 2 a spec that cannot be read.

Every spec of configs/ is loaded once, with all its environments (`Specs`), before the first step; each step gets
that model instead of reading the files again.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import hcl2

if TYPE_CHECKING:
    from edakit.spec import Problem, Spec

Echo = Callable[[str], None]

OK, FINDINGS, BAD_INPUT = 0, 1, 2


@dataclass(frozen=True)
class Specs:
    """Every spec of configs/ (edakit.render.spec_files), each with all its environments (its base alone when it
    defines none), loaded once; `problems`: those of the files that did not load (which are left out)."""

    loaded: dict[Path, list[Spec]] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    @classmethod
    def load(cls, root: Path) -> Specs:
        from edakit.render import spec_files
        from edakit.spec import SpecError, load_environments

        found = cls()
        for path in spec_files(root):
            try:
                found.loaded[path] = load_environments(path, root=root)
            except SpecError as exc:
                found.problems.extend(exc.problems)
        return found

    def every(self) -> list[Spec]:
        return [spec for specs in self.loaded.values() for spec in specs]


@dataclass(frozen=True)
class Step:
    name: str
    run: Callable[[Path, Echo, Specs], int]  # returns OK, FINDINGS or BAD_INPUT


def _bad_specs(specs: Specs, echo: Echo) -> int:
    for problem in specs.problems:
        echo(f"  {problem}")
    return BAD_INPUT if specs.problems else OK


def _specs(root: Path, echo: Echo, specs: Specs) -> int:
    """Every spec in configs/ loaded, for every environment; render its tfvars into build/."""
    from edakit.render import default_out_dir, render_spec

    for spec in specs.every():
        for path in render_spec(spec, default_out_dir(spec, root)):
            echo(f"  rendered {path.relative_to(root)}")
    return _bad_specs(specs, echo)


def _schemas(root: Path, echo: Echo, specs: Specs) -> int:
    """Every subject version against its predecessors at its level; every example payload against its schema."""
    from edakit.es.upcast import check_upcasting
    from edakit.schemas import check_repository

    problems = check_repository(root)
    problems += check_upcasting(root)  # every older version of an event reads as its newest (event store upcasting)
    for problem in problems:
        echo(f"  {problem}")
    return FINDINGS if problems else OK


def _terraform(root: Path, echo: Echo, specs: Specs) -> int:
    """fmt, init, validate, terraform test and checkov over every module and pattern root."""
    from edakit.tfharness import check_all

    return OK if check_all(root, echo=lambda line: echo(f"  {line}")) else FINDINGS


def pattern_roots_using(root: Path) -> dict[str, list[Path]]:
    """Module name -> the pattern roots under terraform/patterns whose `module` blocks call it."""
    modules = (root / "terraform" / "modules").resolve()
    using: dict[str, list[Path]] = {}
    for tf_file in sorted((root / "terraform" / "patterns").rglob("*.tf")):
        if ".terraform" in tf_file.parts:
            continue
        with tf_file.open() as handle:
            parsed = hcl2.load(handle)
        for block in parsed.get("module", []):
            for call in block.values():
                source = (tf_file.parent / str(call.get("source", "")).strip('"')).resolve()
                if source.parent == modules:
                    using.setdefault(source.name, []).append(tf_file.parent)
    return using


def _plans(root: Path, echo: Echo, specs: Specs) -> int:
    """Every rendered environment through `terraform plan` of its spec's pattern root (`pattern:`), or, for a spec
    that names none, of every pattern root calling its modules. A warning fails too: an undeclared variable in a
    var file is only a warning to Terraform, and it means renderer and root disagree."""
    from edakit.render import PROVIDER_SETTINGS_FILE, default_out_dir, tfvars_file
    from edakit.spec.schema import did_you_mean
    from edakit.tfharness import Harness

    harness = Harness(root)
    calls: dict[Path, set[str]] = {}
    for module, pattern_roots in pattern_roots_using(root).items():
        for pattern in pattern_roots:
            calls.setdefault(pattern, set()).add(module)
    status = OK
    for environments in specs.loaded.values():  # a spec that did not load: the specs step reports it
        for spec in environments:
            env_dir = default_out_dir(spec, root)
            rendered = {m for p in calls.values() for m in p if (env_dir / tfvars_file(m)).exists()}
            if spec.pattern is not None:
                targets = [root / "terraform" / "patterns" / spec.pattern]
                if targets[0] not in calls and not any(targets[0].glob("*.tf")):
                    known = sorted(str(p.relative_to(root / "terraform" / "patterns")) for p in calls)
                    echo(f"  {spec.location('pattern')} pattern: no Terraform root at terraform/patterns/"
                         f"{spec.pattern}{did_you_mean(spec.pattern, known)}")
                    status = FINDINGS
                    continue
            else:
                targets = sorted(p for p, modules in calls.items() if modules & rendered)
            for pattern in targets:
                var_files = [env_dir / tfvars_file(m) for m in sorted(calls.get(pattern, set()) & rendered)]
                if (env_dir / PROVIDER_SETTINGS_FILE).exists():
                    var_files.append(env_dir / PROVIDER_SETTINGS_FILE)
                result = harness.init(pattern)
                if result.ok:
                    result = harness.plan(pattern, var_files, {"environment": spec.environment or "base"})
                passed = result.ok and not result.diagnostics
                changes = len((result.data or {}).get("resource_changes", []))
                label = f"{env_dir.relative_to(root)} -> {pattern.relative_to(root)}"
                echo(f"  {'ok  ' if passed else 'FAIL'} {label}" + (f" ({changes} resources)" if result.ok else ""))
                for diagnostic in result.diagnostics:
                    echo(f"      {diagnostic.format(root)}")
                if not passed:
                    status = FINDINGS
    return status


def _lint(root: Path, echo: Echo, specs: Specs) -> int:
    """Event-driven best practice over every spec (each environment) and its rendered tfvars."""
    from edakit.lint import blocking, format_table
    from edakit.lint.run import lint_loaded
    from edakit.spec import SpecError

    try:
        findings = lint_loaded(specs.loaded)
    except SpecError as exc:  # an example event that cannot be read
        for problem in exc.problems:
            echo(f"  {problem}")
        return BAD_INPUT
    if findings:
        for line in format_table(findings).splitlines():
            echo(f"  {line}")
    return max(FINDINGS if blocking(findings) else OK, _bad_specs(specs, echo))


def _routes(root: Path, echo: Echo, specs: Specs) -> int:
    """Every example event in examples/events/<spec>/ reaches exactly the subscribers it expects."""
    from edakit.routing.routes import check_expected
    from edakit.spec import SpecError

    problems = []
    try:
        for spec in specs.every():
            problems += check_expected(spec)
    except SpecError as exc:
        for problem in exc.problems:
            echo(f"  {problem}")
        return BAD_INPUT
    for problem in problems:
        echo(f"  {problem}")
    return max(FINDINGS if problems else OK, _bad_specs(specs, echo))


def _sagas(root: Path, echo: Echo, specs: Specs) -> int:
    """Every saga definition in configs/sagas/ loads and generates its Step Functions ASL."""
    from edakit.saga import check_sagas

    problems = check_sagas(root / "configs" / "sagas")
    for problem in problems:
        echo(f"  {problem}")
    return BAD_INPUT if problems else OK


def _docs(root: Path, echo: Echo, specs: Specs) -> int:
    """Every module and pattern README's inputs/outputs tables, and each pattern root's generated module inputs, match
    the code (`edakit docs` rewrites them)."""
    from edakit.docs import DocsError, check_docs

    try:
        problems = check_docs(root)
    except DocsError as exc:
        problems = exc.problems
    for problem in problems:
        echo(f"  {problem}")
    return FINDINGS if problems else OK


def _observability(root: Path, echo: Echo, specs: Specs) -> int:
    """alerts/ and dashboards/ match a fresh render of the specs (`edakit alerts`, `edakit dashboards`), and
    `promtool check rules` and `promtool test rules` pass over alerts/."""
    from edakit.observability import alerts, dashboards, generate

    if specs.problems:
        return OK  # the specs step reports them
    sets = {environments[0].name: (str(path.relative_to(root)), environments)
            for path, environments in specs.loaded.items() if environments}
    problems = generate.stale(root, alerts.render_files(sets, alerts.RUNBOOK), "alerts", "edakit alerts")
    problems += generate.stale(root, dashboards.render_files(sets), "dashboards", "edakit dashboards")
    passed, lines = generate.promtool(root)
    for line in problems + lines:
        echo(f"  {line}")
    return FINDINGS if problems or not passed else OK


def _asyncapi(root: Path, echo: Echo, specs: Specs) -> int:
    """Every spec exports to AsyncAPI 3.0 that AsyncAPI's own parser accepts (build/asyncapi/), and the README's
    diagram files are what the fan-out spec draws now (`edakit diagram --readme`)."""
    from edakit.asyncapi.check import check_exports
    from edakit.asyncapi.diagram import stale_readme_diagrams

    if specs.problems:
        return OK  # the specs step reports them
    problems = check_exports(sorted(specs.loaded), root) + stale_readme_diagrams(root)
    for problem in problems:
        echo(f"  {problem}")
    return FINDINGS if problems else OK


STEPS: list[Step] = [
    Step("specs: load and render", _specs),
    Step("sagas: definitions", _sagas),
    Step("lint: event-driven best practice", _lint),
    Step("routes: example events reach their expected subscribers", _routes),
    Step("schemas: compatibility and example payloads", _schemas),
    Step("docs: READMEs and pattern roots' module inputs match the code", _docs),
    Step("observability: generated alert rules and dashboards are current; promtool check and test rules",
         _observability),
    Step("asyncapi: every spec exports to a valid AsyncAPI document; README diagram current", _asyncapi),
    Step("terraform: fmt, validate, test, checkov", _terraform),
    Step("terraform: plan every rendered tfvars file", _plans),
]


def validate(root: Path, echo: Echo = print, steps: list[Step] | None = None) -> int:
    """Run every step; return the worst status (2 beats 1 beats 0)."""
    root = Path(root).resolve()
    worst = OK
    specs = Specs.load(root)
    for step in steps or STEPS:
        echo(f"== {step.name}")
        start = time.perf_counter()
        status = step.run(root, echo, specs)
        verdict = {OK: "ok", FINDINGS: "FAILED", BAD_INPUT: "FAILED (bad input)"}[status]
        echo(f"== {step.name}: {verdict} in {time.perf_counter() - start:.1f}s")
        worst = max(worst, status)
    echo("validate: all checks passed" if worst == OK else "validate: FAILED")
    return worst
