"""`edakit spec check SPEC... [--env ENV]` and `edakit spec schema`."""

from __future__ import annotations

import json
from pathlib import Path

import click

from edakit.cli._problems import exit_bad_input
from edakit.spec import SpecError, load_spec, spec_schema


@click.group()
def spec() -> None:
    """Check system specs (configs/*.yaml) and print their JSON Schema."""


@spec.command()
@click.argument("specs", nargs=-1, required=True, type=click.Path(path_type=Path, dir_okay=False))
@click.option("--env", "env", default=None, help="Environment to merge onto the base (all are checked anyway).")
def check(specs: tuple[Path, ...], env: str | None) -> None:
    """Check SPECS: schema, environment overrides and cross-checks. Exit 2 listing every problem."""
    problems = []
    for path in specs:
        try:
            loaded = load_spec(path, env)
        except SpecError as exc:
            problems += exc.problems
            continue
        environments = ", ".join(loaded.environments) or "none"
        click.echo(
            f"ok {path}: {len(loaded.events)} events, {len(loaded.channels)} channels, "
            f"{len(loaded.subscribers)} subscribers; environments: {environments}"
        )
    if problems:
        exit_bad_input(problems)  # clipped and redacted, like every command's problems


@spec.command()
def schema() -> None:
    """Print the spec's JSON Schema (configs/edakit-spec.schema.json)."""
    click.echo(json.dumps(spec_schema(), indent=2))
