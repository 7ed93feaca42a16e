"""`edakit dlq ls|show|replay|purge`: inspect and drain dead-letter queues (embedded, Kafka, SQS, Pub/Sub)."""

from __future__ import annotations

import inspect
import json
import sys
from collections.abc import Callable
from datetime import datetime, timezone
from functools import wraps
from pathlib import Path
from typing import Any

import click

from edakit.cli._problems import exit_bad_input, exit_error, printable
from edakit.redact import redact, secrets_in
from edakit.runtime.adapters.base import Broker, BrokerError, Publisher
from edakit.brokers import PROFILES
from edakit.runtime.adapters.security import SecurityConfigError, spec_security
from edakit.runtime.adapters.urls import SCHEMES, BrokerUrlError, connect_broker, reachable_timeout
from edakit.runtime.dlq import DeadLetter, DeadLetterQueue, Outcome, Selection
from edakit.runtime.settings import PublisherSettings, publisher_settings
from edakit.spec import SpecError, load_spec

NO_SPEC_WARNING = ("warning: no --spec: {broker} publishes the CloudEvents attributes only, none of the channel's "
                   "declared native attributes (e.g. event_type), so subscriptions filtering on those miss what is "
                   "sent; pass --spec SPEC [--env ENV]")


def spec_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """--spec, --env: passes `settings`, the spec's publisher settings (None without --spec); a bad spec is exit 2."""

    @click.option("--spec", "spec_path", type=click.Path(path_type=Path, dir_okay=False), help=SPEC_SECURITY_HELP)
    @click.option("--env", "env", default=None, help="environment of --spec whose overrides apply (topic names)")
    @wraps(command)
    def wrapper(spec_path: Path | None, env: str | None, **kwargs: Any) -> Any:
        if spec_path is None:
            if env is not None:
                exit_error("--env needs --spec: it names an environment of the spec")
            return command(settings=None, **kwargs)
        try:
            settings = publisher_settings(load_spec(spec_path, env))
        except SpecError as exc:
            exit_bad_input(exc.problems)
        return command(settings=settings, **kwargs)

    return wrapper


SPEC_SECURITY_HELP = ("system spec whose channels' attribute contracts the publisher follows (native attributes such "
                      "as event_type, header list, attribute budget) and whose broker `security` block it connects "
                      "with: a --broker URL carries no credentials or TLS settings")


def connect_with_spec(broker_url: str, spec_path: Path | None, env: str | None) -> Broker:
    """connect_broker(broker_url), but with the `security` block (TLS, SASL, AWS role, service account) that the
    spec at `spec_path` writes for the URL's broker: a `kafka://`, `sqs:` or `pubsub:` URL alone carries none.
    A bad spec or security block is exit 2 (one line, no secret)."""
    scheme = broker_url.partition(":")[0]
    found = next((p for p in PROFILES.values() if p.url_scheme == scheme and p.open_url is not None), None)
    if spec_path is None or found is None or found.open_url is None:
        return connect_broker(broker_url)
    try:
        security = spec_security(spec_path, env).get(found.block)
    except SpecError as exc:
        exit_bad_input(exc.problems)
    if not security:
        return connect_broker(broker_url)
    try:
        broker = found.open_url(redact(broker_url), broker_url.partition(":")[2], security)
    except SecurityConfigError as exc:
        exit_error(exc)
    broker.check_reachable(reachable_timeout())
    return broker


def takes_settings(broker: Broker) -> bool:
    """Whether the broker's publisher follows attribute contracts (`publisher(settings)`: SNS, Pub/Sub)."""
    return "settings" in inspect.signature(broker.publisher).parameters


def contract_publisher(broker: Broker, settings: PublisherSettings | None, broker_url: str) -> Publisher:
    """The broker's publisher with the spec's contracts. Without settings, on a broker whose publisher takes them, a
    warning names what is missing; settings with contracts for a broker whose publisher takes none is exit 2."""
    shown = redact(broker_url)
    if not takes_settings(broker):
        if settings is not None and settings.contracts:
            exit_error(f"--spec declares attribute contracts for topic(s) {', '.join(sorted(settings.contracts))}, "
                       f"but broker {shown} sets no broker attributes: is --spec the spec of this broker?")
        return broker.publisher()
    if settings is None:
        click.echo(NO_SPEC_WARNING.format(broker=shown), err=True)
        return broker.publisher()  # type: ignore[call-arg]
    return broker.publisher(settings)  # type: ignore[call-arg]


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
        params = click.get_current_context().params  # `replay --spec`: connect with the spec's security block
        try:
            broker = connect_with_spec(broker_url, params.get("spec_path"), params.get("env"))
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
@spec_options
@click.option("--to", "target", help="publish to this topic (SQS: this queue) instead, reaching every group of it")
@click.option("--dry-run", is_flag=True, help="show what would be replayed; change nothing")
def replay(dlq: DeadLetterQueue, selection: Selection, settings: PublisherSettings | None, target: str | None,
           dry_run: bool) -> None:
    """Send the selected dead letters (same event id) back to the group that failed them, and to no other group
    (embedded: its subscription; Kafka: its first retry topic; SQS: its queue; Pub/Sub: the topic, marked for its
    subscription alone), then remove them from the DLQ. With --spec the replay carries the channel's declared
    attributes, so the group's own subscription filter still selects it (SNS, Pub/Sub)."""
    dlq.settings = settings
    _report("replayed", dlq.replay(selection, dry_run=dry_run, to=target), dry_run)


@dlq.command()
@_queue_options
@_filter_options
@click.option("--dry-run", is_flag=True, help="show what would be purged; change nothing")
def purge(dlq: DeadLetterQueue, selection: Selection, dry_run: bool) -> None:
    """Delete the selected dead letters (all of them without filters)."""
    _report("purged", dlq.purge(selection, dry_run=dry_run), dry_run)
