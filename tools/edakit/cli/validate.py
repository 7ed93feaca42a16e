"""`edakit validate [ROOT]`: every static check of the repository (what `make validate` runs)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from edakit.cli._problems import printable
from edakit.validate import validate as run_validate


@click.command()
@click.argument("root", type=click.Path(path_type=Path, file_okay=False, exists=True), default=".")
def validate(root: Path) -> None:
    """Render every spec and run every static check; exit 1 on findings, 2 on a spec that cannot be read."""
    sys.exit(run_validate(root, echo=lambda line: click.echo(printable(line))))  # redacted, huge values clipped
