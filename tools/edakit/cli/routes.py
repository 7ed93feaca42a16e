"""`edakit routes SPEC [--env ENV] [--event FILE]...`: who receives each example event, and why not the others."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from edakit.cli._problems import exit_bad_input
from edakit.redact import shorten
from edakit.routing import InvalidFilterError
from edakit.routing.routes import example_problems, examples_dir, load_example, load_examples, route
from edakit.spec import SpecError, load_spec


@click.command()
@click.argument("spec_path", metavar="SPEC", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--env", "env", default=None, help="Environment whose overrides apply.")
@click.option("--event", "events", multiple=True, type=click.Path(path_type=Path, dir_okay=False),
              help="Example event file(s) [default: every examples/events/<spec name>/*.json].")
@click.option("--format", "output_format", type=click.Choice(["table", "json"]), default="table", show_default=True,
              help="json: per example, its file, event, publisher, receivers and the others' reasons.")
def routes(spec_path: Path, env: str | None, events: tuple[Path, ...], output_format: str) -> None:
    """Route example events through SPEC's subscriber filters. Exit 1 when an event's `expect` disagrees,
    2 on a bad spec, event file or filter."""
    try:
        spec = load_spec(spec_path, env)
        examples = [load_example(path) for path in events] if events else load_examples(examples_dir(spec))
        problems, report = [], []
        for example in examples:
            deliveries = route(spec, example)
            if output_format == "json":
                report.append({"file": example.file, "event": example.event, "publisher": example.publisher,
                               "receivers": [d.subscriber for d in deliveries if d.receives],
                               "skipped": {d.subscriber: list(d.reasons) for d in deliveries if not d.receives}})
            else:
                click.echo(f"{example.file}: {shorten(example.event)}")
                for delivery in deliveries:
                    verdict = "receives" if delivery.receives else "skipped: " + "; ".join(delivery.reasons)
                    click.echo(f"  {delivery.subscriber:<24} {verdict}")
            problems += example_problems(spec, example)
        if output_format == "json":
            click.echo(json.dumps(report, indent=2))
    except SpecError as exc:
        exit_bad_input(exc.problems)
    except InvalidFilterError as exc:
        click.echo(f"{spec_path}: invalid filter: {exc}", err=True)
        sys.exit(2)
    for problem in problems:
        click.echo(str(problem), err=True)
    if problems:
        click.echo(f"{len(problems)} routing problem(s)", err=True)
        sys.exit(1)
