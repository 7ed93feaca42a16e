"""`edakit lag [serve]`: consumer lag for every broker, as a table, JSON, a refreshing view or a Prometheus exporter."""

from __future__ import annotations

import json
import signal
import sys
import threading
import time
from collections.abc import Sequence

import click

from edakit.cli._problems import exit_error, printable
from edakit.cli.es import DEFAULT_APP, DEFAULT_MODEL
from edakit.observability.exporter import DEFAULT_HOST, DEFAULT_PORT, DEFAULT_SCRAPE_TIMEOUT, LagExporter, serve
from edakit.observability.lag import (MONITORING_API, STORE_TARGET, TARGETS, UNREACHABLE, Collector,
                                      EventStoreCollector, LagError, Report, collect_all, open_target)
from edakit.redact import secrets_in
from edakit.runtime.adapters.base import BrokerError
from edakit.runtime.adapters.urls import BrokerUrlError, reachable_timeout
from edakit.runtime.outbox import DB_SCHEMES

_OPTIONS = [
    click.option("--broker", "brokers", multiple=True, envvar="EDAKIT_BROKER",
                 help=f"broker to report (repeatable): {TARGETS}"),
    click.option("--db", "dbs", multiple=True, envvar="EDAKIT_OUTBOX_DB",
                 help=f"outbox database to report (repeatable): {DB_SCHEMES}"),
    click.option("--table", default="outbox", show_default=True, help="outbox table name"),
    click.option("--store", "store", envvar="EDAKIT_ES_STORE",
                 help=f"{STORE_TARGET}: its relays' and projection's lag (as `edakit es positions`)"),
    click.option("--app", "app_path", default=DEFAULT_APP, show_default=True,
                 help="the store's SchemaApplication (module:Class)"),
    click.option("--query", "query", help="the query database of a read model of --store: its projection's lag"),
    click.option("--model", "model_path", default=DEFAULT_MODEL, show_default=True,
                 help="the ReadModel (module:Class) --query holds"),
    click.option("--group", "groups", multiple=True,
                 help="only these consumer groups / queues / subscriptions (glob, repeatable)"),
    click.option("--gcp-monitoring", is_flag=True,
                 help="read Pub/Sub backlog and oldest unacked age from Cloud Monitoring (Application Default "
                      "Credentials, monitoring.read)"),
]


def _target_options(command):  # noqa: ANN001, ANN202 - click decorators
    for option in reversed(_OPTIONS):
        command = option(command)
    return command


def _open(brokers: Sequence[str], dbs: Sequence[str], table: str, groups: Sequence[str], gcp_monitoring: bool,
          store: EventStore) -> list[Collector]:
    urls = [*brokers, *dbs]
    if not urls and store.url is None:
        raise click.UsageError("give at least one --broker, --db or --store")
    if store.query is not None and store.url is None:
        raise click.UsageError("--query needs the --store its read model is projected from")
    collectors: list[Collector] = []
    for url in urls:
        try:
            collectors.append(open_target(url, groups=groups, table=table,
                                          gcp_monitoring=MONITORING_API if gcp_monitoring else None))
        except (BrokerUrlError, BrokerError) as exc:
            exit_error(exc, secrets_in(url))
    if store.url is not None:
        try:
            collectors.append(EventStoreCollector(store.url, store.app, store.query, store.model))
        except BrokerUrlError as exc:
            exit_error(exc, store.secrets())
    return collectors


class EventStore:
    """--store, --app, --query, --model: the event store whose relays (and one read model's projection) to report."""

    def __init__(self, url: str | None, app: str, query: str | None, model: str) -> None:
        self.url, self.app, self.query, self.model = url, app, query, model

    def secrets(self) -> list[str]:
        return [secret for url in (self.url, self.query) if url for secret in secrets_in(url)]


def _known(brokers: Sequence[str], dbs: Sequence[str], store: EventStore) -> list[str]:
    return [secret for url in (*brokers, *dbs) for secret in secrets_in(url)] + store.secrets()


def _cell(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.1f}"
    return str(value)


def _table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> list[str]:
    cells = [list(header)] + [[_cell(v) for v in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    return ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in cells]


def render(reports: Sequence[Report]) -> str:
    """The reports as text tables, one section per target; notes say what a broker could not tell."""
    out: list[str] = []
    for report in reports:
        out.append(f"{report.kind} {report.target}")
        if report.groups:
            out += _table(["GROUP", "TOPIC", "PARTITION", "COMMITTED", "END", "LAG", "LAG SECONDS"],
                          [(g.group, p.topic, p.partition, p.committed_offset, p.end_offset, p.lag_messages,
                            p.lag_seconds) for g in report.groups for p in g.partitions])
            for g in report.groups:
                members = "members unknown" if g.members is None else f"{g.members} member(s)"
                out.append(f"group {g.group} ({g.state.lower()}, {members}): lag {g.lag_messages} message(s), "
                           f"{_cell(g.lag_seconds)} s; {g.advice_text}")
        dead = {}
        for t in report.topics:
            if t.topic.endswith(".dlq") and t.end_offset > t.start_offset:
                dead[t.topic] = dead.get(t.topic, 0) + t.end_offset - t.start_offset
        if dead:
            out += _table(["DLQ TOPIC", "MESSAGES"], sorted(dead.items()))
        if report.queues:
            out += _table(["QUEUE", "VISIBLE", "IN FLIGHT", "DELAYED", "DLQ", "DLQ DEPTH", "OLDEST SECONDS"],
                          [(q.queue, q.visible, q.in_flight, q.delayed, q.dlq, q.dlq_visible, q.oldest_age_seconds)
                           for q in report.queues])
        if report.subscriptions:
            out += _table(["SUBSCRIPTION", "TOPIC", "DEAD-LETTER TOPIC", "BACKLOG", "OLDEST UNACKED SECONDS"],
                          [(s.subscription, s.topic, s.dead_letter_topic, s.backlog_messages,
                            s.oldest_unacked_age_seconds) for s in report.subscriptions])
        if report.dead_letters:
            out += _table(["SUBSCRIPTION", "DEAD-LETTER BLOBS", "EVENTS", "OLDEST BLOB"],
                          [(d.subscription, d.blobs, d.events, d.oldest_blob.isoformat() if d.oldest_blob else None)
                           for d in report.dead_letters])
        if report.outboxes:
            out += _table(["RELAY", "ROWS", "OLDEST SECONDS", "FAILING", "DEAD LETTERS", "BLOCKING"],
                          [(o.relay, o.rows, o.oldest_age_seconds, o.failing_rows, o.dead_letters,
                            o.dead_letters_blocking) for o in report.outboxes])
        if report.followers:
            out += _table(["FOLLOWER", "NAME", "POSITION", "HEAD", "EVENTS BEHIND", "SECONDS BEHIND"],
                          [(f.follower, f.name, f.position, f.head, f.events_behind, f.seconds_behind)
                           for f in report.followers])
        out += [f"note: {printable(n)}" for n in report.notes]
        out.append("")
    return "\n".join(out).rstrip()


def _collect(collectors: list[Collector], known: list[str]) -> list[Report]:
    try:
        return collect_all(collectors)
    except (*UNREACHABLE, LagError, BrokerError, BrokerUrlError) as exc:
        exit_error(exc, known)


@click.group(invoke_without_command=True)
@_target_options
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.option("--watch", type=click.FloatRange(min=0.5), metavar="SECONDS",
              help="refresh in place every SECONDS until Ctrl-C")
@click.pass_context
def lag(ctx: click.Context, brokers: tuple[str, ...], dbs: tuple[str, ...], table: str, store: str | None,
        app_path: str, query: str | None, model_path: str, groups: tuple[str, ...], gcp_monitoring: bool, fmt: str,
        watch: float | None) -> None:
    """Consumer lag per broker: Kafka per group and partition (messages and seconds, and whether to add consumers or
    partitions), SQS queue depths and their DLQs, Pub/Sub subscriptions, Event Grid dead letters, outbox rows, and an
    event store's relays and projection (events behind the log head and the oldest one's age).

    Exit codes: 0 ok, 2 bad input or a target that does not answer (one line on stderr: an unreachable broker is
    never reported as an empty table). `edakit lag serve` exports the same figures to Prometheus.
    """
    if ctx.invoked_subcommand is not None:
        return
    events = EventStore(store, app_path, query, model_path)
    collectors = _open(brokers, dbs, table, groups, gcp_monitoring, events)
    known = _known(brokers, dbs, events)
    reports = _collect(collectors, known)
    show = (lambda r: json.dumps([x.to_json() for x in r], indent=2)) if fmt == "json" else render
    if watch is None:
        click.echo(show(reports))
        return
    failure: str | None = None
    home = "\x1b[H\x1b[2J" if sys.stdout.isatty() else "\n"  # a pipe gets one snapshot after another
    try:
        while True:
            # Home and clear-to-end, then the new figures: the view refreshes in place instead of scrolling. A target
            # that stops answering while watched shows its error in place of the figures until it answers again.
            body = f"error: {failure}" if failure else show(reports)
            sys.stdout.write(home + time.strftime("%H:%M:%S ") + f"every {watch:g} s, Ctrl-C stops\n" + body + "\n")
            sys.stdout.flush()
            time.sleep(watch)
            try:
                reports, failure = collect_all(collectors), None
            except (*UNREACHABLE, LagError, BrokerError, BrokerUrlError) as exc:
                failure = " ".join(printable(exc, known).split())
    except KeyboardInterrupt:
        pass


@lag.command("serve")
@_target_options
@click.option("--host", default=DEFAULT_HOST, show_default=True, help="address to listen on")
@click.option("--port", default=DEFAULT_PORT, show_default=True, type=click.IntRange(0, 65535))
@click.option("--scrape-timeout", default=DEFAULT_SCRAPE_TIMEOUT, show_default=True, type=click.FloatRange(min=0.1),
              help="seconds one scrape waits for all targets; a target still busy then reports "
                   "edakit_lag_scrape_success 0")
def serve_command(brokers: tuple[str, ...], dbs: tuple[str, ...], table: str, store: str | None, app_path: str,
                  query: str | None, model_path: str, groups: tuple[str, ...], gcp_monitoring: bool, host: str,
                  port: int, scrape_timeout: float) -> None:
    """Serve the same figures on http://HOST:PORT/metrics for Prometheus, until SIGTERM or Ctrl-C.

    Every target is checked once at start (exit 2 if one does not answer); afterwards a target that fails or hangs
    reports edakit_lag_scrape_success{target} 0 and the others still report.
    """
    events = EventStore(store, app_path, query, model_path)
    collectors = _open(brokers, dbs, table, groups, gcp_monitoring, events)
    known = _known(brokers, dbs, events)
    for collector in collectors:
        try:
            collector.check(reachable_timeout())
        except (*UNREACHABLE, LagError, BrokerError, BrokerUrlError) as exc:
            exit_error(exc, known)
    exporter = LagExporter(collectors, scrape_timeout=scrape_timeout)
    try:
        server, bound = serve(exporter, host, port)
    except OSError as exc:
        exit_error(f"cannot listen on {host}:{port}: {exc}")
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    click.echo(f"serving http://{host}:{bound}/metrics for {len(collectors)} target(s); SIGTERM or Ctrl-C stops",
               err=True)
    sys.stderr.flush()
    stop.wait()
    server.shutdown()  # type: ignore[attr-defined]
    exporter.close()
