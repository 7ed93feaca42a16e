"""`edakit outbox dlq ls|show|requeue|release`: the outbox rows the relay gave up on, and what to do with them.

A row lands in the outbox's dead-letter table after `--max-attempts` failed publishes while the broker accepted
others. Its aggregate's later rows wait behind it until it is requeued (published again, first) or released (the
later rows go ahead without it; who, when and why are recorded).
"""

from __future__ import annotations

import base64
import getpass
import json
from typing import Any

import click

from edakit.cli._problems import exit_error
from edakit.cli.outbox import _store_options
from edakit.runtime.outbox import DeadLetter, DeadLetterNotFound, OutboxStore

FORMAT = click.option("--format", "output", type=click.Choice(["table", "json"]), default="table", show_default=True)
REASON_LIMIT = 1000


def _outbox_id(value: str) -> int:
    if not value.isdigit():
        exit_error(f"outbox id {value!r}: expected the row's id as `edakit outbox dlq ls` shows it (a whole number)")
    return int(value)


def _summary(dead: DeadLetter) -> dict[str, Any]:
    return {"id": dead.id, "event_id": dead.event_id, "aggregate_type": dead.aggregate_type,
            "aggregate_id": dead.aggregate_id, "event_type": dead.event_type, "topic": dead.topic,
            "attempts": dead.attempts, "last_error": dead.last_error, "created_at": dead.created_at.isoformat(),
            "dead_lettered_at": dead.dead_lettered_at.isoformat(),
            "released_at": dead.released_at.isoformat() if dead.released_at else None}


def _payload(payload: bytes) -> dict[str, str]:
    try:
        return {"payload": payload.decode("utf-8"), "payload_encoding": "utf-8"}
    except UnicodeDecodeError:
        return {"payload": base64.b64encode(payload).decode(), "payload_encoding": "base64"}


@click.group()
def dlq() -> None:
    """Rows the relay dead-lettered: list, inspect, requeue, or release their aggregates.

    Exit codes: 0 ok, 2 bad input (an unknown id, a row already released) or a database that does not answer.
    """


@dlq.command("ls")
@_store_options()
@click.option("--limit", default=100, show_default=True, type=click.IntRange(1, 10_000), help="rows to list")
@FORMAT
def list_dead_letters(store: OutboxStore, limit: int, output: str) -> None:
    """Dead-lettered rows, oldest id first; `blocking` rows hold back their aggregate's later rows."""
    rows = store.dead_letters(limit)
    if output == "json":
        click.echo(json.dumps([_summary(d) for d in rows]))
        return
    click.echo(f"{'id':>8}  {'state':8}  {'attempts':>8}  {'topic':24}  {'aggregate':28}  last error")
    for d in rows:
        state = "released" if d.released_at else "blocking"
        error = " ".join((d.last_error or "").split())
        click.echo(f"{d.id:>8}  {state:8}  {d.attempts:>8}  {d.topic[:24]:24}  "
                   f"{(d.aggregate_type + '/' + d.aggregate_id)[:28]:28}  {error[:80]}")
    blocking = sum(1 for d in rows if d.released_at is None)
    click.echo(f"{len(rows)} dead-lettered row(s), {blocking} blocking their aggregate", err=True)


@dlq.command()
@_store_options()
@click.argument("outbox_id")
@FORMAT
def show(store: OutboxStore, outbox_id: str, output: str) -> None:
    """One dead-lettered row: its event, payload, headers, last error and release records."""
    try:
        dead = store.dead_letter(_outbox_id(outbox_id))
    except DeadLetterNotFound as exc:
        exit_error(exc)
    detail = {**_summary(dead), "source": dead.source, "key": dead.key, "content_type": dead.content_type,
              "headers": json.loads(dead.headers), **_payload(dead.payload),
              "releases": [{"released_by": r.released_by, "reason": r.reason,
                            "released_at": r.released_at.isoformat()} for r in dead.releases]}
    if output == "json":
        click.echo(json.dumps(detail))
        return
    for name, value in detail.items():
        if name == "releases":
            for release in value:
                click.echo(f"{'released':16} {release['released_at']} by {release['released_by']}: {release['reason']}")
        else:
            click.echo(f"{name:16} {value if not isinstance(value, dict) else json.dumps(value)}")


@dlq.command()
@_store_options()
@click.argument("outbox_ids", nargs=-1, required=True)
def requeue(store: OutboxStore, outbox_ids: tuple[str, ...]) -> None:
    """Move rows back to the outbox under their own ids, attempts reset: each is published before its aggregate's
    later rows. All or none: an unknown id requeues nothing."""
    ids = [_outbox_id(value) for value in outbox_ids]
    try:
        moved = store.requeue(ids)
    except DeadLetterNotFound as exc:
        exit_error(exc)
    click.echo(f"requeued {len(moved)} row(s): {', '.join(map(str, moved))}", err=True)


@dlq.command()
@_store_options()
@click.argument("outbox_id")
@click.option("--reason", required=True, help="why the aggregate may go on without this row (recorded)")
@click.option("--by", "released_by", default=None, help="who decides (recorded; default: the OS user)")
def release(store: OutboxStore, outbox_id: str, reason: str, released_by: str | None) -> None:
    """Let the aggregate's later rows be published without this row, which stays dead-lettered (and can still be
    requeued, then out of order). Recorded with who, when and why."""
    row_id = _outbox_id(outbox_id)
    if not reason.strip() or len(reason) > REASON_LIMIT:
        exit_error(f"--reason: expected a non-empty reason of at most {REASON_LIMIT} characters")
    who = released_by or getpass.getuser()
    try:
        done = store.release(row_id, who, reason.strip())
    except (DeadLetterNotFound, ValueError) as exc:
        exit_error(exc)
    click.echo(f"released row {done.outbox_id} (aggregate {done.aggregate_type}/{done.aggregate_id}) by {who} at "
               f"{done.released_at.isoformat()}", err=True)
