"""`edakit tf`: the offline Terraform harness (pinned Terraform, schema-serving providers, checks)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from edakit.tfharness import Harness, check_all, install

ROOT_OPTION = click.option("--root", type=click.Path(file_okay=False, path_type=Path), default=".",
                           show_default=True, help="project root (holds terraform/ and .edakit-cache/)")


@click.group()
def tf() -> None:
    """Verify Terraform offline: pinned Terraform + providers served from committed schemas."""


@tf.command("install")
@ROOT_OPTION
def install_command(root: Path) -> None:
    """Set up the provider mirror and CLI config (idempotent)."""
    installation = install(root)
    click.echo(f"terraform: {' '.join(installation.terraform)}")
    click.echo(f"providers: {installation.mirror}")
    click.echo(f"TF_CLI_CONFIG_FILE={installation.cli_config}")


@tf.command("check")
@ROOT_OPTION
@click.argument("paths", nargs=-1, type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--no-checkov", is_flag=True, help="skip checkov (quick local iterations; validate always runs it)")
def check_command(root: Path, paths: tuple[Path, ...], no_checkov: bool) -> None:
    """fmt, init, validate, terraform test and checkov over every module and pattern (or PATHS)."""
    sys.exit(0 if check_all(root, list(paths) or None, echo=click.echo, checkov=not no_checkov) else 1)


@tf.command("plan")
@ROOT_OPTION
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--var-file", "var_files", multiple=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--var", "variables", multiple=True, metavar="NAME=VALUE")
def plan_command(root: Path, directory: Path, var_files: tuple[Path, ...], variables: tuple[str, ...]) -> None:
    """terraform plan DIRECTORY with var files, offline."""
    pairs = {}
    for item in variables:
        name, sep, value = item.partition("=")
        if not sep:
            raise click.BadParameter(f"{item!r}: expected NAME=VALUE", param_hint="--var")
        pairs[name] = value
    harness = Harness(root)
    results = [harness.init(directory)]
    if results[0].ok:
        results.append(harness.plan(directory, var_files=var_files, vars=pairs))
    for result in results:
        for diagnostic in result.diagnostics:
            click.echo(diagnostic.format(harness.root))
    if not all(r.ok for r in results):
        sys.exit(1)
    changes = results[-1].data.get("resource_changes", [])
    for change in changes:
        click.echo(f"{'/'.join(change['change']['actions']):>8} {change['address']}")
    click.echo(f"ok: {len(changes)} resource changes planned")
