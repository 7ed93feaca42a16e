"""Order fan-out on the embedded SQLite broker: outbox -> relay -> Email, Billing and Audit consumer groups.

What happens, in order (no servers needed; every database is a SQLite file in --db-dir):
1. The Order service writes each order row and its OrderPlaced event into the outbox in one transaction.
2. The relay publishes the outbox. An injected crash after the broker acked but before the outbox rows were
   deleted makes the restarted relay publish that event again: a duplicate, never a loss.
3. Each consumer group runs tracing -> retry -> idempotency -> handler; the idempotency record commits in the
   same SQLite transaction as the group's business write, so the duplicate is skipped.
4. Billing has a bug (it requires `currency`, which the schema lets producers omit, default USD): that order
   exhausts its retries and lands in the billing DLQ with the reason.
5. Billing is fixed and the DLQ replayed (same event id): Billing invoices the order; Email and Audit never see
   the replay (it goes to the group that dead-lettered it only).

Tracing: the demo installs the OpenTelemetry SDK (the application's choice; the kit uses the API only). Each order
is one trace from the request through the outbox write, the relay's send and every group's processing, retries
and the replay included. `--trace` prints the trace trees; OTEL_EXPORTER_OTLP_ENDPOINT sends them to a collector
(with `opentelemetry-exporter-otlp-proto-http` installed).

The runtime's guide, tools/edakit/runtime/README.md, quotes this file.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sqlite3
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from edakit.runtime.adapters.base import Delivery, Publisher
from edakit.runtime.adapters.embedded import EmbeddedBroker
from edakit.runtime.dlq import DeadLetterQueue, Selection
from edakit.runtime.idempotency import SqlIdempotencyStore, transactional
from edakit.runtime.message import Message
from edakit.runtime.middleware import (
    Handler,
    Middleware,
    RetryPolicy,
    Router,
    compose,
    retry,
    tracer,
    tracing,
)
from edakit.runtime.outbox import OutboxEvent, Relay, SqliteOutbox, append, create_schema
from edakit.schemas import validate_document

ROOT = Path(__file__).resolve().parents[2]
ORDER_PLACED_SCHEMA = ROOT / "schemas/order-events/v1/order-placed.schema.json"
TOPIC = "order-placed"  # the channel name used by configs/order-events-*.yaml
GROUPS = ("email", "billing", "audit")
DB_FILES = ("orders.sqlite3", "broker.sqlite3", *(f"{group}.sqlite3" for group in GROUPS))

# (order id, customer id, items, currency); the last order omits the currency, as the schema allows.
ORDERS = [
    ("ord-1001", "cus-42", [("sku-123", 2, 19.99), ("sku-777", 1, 5.0)], "EUR"),
    ("ord-1002", "cus-7", [("sku-555", 1, 120.0)], "GBP"),
    ("ord-1003", "cus-42", [("sku-123", 3, 19.99)], "EUR"),
    ("ord-1004", "cus-9", [("sku-900", 1, 9.5)], None),
]


def say(text: str) -> None:
    print(text, flush=True)


# 1. Order service --------------------------------------------------------------------------------------------


def order_placed_payload(event_id: str, order_id: str, customer_id: str,
                         items: Sequence[tuple[str, int, float]], currency: str | None) -> dict[str, object]:
    payload: dict[str, object] = {
        "event_id": event_id,
        "event_time": time.time_ns() // 1_000_000,
        "order_id": order_id,
        "customer_id": customer_id,
        "items": [{"product_id": p, "quantity": q, "unit_price": price} for p, q, price in items],
        "total_amount": round(sum(q * price for _, q, price in items), 2),
    }
    if currency is not None:
        payload["currency"] = currency
    # Producers check their payload against the registered schema before it can reach any consumer.
    if errors := validate_document(ORDER_PLACED_SCHEMA, payload):
        raise ValueError(f"OrderPlaced payload for {order_id} does not match {ORDER_PLACED_SCHEMA}: {errors}")
    return payload


def place_order(orders_db: sqlite3.Connection, order_id: str, customer_id: str,
                items: Sequence[tuple[str, int, float]], currency: str | None) -> OutboxEvent:
    event_id = str(uuid.uuid4())
    payload = order_placed_payload(event_id, order_id, customer_id, items, currency)
    event = OutboxEvent(aggregate_type="order", aggregate_id=order_id, event_type="OrderPlaced",
                        payload=json.dumps(payload).encode(), topic=TOPIC, source="/services/order",
                        event_id=event_id)
    # the root span of this request; append stores its context with the event, which carries it to every consumer
    with tracer().start_as_current_span("place order", kind=trace.SpanKind.SERVER) as request_span:
        trace_id = f"{request_span.get_span_context().trace_id:032x}"
        with orders_db:  # one transaction: the order row and its event commit together, or neither does
            orders_db.execute("INSERT INTO orders (order_id, customer_id, total_amount, trace_id) "
                              "VALUES (?, ?, ?, ?)", (order_id, customer_id, payload["total_amount"], trace_id))
            append(orders_db, [event])
    return event


# 2. Relay ----------------------------------------------------------------------------------------------------


class RelayCrash(RuntimeError):
    pass


class CrashAfterAck:
    """Fault injection: publishes for real, then dies before the relay can delete the rows (like a SIGKILL)."""

    def __init__(self, publisher: Publisher) -> None:
        self.publisher = publisher

    def publish(self, topic: str, messages: Sequence[Message]) -> None:
        self.publisher.publish(topic, messages)
        raise RelayCrash(f"relay killed after the broker acked {len(messages)} event(s)")

    def close(self) -> None:
        self.publisher.close()


def relay_outbox(orders_path: Path, broker: EmbeddedBroker) -> None:
    outbox = SqliteOutbox(orders_path)
    publisher = broker.publisher()
    say(f"  outbox lag before: {outbox.lag().rows} rows")
    try:
        Relay(outbox, CrashAfterAck(publisher), batch_size=1).drain()
    except RelayCrash as crash:
        say(f"  injected crash: {crash}, before deleting its outbox row")
    published = Relay(outbox, publisher, batch_size=100).drain()
    say(f"  relay restarted: published {published} events (the first one again: at-least-once); "
        f"outbox lag after: {outbox.lag().rows} rows")
    outbox.close()
    publisher.close()


# 3. Consumers ------------------------------------------------------------------------------------------------

BUSINESS_TABLES = {  # consumer group -> (its business table, columns)
    "email": ("sent_emails", "order_id TEXT NOT NULL, customer_id TEXT NOT NULL, subject TEXT NOT NULL"),
    "billing": ("invoices", "order_id TEXT NOT NULL, amount REAL NOT NULL, currency TEXT NOT NULL"),
    "audit": ("audit_log", "event_id TEXT NOT NULL, event_type TEXT NOT NULL, order_id TEXT NOT NULL, "
                           "trace_id TEXT NOT NULL"),
}
Effect = Callable[[Message, sqlite3.Connection], str]  # the business write; returns what it did, for the log


def send_confirmation(message: Message, tx: sqlite3.Connection) -> str:
    order = json.loads(message.payload)
    tx.execute("INSERT INTO sent_emails VALUES (?, ?, ?)",
               (order["order_id"], order["customer_id"], f"Your order {order['order_id']} is confirmed"))
    return f"confirmation sent to {order['customer_id']}"


def invoice_with_bug(message: Message, tx: sqlite3.Connection) -> str:
    order = json.loads(message.payload)
    currency = order["currency"]  # the bug: `currency` is optional in the schema
    tx.execute("INSERT INTO invoices VALUES (?, ?, ?)", (order["order_id"], order["total_amount"], currency))
    return f"invoiced {order['total_amount']:.2f} {currency}"


def invoice(message: Message, tx: sqlite3.Connection) -> str:
    order = json.loads(message.payload)
    currency = order.get("currency", "USD")  # the fix: the schema's default
    tx.execute("INSERT INTO invoices VALUES (?, ?, ?)", (order["order_id"], order["total_amount"], currency))
    return f"invoiced {order['total_amount']:.2f} {currency}"


def record_audit_entry(message: Message, tx: sqlite3.Connection) -> str:
    span = trace.get_current_span()  # the process span the tracing middleware opened, the outermost one
    trace_id = f"{span.get_span_context().trace_id:032x}"
    tx.execute("INSERT INTO audit_log VALUES (?, ?, ?, ?)",
               (message.id, message.type, json.loads(message.payload)["order_id"], trace_id))
    return f"audit entry, trace {trace_id[:8]}..."


@dataclass
class Consumer:
    """One consumer group: its own service database holding its business table and idempotency records."""

    group: str
    db: sqlite3.Connection
    store: SqlIdempotencyStore
    effect: Effect
    done: str = ""  # what the last handler run did, or why it did not run
    skipped: int = 0

    def skip(self, delivery: Delivery) -> None:
        self.skipped += 1
        self.done = f"skipped: event {delivery.message.id[:8]}... already processed"


def open_consumer(db_dir: Path, group: str, effect: Effect) -> Consumer:
    db = sqlite3.connect(db_dir / f"{group}.sqlite3")
    store = SqlIdempotencyStore(consumer=group, window_hours=24)
    table, columns = BUSINESS_TABLES[group]
    with db:
        db.execute(f"CREATE TABLE IF NOT EXISTS {table} ({columns})")
        store.create_schema(db)
    return Consumer(group, db, store, effect)


def logged(consumer: Consumer, policy: RetryPolicy) -> Middleware:
    """Prints one line per delivery attempt; sits between retry and the handler, so it sees failures."""

    def middleware(next_handler: Handler) -> Handler:
        def handle(delivery: Delivery) -> None:
            where = f"  {consumer.group:<8} {delivery.message.key}  attempt {delivery.attempt}"
            try:
                next_handler(delivery)
            except Exception as error:
                then = "retry later" if policy.should_retry(error, delivery.attempt) else "dead-letter"
                say(f"{where}  failed: {type(error).__name__}: {error} -> {then}")
                raise
            say(f"{where}  {consumer.done}")

        return handle

    return middleware


def chain(consumer: Consumer, policy: RetryPolicy) -> Handler:
    def business_write(delivery: Delivery, tx: sqlite3.Connection) -> None:
        consumer.done = consumer.effect(delivery.message, tx)

    # One transaction per delivery on the group's database: the idempotency record and the business write
    # commit together (or roll back together); a duplicate calls `consumer.skip` instead of the handler.
    handler = transactional(consumer.db, consumer.store, business_write, on_duplicate=consumer.skip)
    return compose(handler, tracing(), retry(policy), logged(consumer, policy))


def consume_until_idle(broker: EmbeddedBroker, consumer: Consumer, policy: RetryPolicy) -> None:
    router = Router(broker.subscriber(TOPIC, consumer.group), chain(consumer, policy))
    # Idle longer than the longest retry delay, so an empty receive means the group is drained, retries included.
    router.run_until_idle(idle_timeout=policy.max_delay + 0.2)
    router.subscriber.close()


# Tracing -----------------------------------------------------------------------------------------------------

OTLP_PACKAGE = "opentelemetry-exporter-otlp-proto-http"


def configure_tracing(print_trees: bool) -> InMemorySpanExporter | None:
    """The application's tracing setup: an SDK provider; spans to OTLP when OTEL_EXPORTER_OTLP_ENDPOINT (or
    OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) is set, and kept in memory for `--trace`. Returns that in-memory exporter."""
    provider = TracerProvider(resource=Resource.create({"service.name": "order-fanout"}))
    if os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") or os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"):
        try:
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        except ImportError:
            raise SystemExit(f"OTEL_EXPORTER_OTLP_ENDPOINT is set: install {OTLP_PACKAGE} "
                             f"(pip install {OTLP_PACKAGE}) to export to it, or unset it") from None
        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))  # reads the OTEL_EXPORTER_OTLP_* env
    exporter = InMemorySpanExporter() if print_trees else None
    if exporter is not None:
        provider.add_span_processor(SimpleSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    return exporter


def _label(span: ReadableSpan) -> str:
    attributes = span.attributes or {}
    group = attributes.get("messaging.consumer.group.name")
    kind = span.kind.name.lower()
    error = f" ERROR {attributes.get('error.type')}" if span.status.status_code == trace.StatusCode.ERROR else ""
    return f"{span.name} [{kind}]" + (f" group={group}" if group else "") + error


def print_trace_trees(spans: Sequence[ReadableSpan]) -> None:
    """One tree per trace, children in start order; a batch send, which links its messages' creation contexts
    rather than having one parent, is shown under each message it carried."""
    children: dict[int | None, list[ReadableSpan]] = {}
    ids = {s.context.span_id for s in spans}
    for span in sorted(spans, key=lambda s: s.start_time or 0):
        parent = span.parent.span_id if span.parent is not None and span.parent.span_id in ids else None
        if parent is None and span.links:
            for link in span.links:
                children.setdefault(link.context.span_id, []).append(span)
        else:
            children.setdefault(parent, []).append(span)

    def show(span: ReadableSpan, depth: int, linked: bool) -> None:
        say(f"  {'  ' * depth}{'~ ' if linked else ''}{_label(span)}")
        for child in children.get(span.context.span_id, []):
            show(child, depth + 1, child.parent is None or child.parent.span_id != span.context.span_id)

    for root in children.get(None, []):
        if root.links:
            continue  # shown under the messages it links
        say(f"\n  trace {root.context.trace_id:032x}")
        show(root, 0, False)


# 4./5. DLQ and replay ----------------------------------------------------------------------------------------


def show_dead_letters(dlq: DeadLetterQueue) -> None:
    letters = dlq.list()
    say(f"  {len(letters)} message(s) in the DLQ of {TOPIC}/{dlq.group}")
    for letter in letters:
        r = letter.reason
        assert r is not None  # the retry middleware always records why
        say(f"  {letter.message.id} {letter.message.type} key={letter.message.key}: {r.error_type}: "
            f"{r.error_message} after {r.attempts} attempts (from {r.original_source})")


def summary(consumers: Sequence[Consumer], dlq: DeadLetterQueue) -> None:
    for c in consumers:
        table = BUSINESS_TABLES[c.group][0]
        rows, orders = c.db.execute(f"SELECT count(*), count(DISTINCT order_id) FROM {table}").fetchone()
        say(f"  {c.group:<8} {rows} rows in {table} for {orders} orders; {c.skipped} duplicate(s) skipped")
    say(f"  DLQ of {TOPIC}/{dlq.group}: {len(dlq.list())} message(s)")


def run(db_dir: Path, *, max_attempts: int, replay: bool, print_trees: bool = False) -> None:
    exporter = configure_tracing(print_trees)
    say(f"databases in {db_dir}")
    orders_db = sqlite3.connect(db_dir / "orders.sqlite3")
    orders_db.execute("CREATE TABLE IF NOT EXISTS orders (order_id TEXT PRIMARY KEY, customer_id TEXT NOT NULL, "
                      "total_amount REAL NOT NULL, trace_id TEXT NOT NULL)")
    create_schema(orders_db)
    broker = EmbeddedBroker(db_dir / "broker.sqlite3")
    for group in GROUPS:  # subscriptions first: a group receives what is published after it exists
        broker.create_group(TOPIC, group)
    billing = open_consumer(db_dir, "billing", invoice_with_bug)
    consumers = [open_consumer(db_dir, "email", send_confirmation), billing,
                 open_consumer(db_dir, "audit", record_audit_entry)]
    policy = RetryPolicy(max_attempts=max_attempts, base_delay=0.02, max_delay=0.1)

    say("\n1. Order service: each order row and its OrderPlaced event commit in one transaction")
    for order_id, customer_id, items, currency in ORDERS:
        event = place_order(orders_db, order_id, customer_id, items, currency)
        say(f"  {order_id} for {customer_id}: outbox event {event.event_id}")

    say(f"\n2. Relay: outbox -> embedded broker, topic {TOPIC!r}")
    relay_outbox(db_dir / "orders.sqlite3", broker)

    say(f"\n3. Consumer groups: tracing -> retry (max {max_attempts} attempts) -> idempotency -> handler")
    for consumer in consumers:
        consume_until_idle(broker, consumer, policy)

    say("\n4. Dead letters")
    dlq = DeadLetterQueue(broker, TOPIC, "billing", wait=0.2)
    show_dead_letters(dlq)

    if replay:
        say("\n5. Billing fixed (currency defaults to USD, as the schema says); replaying its DLQ, same event ids")
        billing.effect = invoice
        outcome = dlq.replay(Selection(error_type="KeyError"))
        say(f"  replayed {len(outcome.done)}, failed {len(outcome.failed)}, not selected {outcome.kept}"
            f" (same as: edakit dlq replay --broker embedded:{broker.path} --topic {TOPIC} --group billing"
            f" --error KeyError)")
        for consumer in consumers:  # the replay reaches billing alone; the others find nothing new
            consume_until_idle(broker, consumer, policy)
    else:
        say(f"\n5. Not replayed (--no-replay). Inspect it: edakit dlq ls --broker embedded:{broker.path}"
            f" --topic {TOPIC} --group billing")

    say("\nSummary")
    summary(consumers, dlq)
    for consumer in consumers:
        consumer.db.close()
    orders_db.close()
    if exporter is not None:
        say("\nTraces (~ marks a batch send, linked to the messages it carried rather than their child)")
        print_trace_trees(exporter.get_finished_spans())


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Order fan-out on the embedded SQLite broker: transactional outbox, relay with an injected "
                    "crash, Email/Billing/Audit consumer groups with retry and idempotency, a poison message in "
                    "the DLQ, and its replay after the fix. Needs no servers.")
    parser.add_argument("--db-dir", type=Path, metavar="DIR",
                        help="new or empty directory for the SQLite files (orders, broker, one per consumer group), "
                             "kept after the run; default: a fresh temporary directory")
    parser.add_argument("--max-attempts", type=int, default=3, metavar="N",
                        help="deliveries of a failing message before it is dead-lettered (default: %(default)s)")
    parser.add_argument("--no-replay", action="store_true",
                        help="leave the poison message in the DLQ, to try `edakit dlq ls|show|replay` on it")
    parser.add_argument("--trace", action="store_true",
                        help="print each order's OpenTelemetry trace tree at the end (OTEL_EXPORTER_OTLP_ENDPOINT "
                             f"also exports them, with {OTLP_PACKAGE} installed)")
    args = parser.parse_args(argv)
    if args.max_attempts < 1:
        parser.error(f"--max-attempts: expected at least 1, got {args.max_attempts}")
    db_dir = args.db_dir or Path(tempfile.mkdtemp(prefix="edakit-order-fanout-"))
    if db_dir.exists() and not db_dir.is_dir():
        parser.error(f"--db-dir {db_dir}: exists and is not a directory")
    if leftovers := [name for name in DB_FILES if (db_dir / name).exists()]:
        parser.error(f"--db-dir {db_dir}: already holds {', '.join(leftovers)} from an earlier run; "
                     f"pass a new or empty directory")
    db_dir.mkdir(parents=True, exist_ok=True)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")  # the runtime's own log
    try:
        run(db_dir, max_attempts=args.max_attempts, replay=not args.no_replay, print_trees=args.trace)
    except SystemExit as refused:
        if isinstance(refused.code, str):
            parser.error(refused.code)  # a setting that cannot work: one line, exit 2
        raise
    return 0


if __name__ == "__main__":
    sys.exit(main())
