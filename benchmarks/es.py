"""The event store (edakit.es, on pyeventsourcing) against the same work without the kit's layer.

SQLite (group "es"):
- event_store_append_ratio: events/s saved through `Orders` (SchemaMapper: the schema payload, validated) / the same
  application class and the same Order aggregates saved with pyeventsourcing's default mapper and transcoder
  (class-path topics, the event's whole state). One `save` per command, one Placed event each, aggregates built
  before the clock starts; each side has its own database file.
- projection_catchup_ratio: events/s of `Projector.drain` into the OrderSummaries read model (one transaction per
  batch of PROJECT_BATCH: the rows and the tracking record) / a raw loop on sqlite3 reading the same log rows
  (`rowid > ?`, the same topic filter), decoding each state with orjson and doing the same INSERT, its position
  upserted in the same transaction. Both write the same table of one query database, emptied before each run.

PostgreSQL and Kafka on Tansu (group "es_relay"):
- event_store_relay_ratio: events/s of `EventStoreRelay.drain` (notification log -> Kafka, acknowledged, position
  tracked) / the outbox `Relay.drain` of the same payloads (byte for byte), keys and topic, in the same database,
  into the same Tansu, at the same batch size.
"""

from __future__ import annotations

import itertools
import sqlite3
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

import orjson
import psycopg
from eventsourcing.application import Application
from eventsourcing.persistence import Mapper, Tracking

from benchmarks.harness import Figure, Group, Sides
from edakit.devservers import postgres_server, tansu_broker
from edakit.es.orders import Order, Orders, OrderSummaries
from edakit.es.projection import Projector, open_view
from edakit.es.relay import EventStoreRelay
from edakit.es.store import store_env
from edakit.runtime.adapters.kafka import KafkaBroker
from edakit.runtime.message import Message
from edakit.runtime.outbox import OutboxEvent, PostgresOutbox, Relay, append
from edakit.runtime.outbox import postgres as pg_outbox

APPEND_EVENTS = 3_000
PROJECT_EVENTS, PROJECT_BATCH = 5_000, 100
RELAY_EVENTS, RELAY_BATCH = 10_000, 500
RELAY_TOPIC = "bench.es"
ITEMS = [{"product_id": "p-1", "quantity": 2, "unit_price": 9.5}, {"product_id": "p-2", "quantity": 1,
                                                                      "unit_price": 20.0}]
ADDRESS = {"line1": "1 Main St", "city": "Springfield", "postal_code": "12345", "country": "US"}


class DefaultMapperOrders(Orders):
    """The same application with pyeventsourcing's own mapper: the append figure's baseline."""

    def construct_mapper(self) -> Mapper[Any]:
        return Application.construct_mapper(self)


def placed_orders(count: int, offset: int = 0) -> list[Order]:
    """`count` new Order aggregates, each holding its one pending Placed event."""
    return [Order(f"c-{offset + n}", ITEMS, 39.0, "EUR", ADDRESS, "web") for n in range(count)]


def _save_each(app: Application[Any], orders: list[Order]) -> float:
    start = time.perf_counter()
    save = app.save
    for order in orders:
        save(order)
    return time.perf_counter() - start


@dataclass(frozen=True)
class Workdir:
    path: Path


# SQLite files in memory where the machine has it: a commit's fsync (about 3 ms on this disk, varying with other
# processes' I/O) would otherwise be most of both sides' time and bury the kit's share in its noise.
SHM = Path("/dev/shm")


@contextmanager
def workdir() -> Iterator[Workdir]:
    with TemporaryDirectory(prefix="edakit-bench-es-", dir=SHM if SHM.is_dir() else None) as path:
        yield Workdir(Path(path))


# --- append ---------------------------------------------------------------------------------------------------


def _append(ctx: Workdir) -> Sides:
    kit = Orders(env=store_env(f"sqlite:{ctx.path / 'append-kit.db'}"))
    default = DefaultMapperOrders(env=store_env(f"sqlite:{ctx.path / 'append-default.db'}"))
    rounds = itertools.count()

    def side(app: Application[Any]) -> float:
        orders = placed_orders(APPEND_EVENTS, next(rounds) * APPEND_EVENTS)
        head = app.recorder.max_notification_id() or 0
        elapsed = _save_each(app, orders)
        if (app.recorder.max_notification_id() or 0) - head != APPEND_EVENTS:
            raise RuntimeError(f"append bench: {type(app).__name__} did not store {APPEND_EVENTS} events")
        return elapsed

    def close() -> None:
        kit.close()
        default.close()

    return Sides(kit=lambda: side(kit), baseline=lambda: side(default), items=APPEND_EVENTS, close=close)


# --- projection catch-up ----------------------------------------------------------------------------------------


def _projection(ctx: Workdir) -> Sides:
    events_db, query_db = ctx.path / "project-events.db", ctx.path / "project-query.db"
    app = Orders(env=store_env(f"sqlite:{events_db}"))
    for first in range(0, PROJECT_EVENTS, 500):
        app.save(*placed_orders(min(500, PROJECT_EVENTS - first), first))
    view = open_view(OrderSummaries, f"sqlite:{query_db}")
    projector = Projector(app, view, batch_size=PROJECT_BATCH)
    topics = projector.topics
    log = sqlite3.connect(events_db, isolation_level=None)
    query = sqlite3.connect(query_db, isolation_level=None)
    query.execute("CREATE TABLE IF NOT EXISTS raw_position (name TEXT PRIMARY KEY, position INTEGER NOT NULL)")
    select = (f"SELECT rowid, originator_id, originator_version, state FROM stored_events WHERE rowid > ? "
              f"AND topic IN ({','.join('?' * len(topics))}) ORDER BY rowid LIMIT ?")
    insert = ("INSERT INTO order_summaries VALUES (?, ?, 'placed', ?, ?, ?, ?) ON CONFLICT (order_id) DO NOTHING")

    def reset() -> None:
        query.execute("DELETE FROM order_summaries")
        query.execute("DELETE FROM raw_position")
        view.forget(projector.tracking_name)

    def projected() -> int:
        return int(query.execute("SELECT count(*) FROM order_summaries").fetchone()[0])

    def raw() -> float:
        reset()
        start = time.perf_counter()
        position = 0
        loads = orjson.loads
        while True:
            rows = log.execute(select, (position, *topics, PROJECT_BATCH)).fetchall()
            if not rows:
                break
            query.execute("BEGIN")
            for _rowid, originator_id, version, state in rows:
                p = loads(state)
                if query.execute(insert, (p["order_id"], p["customer_id"], p["total_amount"], p["currency"],
                                          p["sales_channel"], version)).rowcount != 1:
                    raise RuntimeError(f"projection bench: order {originator_id} inserted twice")
            position = rows[-1][0]
            query.execute("INSERT INTO raw_position VALUES ('raw', ?) ON CONFLICT (name) DO UPDATE SET "
                          "position = excluded.position", (position,))
            query.execute("COMMIT")
        elapsed = time.perf_counter() - start
        if projected() != PROJECT_EVENTS:
            raise RuntimeError(f"projection bench: the raw loop projected {projected()} of {PROJECT_EVENTS}")
        return elapsed

    def kit() -> float:
        reset()
        start = time.perf_counter()
        count = projector.drain()
        elapsed = time.perf_counter() - start
        if count != PROJECT_EVENTS or projected() != PROJECT_EVENTS:
            raise RuntimeError(f"projection bench: the projector projected {projected()} of {PROJECT_EVENTS}")
        return elapsed

    def close() -> None:
        log.close()
        query.close()
        app.close()

    return Sides(kit=kit, baseline=raw, items=PROJECT_EVENTS, close=close)


# --- relay -------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Servers:
    pg_url: str
    broker: Any  # a kit broker with publisher() (KafkaBroker on Tansu in `make bench`)


@contextmanager
def servers() -> Iterator[Servers]:
    with ExitStack() as stack:
        pg_url = stack.enter_context(postgres_server())
        kafka = KafkaBroker(stack.enter_context(tansu_broker()))
        kafka.create_topics([RELAY_TOPIC])
        yield Servers(pg_url, kafka)


def _relay(ctx: Servers) -> Sides:
    app = Orders(env=store_env(ctx.pg_url))
    head = app.recorder.max_notification_id() or 0
    for first in range(0, RELAY_EVENTS, 500):
        app.save(*placed_orders(min(500, RELAY_EVENTS - first), first))
    stored = app.recorder.select_notifications(start=head, limit=RELAY_EVENTS, inclusive_of_start=False)
    conn = psycopg.connect(ctx.pg_url, autocommit=True)
    pg_outbox.create_schema(conn)
    conn.execute("TRUNCATE outbox")
    with conn.transaction():
        append(conn, [OutboxEvent(aggregate_type="Order", aggregate_id=str(n.originator_id),
                                  event_type="com.edakit.orders.OrderPlaced", payload=n.state, topic=RELAY_TOPIC,
                                  source="/bench") for n in stored])
    conn.execute("DROP TABLE IF EXISTS bench_es_outbox_rows")
    conn.execute("CREATE TABLE bench_es_outbox_rows AS SELECT * FROM outbox")
    store, publisher = PostgresOutbox(ctx.pg_url), ctx.broker.publisher()
    publisher.publish(RELAY_TOPIC, [Message.new("Warmup", b"{}", source="/bench")])  # metadata, connection
    rounds = itertools.count()

    def outbox() -> float:
        conn.execute("TRUNCATE outbox")  # the same rows (ids included) every run, copied in SQL: not timed
        conn.execute("INSERT INTO outbox OVERRIDING SYSTEM VALUE SELECT * FROM bench_es_outbox_rows")
        conn.execute("ANALYZE outbox")
        start = time.perf_counter()
        sent = Relay(store, publisher, batch_size=RELAY_BATCH).drain()
        elapsed = time.perf_counter() - start
        if sent != RELAY_EVENTS or store.lag().rows:
            raise RuntimeError(f"relay bench: the outbox relay sent {sent} of {RELAY_EVENTS}")
        return elapsed

    def kit() -> float:  # a new relay name each run: the same log, from the start, to the same topic
        relay = EventStoreRelay(app, publisher, name=f"bench-{head}-{next(rounds)}",
                                topic_of=lambda _: RELAY_TOPIC, batch_size=RELAY_BATCH)
        if head:  # events of an earlier run in the same database are not this run's work
            relay.tracking.insert_tracking(Tracking(relay.tracking_name, head))
        start = time.perf_counter()
        sent = relay.drain()
        elapsed = time.perf_counter() - start
        if sent != RELAY_EVENTS:
            raise RuntimeError(f"relay bench: the event-store relay sent {sent} of {RELAY_EVENTS}")
        return elapsed

    def close() -> None:
        store.close()
        publisher.close()
        conn.close()
        app.close()

    return Sides(kit=kit, baseline=outbox, items=RELAY_EVENTS, close=close)


GROUP = Group("es", [
    Figure("event_store_append_ratio", "the same Orders application and aggregates saved with pyeventsourcing's "
           "default mapper and transcoder, one save per command, SQLite", _append, target=(">=", 0.8), budget=15),
    Figure("projection_catchup_ratio", "raw sqlite3 loop over the same log rows: orjson decode, the same INSERT and "
           "a position upsert in one transaction per 100", _projection, target=(">=", 0.7), budget=15),
], context=workdir)

RELAY = Group("es_relay", [
    Figure("event_store_relay_ratio", "the outbox Relay.drain of the same payloads, keys and topic from the same "
           "PostgreSQL into the same Tansu, 500 per batch", _relay, target=(">=", 0.8), budget=25, max_rounds=15),
], context=servers)
