"""A row the broker refuses (Kafka on Tansu, topic auto-creation off), 4th of 11, on real PostgreSQL and SQLite: the
other rows are published exactly once, the bad row backs off, is dead-lettered after max_attempts, later rows of
its aggregate wait until it is requeued or released; a broker outage dead-letters nothing."""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path

import psycopg
import pytest
from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition

from edakit.runtime.adapters.kafka import KafkaBroker, decode
from edakit.runtime.message import Message
from edakit.runtime.outbox import (OutboxEvent, PostgresOutbox, Relay, RelayPublishError, RetryPolicy, SqliteOutbox,
                                   append, create_schema)

POLICY = RetryPolicy(max_attempts=3, backoff_base=0.2, backoff_max=1.0)


class RecordingPublisher:
    """Test hook around a real publisher: records each publish call (topic, event ids, time, outcome)."""

    def __init__(self, inner) -> None:  # noqa: ANN001 - any Publisher
        self.inner, self.calls, self.lock = inner, [], threading.Lock()

    def publish(self, topic: str, messages: Sequence[Message]) -> None:
        started = time.monotonic()
        try:
            self.inner.publish(topic, messages)
        except Exception:
            with self.lock:
                self.calls.append((topic, [m.id for m in messages], started, False))
            raise
        with self.lock:
            self.calls.append((topic, [m.id for m in messages], started, True))

    def close(self) -> None:
        self.inner.close()

    def attempts(self, topic: str) -> list[float]:
        return [started for t, _, started, _ in self.calls if t == topic]

    def position(self, event_id: str) -> int:
        return next(i for i, (_, ids, _, ok) in enumerate(self.calls) if ok and event_id in ids)


def event(aggregate: str, n: int, topic: str) -> OutboxEvent:
    return OutboxEvent(aggregate_type="Order", aggregate_id=aggregate, event_type="OrderPlaced",
                       payload=json.dumps({"n": n}).encode(), topic=topic, source="/orders")


@pytest.fixture(params=["postgresql", "sqlite"])
def outbox(request, tmp_path: Path) -> Iterator[tuple]:
    """(write(events), a store for the relay, a store for observing)."""
    if request.param == "postgresql":
        url = request.getfixturevalue("pg_url")
        with psycopg.connect(url) as conn:
            create_schema(conn)

        def write(events: list[OutboxEvent]) -> None:
            with psycopg.connect(url) as conn:
                append(conn, events)

        stores = [PostgresOutbox(url), PostgresOutbox(url)]
    else:
        db = tmp_path / "app.sqlite3"
        with sqlite3.connect(db) as conn:
            create_schema(conn)

        def write(events: list[OutboxEvent]) -> None:
            with sqlite3.connect(db) as conn:
                append(conn, events)

        stores = [SqliteOutbox(db), SqliteOutbox(db)]
    yield write, *stores
    for store in stores:
        store.close()


def published(kafka: KafkaBroker, topic: str) -> list[Message]:
    """Everything in `topic`, read partition by partition up to its end offsets (no consumer group to join)."""
    consumer = Consumer({"bootstrap.servers": kafka.bootstrap_servers, "group.id": "outbox-test-reader",
                         "enable.auto.commit": False})
    try:
        partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
        ends = {p: consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1] for p in partitions}
        consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in partitions])
        got: list[Message] = []
        deadline = time.monotonic() + 30
        while sum(ends.values()) > len(got):
            assert time.monotonic() < deadline, "timed out reading the topic"
            for record in consumer.consume(100, timeout=0.5):
                assert record.error() is None, record.error()
                got.append(decode(record)[0])
        return got
    finally:
        consumer.close()


def wait_for(condition, timeout: float = 30.0) -> None:  # noqa: ANN001
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_a_refused_row_backs_off_is_dead_lettered_and_holds_back_only_its_aggregate(outbox, tansu_bootstrap, caplog):
    write, store, observer = outbox
    run = uuid.uuid4().hex[:8]
    good, refused, refused_too = f"orders.{run}", f"missing.{run}", f"absent.{run}"
    kafka = KafkaBroker(tansu_bootstrap, producer_config={"allow.auto.create.topics": False,
                                                          "topic.metadata.propagation.max.ms": 200})
    kafka.create_topics([good])
    rows = [event("p" if n == 3 else f"a{n}", n, refused if n == 3 else good) for n in range(11)]
    p_later, q_first, q_later = event("p", 11, good), event("q", 12, refused_too), event("q", 13, good)
    write([*rows, p_later, q_first, q_later])
    publisher = RecordingPublisher(kafka.publisher())
    relay = Relay(store, publisher, poll_interval=0.05, retry=POLICY)
    stop = threading.Event()
    thread = threading.Thread(target=relay.run, args=(stop,))
    caplog.set_level(logging.INFO, logger="edakit.runtime.outbox")
    thread.start()
    try:
        wait_for(lambda: observer.lag().dead_letters == 2)
        # The 10 good rows of the 11, each exactly once; the rows behind the refused ones wait.
        assert sorted(m.id for m in published(kafka, good)) == sorted(e.event_id for n, e in enumerate(rows) if n != 3)
        lag = observer.lag()
        assert (lag.rows, lag.dead_letters, lag.dead_letters_blocking) == (2, 2, 2)
        # Bounded by backoff: exactly max_attempts publishes of the bad row, each wait longer than the last.
        starts = publisher.attempts(refused)
        assert len(starts) == POLICY.max_attempts
        gaps = [b - a for a, b in zip(starts, starts[1:])]
        assert all(gap >= 0.5 * POLICY.backoff_base * 2 ** k for k, gap in enumerate(gaps)), gaps
        [dead_p, dead_q] = observer.dead_letters()
        assert (dead_p.event_id, dead_p.topic, dead_p.attempts) == (rows[3].event_id, refused, POLICY.max_attempts)
        assert "Unknown topic" in (dead_p.last_error or "")
        # One warning per failing topic's streak, one error per dead-lettered row, no tracebacks.
        warnings = [r for r in caplog.records if r.levelno == logging.WARNING and refused in r.getMessage()]
        assert len(warnings) == 1
        assert len([r for r in caplog.records if r.levelno == logging.ERROR]) == 2
        assert not [r for r in caplog.records if r.exc_info]

        # Requeue after the topic exists: the row goes out first, then its aggregate's later row.
        kafka.create_topics([refused])
        assert observer.requeue([dead_p.id]) == [dead_p.id]
        wait_for(lambda: observer.lag().rows == 1)
        assert [m.id for m in published(kafka, refused)] == [rows[3].event_id]
        assert publisher.position(rows[3].event_id) < publisher.position(p_later.event_id)

        # Release: q's later row overtakes the dead-lettered one (which stays in the table), recorded.
        release = observer.release(dead_q.id, "oncall@example.com", "absent topic retired; q-13 supersedes it")
        wait_for(lambda: observer.lag().rows == 0)
        assert sorted(m.id for m in published(kafka, good)) == sorted(
            [*(e.event_id for n, e in enumerate(rows) if n != 3), p_later.event_id, q_later.event_id])
        shown = observer.dead_letter(dead_q.id)
        assert shown.released_at == release.released_at and shown.payload == q_first.payload
        assert [(r.released_by, r.reason) for r in shown.releases] == [
            ("oncall@example.com", "absent topic retired; q-13 supersedes it")]
        assert observer.lag().dead_letters_blocking == 0
        assert len(publisher.attempts(refused)) == POLICY.max_attempts + 1  # the requeued row, once
    finally:
        stop.set()
        thread.join()
        publisher.close()


def test_a_broker_outage_dead_letters_nothing(tmp_path: Path, embedded) -> None:
    db = tmp_path / "app.sqlite3"
    with sqlite3.connect(db) as conn:
        create_schema(conn)
        append(conn, [event("a", 1, "orders"), event("b", 2, "orders")])
    down = embedded.publisher()
    down.close()  # a real publisher whose broker connection is gone: every publish raises PublishError
    store = SqliteOutbox(db)
    relay = Relay(store, down, retry=RetryPolicy(max_attempts=2, backoff_base=0.01, backoff_max=0.02))
    for _ in range(5):
        with pytest.raises(RelayPublishError, match="2 row"):
            relay.drain()
        time.sleep(0.03)
    lag = store.lag()
    assert (lag.rows, lag.failing_rows, lag.dead_letters) == (2, 2, 0)  # 5 attempts each, > max_attempts
    sub = embedded.subscriber("orders", "check")
    relay.publisher = embedded.publisher()  # the broker is back
    time.sleep(0.03)
    assert relay.drain() == 2
    assert len(sub.receive(10, timeout=1)) == 2
    store.close()
