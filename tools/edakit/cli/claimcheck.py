"""`edakit claim-check settings SPEC --env ENV [--format table|json]`: what the runtime's claim-check publishers and
consumers are configured with (edakit.runtime.claimcheck.settings), per channel."""

from __future__ import annotations

import json
from pathlib import Path

import click

from edakit.cli._problems import exit_bad_input, exit_error
from edakit.runtime.claimcheck.settings import ClaimCheckSettings, claim_check_settings
from edakit.runtime.settings import SettingsError
from edakit.spec import SpecError, load_spec


@click.group("claim-check")
def claim_check() -> None:
    """Claim check: large payloads through the object store, pointers through the broker."""


def as_json(found: ClaimCheckSettings) -> str:
    return json.dumps({"store": found.store, "name": found.name, "channels": [
        {"topic": topic, "threshold_bytes": policy.threshold_bytes, "always_offload": policy.always,
         "delete_after_processing": found.deletes(topic)} for topic, policy in sorted(found.policies.items())]},
        indent=2)


def as_table(found: ClaimCheckSettings) -> str:
    rows = [("topic", "offloads payloads", "delete after processing")]
    rows += [(topic, "all" if policy.always else f"> {policy.threshold_bytes:,} bytes",
              "yes" if found.deletes(topic) else "no (store expiry)") for topic, policy in sorted(found.policies.items())]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    lines = [f"store: {found.store} {found.name}"]
    lines += ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in rows]
    return "\n".join(lines)


@claim_check.command("settings")
@click.argument("spec_path", metavar="SPEC", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--env", "env", default=None, help="Environment the service runs in [default: the spec's base].")
@click.option("--format", "output", type=click.Choice(["table", "json"]), default="table", show_default=True)
def settings(spec_path: Path, env: str | None, output: str) -> None:
    """Print the claim-check settings of SPEC: the store, and per channel the offload threshold and whether consumers
    delete payloads. Exit 2 on a spec or claim_check block the runtime cannot follow."""
    try:
        found = claim_check_settings(load_spec(spec_path, env))
    except SpecError as exc:
        exit_bad_input(exc.problems)
    except SettingsError as exc:
        exit_error(exc)
    click.echo(as_json(found) if output == "json" else as_table(found))
