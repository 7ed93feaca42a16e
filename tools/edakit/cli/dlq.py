"""`edakit dlq ls|show|replay|purge`: inspect and drain dead-letter queues (embedded, Kafka, SQS, Pub/Sub)."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from datetime import datetime, timezone
from functools import wraps
from typing import Any

import click

from edakit.cli._problems import exit_error, printable
from edakit.redact import redact, secrets_in
from edakit.runtime.adapters.base import BrokerError
from edakit.runtime.adapters.urls import SCHEMES, BrokerUrlError, connect_broker
from edakit.runtime.dlq import DeadLetter, DeadLetterQueue, Outcome, Selection


def _queue_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """--broker, --topic, --group, --wait: passes `dlq` once the broker answered (else exit 2, one line)."""

    @click.option("--broker", "broker_url", required=True, envvar="EDAKIT_BROKER", help=SCHEMES)
    @click.option("--topic", required=True, help="the topic (SNS topic for SQS) whose DLQ to read")
    @click.option("--group", required=True, help="the consumer group (subscription) that dead-lettered")
    @click.option("--wait", default=1.0, show_default=True, type=click.FloatRange(min=0),
                  help="seconds to wait for more messages")
    @wraps(command)
    def wrapper(broker_url: str, topic: str, group: str, wait: float, **kwargs: Any) -> Any:
        known = secrets_in(broker_url)
        try:
            broker = connect_broker(broker_url)
        except (BrokerUrlError, BrokerError) as exc:  # BrokerError: BrokerUnreachable, or a client that cannot start
            exit_error(exc, known)
        try:
            return command(dlq=DeadLetterQueue(broker, topic, group, wait=wait), **kwargs)
        except BrokerError as exc:  # e.g. no such queue: the settings name no DLQ we can read
            exit_error(exc, known)

    return wrapper


def _filter_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """--id, --type, --error, --failed-after, --failed-before: passes `selection`."""

    @click.option("--id", "event_ids", multiple=True, help="event id (repeatable)")
    @click.option("--type", "event_type", help="event type glob, e.g. 'com.example.order.*'")
    @click.option("--error", "error_type", help="exception type glob, e.g. 'ValueError'")
    @click.option("--failed-after", type=click.DateTime(), help="last failure at or after (UTC if no offset)")
    @click.option("--failed-before", type=click.DateTime(), help="last failure before (UTC if no offset)")
    @wraps(command)
    def wrapper(event_ids: tuple[str, ...], event_type: str | None, error_type: str | None,
                failed_after: datetime | None, failed_before: datetime | None, **kwargs: Any) -> Any:
        selection = Selection(frozenset(event_ids), event_type, error_type, _utc(failed_after), _utc(failed_before))
        return command(selection=selection, **kwargs)

    return wrapper


def _utc(value: datetime | None) -> datetime | None:
    return value.replace(tzinfo=timezone.utc) if value is not None and value.tzinfo is None else value


def _summary(letter: DeadLetter) -> dict[str, object]:
    """The letter's summary with its error message redacted: a handler's exception may quote a DSN."""
    summary = letter.summary()
    if summary["error_message"] is not None:
        summary["error_message"] = redact(str(summary["error_message"]))
    return summary


def _table(letters: list[DeadLetter]) -> str:
    rows = [("ID", "TYPE", "ERROR", "ATTEMPTS", "LAST FAILURE", "POSITION")]
    for letter in letters:
        s = _summary(letter)
        error = " ".join(printable(f"{s['error_type']}: {s['error_message']}").split()) if letter.reason else "-"
        rows.append((str(s["id"]), str(s["type"]), error, str(s["attempts"] or "-"), str(s["last_failure"] or "-"),
                     letter.position))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows)


def _report(verb: str, outcome: Outcome, dry_run: bool) -> None:
    prefix = "would be " if dry_run else ""
    for letter in outcome.done:
        click.echo(f"{prefix}{verb}: {letter.message.id} ({letter.message.type})")
    for letter, why in outcome.failed:
        click.echo(f"failed: {letter.message.id}: {printable(why)} (still in the DLQ)", err=True)
    click.echo(f"{len(outcome.done)} {prefix}{verb}, {len(outcome.failed)} failed, {outcome.kept} not selected",
               err=True)
    if outcome.failed:
        sys.exit(1)


@click.group()
def dlq() -> None:
    """Dead-letter queues: list, show, replay to the source (same event id), purge.

    Exit codes: 0 ok, 1 some messages failed (they stay in the DLQ), 2 bad input (unknown broker, topic or group) or
    a broker that does not answer: an unreachable broker is never reported as an empty DLQ.
    """


@dlq.command("ls")
@_queue_options
@_filter_options
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
def ls(dlq: DeadLetterQueue, selection: Selection, fmt: str) -> None:
    """List dead letters with why they failed."""
    letters = dlq.list(selection)
    click.echo(json.dumps([_summary(x) for x in letters], indent=2) if fmt == "json" else _table(letters))


@dlq.command()
@_queue_options
@click.argument("event_id")
def show(dlq: DeadLetterQueue, event_id: str) -> None:
    """Show one dead letter in full: reason, headers and payload."""
    letters = dlq.list(Selection(frozenset({event_id})))
    if not letters:
        click.echo(f"error: no dead letter with id {event_id!r} in the DLQ of {dlq.topic}/{dlq.group}", err=True)
        sys.exit(2)
    letter = letters[0]
    try:
        payload: object = letter.message.payload.decode()
    except UnicodeDecodeError:
        payload = letter.message.payload.hex()
    click.echo(json.dumps({**_summary(letter), "headers": dict(letter.message.headers),
                           "content_type": letter.message.content_type, "payload": payload}, indent=2))


@dlq.command()
@_queue_options
@_filter_options
@click.option("--to", "target", help="publish here instead of each message's original source")
@click.option("--dry-run", is_flag=True, help="show what would be replayed; change nothing")
def replay(dlq: DeadLetterQueue, selection: Selection, target: str | None, dry_run: bool) -> None:
    """Publish the selected dead letters back (same event id), then remove them from the DLQ."""
    _report("replayed", dlq.replay(selection, dry_run=dry_run, to=target), dry_run)


@dlq.command()
@_queue_options
@_filter_options
@click.option("--dry-run", is_flag=True, help="show what would be purged; change nothing")
def purge(dlq: DeadLetterQueue, selection: Selection, dry_run: bool) -> None:
    """Delete the selected dead letters (all of them without filters)."""
    _report("purged", dlq.purge(selection, dry_run=dry_run), dry_run)
