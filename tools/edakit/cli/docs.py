"""`edakit docs [MODULE_DIR...] [--check]`: module READMEs' inputs and outputs tables, and pattern roots'
module_inputs.tf, generated from the code."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from edakit.cli._problems import exit_bad_input
from edakit.docs import DocsError, check_docs, write_docs


@click.command()
@click.argument("paths", metavar="[MODULE_DIR]...", nargs=-1, type=click.Path(path_type=Path, file_okay=False))
@click.option("--check", is_flag=True, help="Write nothing; exit 1 naming each generated file that is stale.")
@click.option("--root", type=click.Path(path_type=Path, file_okay=False, exists=True), default=Path("."),
              show_default=True, help="Repository root: documents terraform/modules/* and terraform/patterns/*/*.")
def docs(paths: tuple[Path, ...], check: bool, root: Path) -> None:
    """Write each module's inputs and outputs between <!-- BEGIN_TF_DOCS --> and <!-- END_TF_DOCS --> in its README.md,
    and each pattern root's module_inputs.tf (the module inputs it passes through).

    Without MODULE_DIR: every module under --root. Exit 0 up to date, 1 stale (--check), 2 unreadable input.
    """
    modules = list(paths) or None
    try:
        if check:
            problems = check_docs(root, modules)
            for problem in problems:
                click.echo(str(problem))
            if problems:
                click.echo(f"{len(problems)} stale generated file(s): run `edakit docs`", err=True)
                sys.exit(1)
            click.echo("generated READMEs and module inputs are up to date", err=True)
        else:
            for readme in write_docs(root, modules):
                click.echo(f"wrote {readme}")
    except DocsError as exc:
        exit_bad_input(exc.problems)
