"""`edakit diagram SPEC [--env ENV] [--format svg|png|dot|mermaid] [-o FILE]`, and `edakit diagram --readme`."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from edakit.cli._problems import exit_bad_input, exit_error


@click.command()
@click.argument("spec_path", metavar="SPEC", required=False, type=click.Path(path_type=Path, dir_okay=False))
@click.option("--env", default=None, help="Environment whose overrides apply (names derive from it).")
@click.option("--format", "fmt", type=click.Choice(["svg", "png", "dot", "mermaid"]), default="svg",
              show_default=True, help="svg and png are rendered by Graphviz `dot`.")
@click.option("-o", "--out", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Write here [default: stdout].")
@click.option("--readme", is_flag=True,
              help="Write docs/diagrams/order-fanout.svg and .mmd (the README's fan-out diagram) instead.")
def diagram(spec_path: Path | None, env: str | None, fmt: str, out: Path | None, readme: bool) -> None:
    """Draw SPEC's event flow: publishers, channels, subscribers with abridged filters, retry topics and DLQs,
    claim-check store, saga steps. Exit 2 for a bad spec or a missing Graphviz."""
    from edakit.asyncapi.diagram import GraphvizMissing, diagram as draw, write_readme_diagrams
    from edakit.spec import SpecError, load_spec

    try:
        if readme:
            for path in write_readme_diagrams(Path.cwd()):
                click.echo(str(path))
            return
        if spec_path is None:
            exit_error("missing SPEC (or --readme)")
        content = draw(load_spec(spec_path, env), fmt)
    except SpecError as exc:
        exit_bad_input(exc.problems)
    except GraphvizMissing as exc:
        exit_error(exc)
    if out is None:
        sys.stdout.buffer.write(content)
    else:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(content)
        click.echo(str(out))
