"""The publish, relay and consume paths on real servers (PostgreSQL, Kafka on Tansu), each against the loop a
service without the kit would write with the same client library.

- kafka_publish_ratio: messages/s through KafkaPublisher.publish (batches of PUBLISH_BATCH, each returning once all
  are acknowledged) / raw confluent-kafka `produce` called positionally, as the adapter calls it, with records
  encoded before the clock starts, and `flush` per batch, failures checked; the same producer config
  (KafkaBroker.producer_config, a delivery callback that collects failures).
  The gap is the adapter's Message -> record encoding (kafka_encode_us_per_msg) and its ack bookkeeping.
- kafka_encode_us_per_msg: microseconds per message of that encoding alone (the CloudEvents headers).
- outbox_relay_ratio: rows/s of Relay.drain (PostgreSQL outbox -> Kafka, acked, deleted) / a raw loop doing the same
  work: claim a batch with `DELETE ... WHERE id IN (SELECT ... FOR UPDATE SKIP LOCKED LIMIT n) RETURNING`, produce
  each row positionally with its CloudEvents headers built inline, flush, check no delivery failed, commit.
- outbox_append_lock_ratio: appends/s of OUTBOX_WRITERS concurrent writers (one event per transaction) through
  `append`, whose advisory lock makes them commit in id order, / the same inserts without the lock
  (`writer.insert`). What ordering costs, not a target: writers of one table commit one at a time.
- idempotent_consumer_cost_ratio: seconds per delivery of the transactional idempotent handler (record + business
  write in one transaction) / a bare `INSERT ... ON CONFLICT DO NOTHING` + the same business write in one
  transaction (fresh deliveries every round, so neither side ever sees a duplicate).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from tempfile import TemporaryDirectory

import orjson
import psycopg
from confluent_kafka import Producer

from benchmarks.harness import Figure, Group, Sides
from edakit.devservers import postgres_server, tansu_broker
from edakit.runtime.adapters.embedded import EmbeddedBroker
from edakit.runtime.adapters.kafka import KafkaBroker, encode
from edakit.runtime.idempotency import SqlIdempotencyStore, transactional
from edakit.runtime.message import Message
from edakit.runtime.outbox import OutboxEvent, PostgresOutbox, Relay, append
from edakit.runtime.outbox import postgres as pg_outbox
from edakit.runtime.outbox.writer import insert

PUBLISH_MESSAGES, PUBLISH_BATCH = 30_000, 1_000
OUTBOX_EVENTS, OUTBOX_BATCH = 10_000, 500
OUTBOX_WRITERS, APPENDS_PER_WRITER = 4, 150
CONSUMER_EVENTS = 500


@dataclass(frozen=True)
class Servers:
    pg_url: str
    kafka: KafkaBroker
    workdir: Path


@contextmanager
def servers() -> Iterator[Servers]:
    with ExitStack() as stack:
        pg_url = stack.enter_context(postgres_server())
        kafka = KafkaBroker(stack.enter_context(tansu_broker()))
        yield Servers(pg_url, kafka, Path(stack.enter_context(TemporaryDirectory(prefix="edakit-bench-"))))


def _timed(work: Callable[[], object]) -> float:
    start = time.perf_counter()
    work()
    return time.perf_counter() - start


def _messages(count: int) -> list[Message]:
    return [Message.new("OrderPlaced", json.dumps({"n": n, "pad": "x" * 200}).encode(), source="/bench",
                        key=f"o{n % 100}") for n in range(count)]


# --- Kafka publish -------------------------------------------------------------------------------------------


def _kafka_publish(ctx: Servers) -> Sides:
    ctx.kafka.create_topics(["bench.publish"])
    messages = _messages(PUBLISH_MESSAGES)
    records = [encode(m) for m in messages]
    batches = [messages[i:i + PUBLISH_BATCH] for i in range(0, PUBLISH_MESSAGES, PUBLISH_BATCH)]
    failures: list[object] = []  # delivery reports come for failures only (delivery.report.only.error), as the kit's
    producer = Producer({**ctx.kafka.producer_config, "on_delivery": lambda err, _r: err and failures.append(err)})
    publisher = ctx.kafka.publisher()

    def raw() -> float:
        start = time.perf_counter()
        produce = producer.produce
        for first in range(0, PUBLISH_MESSAGES, PUBLISH_BATCH):
            for key, value, headers in records[first:first + PUBLISH_BATCH]:
                produce("bench.publish", value, key, -1, None, None, 0, headers)
            if producer.flush(30) or failures:
                raise RuntimeError(f"kafka bench: raw records not acknowledged: {failures[:1]}")
        return time.perf_counter() - start

    def kit() -> float:
        start = time.perf_counter()
        for batch in batches:
            publisher.publish("bench.publish", batch)
        return time.perf_counter() - start

    def close() -> None:
        publisher.close()
        producer.flush(30)

    return Sides(kit=kit, baseline=raw, items=PUBLISH_MESSAGES, close=close)


def _kafka_encode(_: object) -> Sides:
    messages = _messages(PUBLISH_MESSAGES)

    def encode_all() -> float:  # results dropped as the adapter drops them (kept, they would time the GC)
        start = time.perf_counter()
        for message in messages:
            encode(message)
        return (time.perf_counter() - start) / PUBLISH_MESSAGES * 1e6

    return Sides(kit=encode_all)


# --- outbox relay ----------------------------------------------------------------------------------------------


def _outbox_relay(ctx: Servers) -> Sides:
    ctx.kafka.create_topics(["bench.outbox"])
    conn = psycopg.connect(ctx.pg_url, autocommit=True)
    pg_outbox.create_schema(conn)
    conn.execute("TRUNCATE outbox")
    with conn.transaction():
        append(conn, [OutboxEvent(aggregate_type="Order", aggregate_id=f"o{n % 1000}", event_type="OrderPlaced",
                                  payload=json.dumps({"n": n, "pad": "x" * 200}).encode(), topic="bench.outbox",
                                  source="/bench") for n in range(OUTBOX_EVENTS)])
    conn.execute("DROP TABLE IF EXISTS bench_outbox_rows")
    conn.execute("CREATE TABLE bench_outbox_rows AS SELECT * FROM outbox")

    def refill() -> None:  # the same rows (ids included) before every run, copied in SQL: set-up, not timed
        conn.execute("TRUNCATE outbox")
        conn.execute("INSERT INTO outbox OVERRIDING SYSTEM VALUE SELECT * FROM bench_outbox_rows")
        conn.execute("ANALYZE outbox")

    store, publisher = PostgresOutbox(ctx.pg_url), ctx.kafka.publisher()
    publisher.publish("bench.outbox", [Message.new("Warmup", b"{}", source="/bench")])  # metadata, connection
    failures: list[object] = []
    producer = Producer({**ctx.kafka.producer_config, "on_delivery": lambda err, _r: err and failures.append(err)})
    claim = ("DELETE FROM outbox WHERE id IN (SELECT id FROM outbox ORDER BY id FOR UPDATE SKIP LOCKED LIMIT %s) "
             "RETURNING id, topic, event_id, event_type, source, payload, created_at, content_type, msg_key, "
             "aggregate_id")
    dumps = orjson.dumps
    # Set up as the relay's own connection: statements prepared at once, timestamps in UTC.
    raw_conn = psycopg.connect(ctx.pg_url, prepare_threshold=0)
    raw_conn.execute("SET TIME ZONE 'UTC'")
    raw_conn.commit()

    def raw() -> float:
        refill()
        start = time.perf_counter()
        while True:
            with raw_conn.transaction():
                rows = raw_conn.execute(claim, (OUTBOX_BATCH,), binary=True).fetchall()
                if not rows:
                    break
                for _id, topic, event_id, event_type, source, payload, created_at, content_type, key, agg in rows:
                    producer.produce(topic, payload, key or agg, -1, None, None, 0, [
                        ("ce_specversion", "1.0"), ("ce_id", event_id), ("ce_type", event_type),
                        ("ce_source", source), ("ce_time", dumps(created_at)[1:-1].decode()),
                        ("content-type", content_type)])
                if producer.flush(30) or failures:
                    raise RuntimeError(f"outbox bench: raw records not acknowledged: {failures[:1]}")
        return time.perf_counter() - start

    def kit() -> float:
        refill()
        elapsed = _timed(Relay(store, publisher, batch_size=OUTBOX_BATCH).drain)
        if store.lag().rows:
            raise RuntimeError("outbox bench: the relay left rows behind")
        return elapsed

    def close() -> None:
        store.close()
        publisher.close()
        producer.flush(30)
        raw_conn.close()
        conn.close()

    return Sides(kit=kit, baseline=raw, items=OUTBOX_EVENTS, close=close)


# --- concurrent appends ----------------------------------------------------------------------------------------


def _concurrent_appends(pg_url: str, write: Callable[..., None]) -> float:
    """Seconds for OUTBOX_WRITERS threads, each on its own connection, to commit APPENDS_PER_WRITER one-event
    transactions through `write` (append or insert)."""
    connections = [psycopg.connect(pg_url) for _ in range(OUTBOX_WRITERS)]
    start = threading.Barrier(OUTBOX_WRITERS + 1)

    def writer(conn: psycopg.Connection, w: int) -> None:
        events = [OutboxEvent(aggregate_type="Order", aggregate_id=f"o{w}-{n % 50}", event_type="OrderPlaced",
                              payload=json.dumps({"n": n, "pad": "x" * 200}).encode(), topic="bench.append",
                              source="/bench") for n in range(APPENDS_PER_WRITER)]
        start.wait()
        for e in events:
            with conn.transaction():
                write(conn, [e])

    threads = [threading.Thread(target=writer, args=(conn, w)) for w, conn in enumerate(connections)]
    for t in threads:
        t.start()
    start.wait()
    began = time.perf_counter()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - began
    for conn in connections:
        conn.close()
    return elapsed


def _outbox_append(ctx: Servers) -> Sides:
    with psycopg.connect(ctx.pg_url, autocommit=True) as conn:
        pg_outbox.create_schema(conn)
        conn.execute("TRUNCATE outbox")
    return Sides(kit=lambda: _concurrent_appends(ctx.pg_url, append),
                 baseline=lambda: _concurrent_appends(ctx.pg_url, insert), items=OUTBOX_WRITERS * APPENDS_PER_WRITER)


# --- idempotent consumer ---------------------------------------------------------------------------------------


def _idempotent_consumer(ctx: Servers) -> Sides:
    store = SqlIdempotencyStore("bench", window_hours=24)
    conn = psycopg.connect(ctx.pg_url)
    with conn.transaction():
        store.create_schema(conn)
        conn.execute("CREATE TABLE IF NOT EXISTS bare_processed (event_key TEXT PRIMARY KEY)")
        conn.execute("CREATE TABLE IF NOT EXISTS ledger (event_id TEXT NOT NULL, amount INTEGER NOT NULL)")
    broker = EmbeddedBroker(ctx.workdir / "idempotent.sqlite3", visibility_timeout=600)
    subscriber = broker.subscriber("payments", "bench")
    publisher = broker.publisher()

    def fresh() -> list:  # new event ids every round: neither side may meet a duplicate
        publisher.publish("payments", [Message.new("PaymentReceived", b'{"amount": 5}', source="/bench")
                                       for _ in range(CONSUMER_EVENTS)])
        deliveries = subscriber.receive(CONSUMER_EVENTS, timeout=5)
        assert len(deliveries) == CONSUMER_EVENTS
        return deliveries

    def business(delivery, tx: psycopg.Connection) -> None:  # noqa: ANN001 - any Delivery
        tx.execute("INSERT INTO ledger (event_id, amount) VALUES (%s, %s)", (delivery.message.id, 5))

    @contextmanager
    def transaction() -> Iterator[psycopg.Connection]:
        with conn.transaction():
            yield conn

    handler = transactional(transaction, store, business)

    def bare() -> float:
        deliveries = fresh()
        start = time.perf_counter()
        for d in deliveries:
            with conn.transaction():
                conn.execute("INSERT INTO bare_processed (event_key) VALUES (%s) ON CONFLICT DO NOTHING",
                             (d.message.id,))
                business(d, conn)
        return time.perf_counter() - start

    def kit() -> float:
        deliveries = fresh()
        start = time.perf_counter()
        for d in deliveries:
            handler(d)
        return time.perf_counter() - start

    def close() -> None:
        conn.close()
        subscriber.close()
        publisher.close()

    return Sides(kit=kit, baseline=bare, items=CONSUMER_EVENTS, close=close)


GROUP = Group("runtime", [
    Figure("kafka_publish_ratio", "raw confluent-kafka produce() called positionally on pre-encoded records, "
           "flush() per 1000, same producer config", _kafka_publish, target=(">=", 0.9), budget=25),
    Figure("kafka_encode_us_per_msg", "none: the adapter's Message -> record encoding alone, us per message",
           _kafka_encode, kind="value", unit="us/msg", budget=5),
    Figure("outbox_relay_ratio", "raw DELETE ... FOR UPDATE SKIP LOCKED LIMIT 500 RETURNING, positional produce "
           "with CloudEvents headers built inline, flush, commit", _outbox_relay, target=(">=", 0.7), budget=40,
           max_rounds=15),
    Figure("outbox_append_lock_ratio", "the same one-event transactions of 4 concurrent writers through "
           "writer.insert, without the commit-order lock", _outbox_append, budget=20, max_rounds=15),
    Figure("idempotent_consumer_cost_ratio", "bare INSERT ... ON CONFLICT DO NOTHING + the same business write in "
           "one transaction per delivery", _idempotent_consumer, kind="cost", target=("<=", 1.1), budget=20),
], context=servers)
