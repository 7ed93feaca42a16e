"""`edakit alerts [--check]` and `edakit dashboards [--check]`: Prometheus rules (with their promtool tests) and
Grafana dashboards generated from every spec in configs/."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import click

from edakit.cli._problems import exit_bad_input
from edakit.observability import generate
from edakit.spec import SpecError

_ROOT = click.option("--root", type=click.Path(path_type=Path, file_okay=False, exists=True), default=Path("."),
                     show_default=True, help="Repository root: reads configs/*.yaml, writes alerts/ or dashboards/.")
_CHECK = click.option("--check", is_flag=True, help="Write nothing; exit 1 naming each generated file that is stale.")


def _run(root: Path, check: bool, kind: str, render: Callable[[Path], dict[str, str]]) -> None:
    root = root.resolve()
    try:
        files = render(root)
    except SpecError as exc:
        exit_bad_input(exc.problems)
    if check:
        problems = generate.stale(root, files, kind, f"edakit {kind}")
        for problem in problems:
            click.echo(problem)
        if problems:
            click.echo(f"{len(problems)} stale generated file(s): run `edakit {kind}`", err=True)
            sys.exit(1)
        click.echo(f"generated {kind} are up to date", err=True)
        return
    for path in generate.write(root, files, kind):
        click.echo(f"wrote {path.relative_to(root)}")


@click.command()
@_CHECK
@_ROOT
@click.option("--runbook-base", default=generate.alerts.RUNBOOK, show_default=True,
              help="Where runbook_url points (e.g. your repository's URL of alerts/README.md); #<alert> is appended.")
def alerts(check: bool, root: Path, runbook_base: str) -> None:
    """Write alerts/<spec>.<env>.rules.yml (every subscriber's alerts), alerts/edakit.rules.yml (outbox relays, lag
    exporter) and their promtool unit tests in alerts/tests/. Exit 0 ok, 1 stale (--check), 2 bad spec."""
    _run(root, check, "alerts", lambda r: generate.alert_files(r, runbook_base))


@click.command()
@_CHECK
@_ROOT
def dashboards(check: bool, root: Path) -> None:
    """Write dashboards/<spec>.json, one Grafana dashboard per spec (a row per environment), built with
    grafana-foundation-sdk. Exit 0 ok, 1 stale (--check), 2 bad spec."""
    _run(root, check, "dashboards", generate.dashboard_files)
