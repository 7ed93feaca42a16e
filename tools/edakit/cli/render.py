"""`edakit render SPEC [--env ENV] [--out DIR]`: one `<module>.auto.tfvars.json` per Terraform module used."""

from __future__ import annotations

from pathlib import Path

import click

from edakit.cli._problems import exit_bad_input
from edakit.render import default_out_dir, render_spec
from edakit.spec import SpecError, load_spec
from edakit.spec.loader import repository_root


@click.command()
@click.argument("spec_path", metavar="SPEC", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--env", "env", default=None, help="Environment whose overrides apply (names derive from it).")
@click.option(
    "--out", "out", type=click.Path(path_type=Path, file_okay=False), default=None,
    help="Output directory [default: build/<spec name>/<env>/ under the repository root].",
)
def render(spec_path: Path, env: str | None, out: Path | None) -> None:
    """Render SPEC into Terraform tfvars (JSON). Exit 2 listing every problem of a bad spec."""
    try:
        spec = load_spec(spec_path, env)
    except SpecError as exc:
        exit_bad_input(exc.problems)
    written = render_spec(spec, out or default_out_dir(spec, repository_root(spec_path)))
    if not written:
        click.echo(f"nothing to render: {spec_path} has no channels on a broker with a Terraform module", err=True)
    for path in written:
        click.echo(str(path))
