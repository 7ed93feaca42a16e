"""`edakit lint SPEC... [--env ENV] [--format table|json|sarif]`: event-driven best practice findings."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from edakit.cli._problems import exit_bad_input
from edakit.lint import FORMATS, blocking, lint_paths
from edakit.spec import SpecError


@click.command()
@click.argument("paths", metavar="SPEC...", nargs=-1, required=True,
                type=click.Path(path_type=Path, dir_okay=False))
@click.option("--env", "env", default=None,
              help="Environment to lint [default: every environment of each spec]; also that of tfvars files.")
@click.option("--format", "output", type=click.Choice(sorted(FORMATS)), default="table", show_default=True)
def lint(paths: tuple[Path, ...], env: str | None, output: str) -> None:
    """Lint specs (and <module>.auto.tfvars.json files). Exit 1 on unsuppressed error findings, 2 on bad input.

    Suppress a finding with a comment on its line or the line above:
    `# edakit: ignore[EDA002] reason: why the rule does not apply here`.
    """
    try:
        findings = lint_paths(paths, env)
    except SpecError as exc:
        exit_bad_input(exc.problems)
    click.echo(FORMATS[output](findings))
    if blocking(findings):
        sys.exit(1)
