"""Outbox writer and relay against real PostgreSQL and SQLite, publishing to the embedded broker."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections import defaultdict
from datetime import datetime
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from edakit.runtime.adapters.base import PublishError
from edakit.runtime.adapters.embedded import EmbeddedSubscriber
from edakit.runtime.message import Message
from edakit.runtime.outbox import OutboxEvent, PostgresOutbox, Relay, SqliteOutbox, append
from edakit.runtime.outbox import postgres as pg_outbox
from edakit.runtime.outbox import sqlite as sqlite_outbox
from edakit.runtime.outbox.writer import insert

TOPIC = "orders"


def event(aggregate_id: str, n: int, **overrides: object) -> OutboxEvent:
    fields: dict = dict(aggregate_type="Order", aggregate_id=aggregate_id, event_type="OrderPlaced",
                        payload=json.dumps({"n": n}).encode(), topic=TOPIC, source="/orders",
                        headers={"traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"})
    fields.update(overrides)
    return OutboxEvent(**fields)


def drain(subscriber: EmbeddedSubscriber) -> list[Message]:
    received: list[Message] = []
    while batch := subscriber.receive(100, timeout=0.2):
        for delivery in batch:
            received.append(delivery.message)
            delivery.ack()
    return received


@pytest.fixture
def pg(pg_url: str):
    with psycopg.connect(pg_url) as conn:
        pg_outbox.create_schema(conn)
        yield conn


def test_committed_events_are_published_with_their_ids_and_rolled_back_ones_never(pg, pg_url, embedded):
    sub = embedded.subscriber(TOPIC, "check")
    kept, dropped = event("a1", 1, key="k1"), event("a2", 2)
    with pg.transaction():
        append(pg, [kept])
    with pytest.raises(ZeroDivisionError), pg.transaction():
        append(pg, [dropped])
        1 / 0
    store = PostgresOutbox(pg_url)
    assert store.lag().rows == 1
    assert Relay(store, embedded.publisher()).drain() == 1
    [message] = drain(sub)
    assert (message.id, message.type, message.source, message.payload, message.time, message.key) == (
        kept.event_id, "OrderPlaced", "/orders", kept.payload, kept.created_at, "k1")
    assert dict(message.headers) == dict(kept.headers)
    assert store.lag().rows == 0 and store.lag().oldest_age_seconds == 0.0
    store.close()


def test_lag_reports_rows_and_age_of_the_oldest(pg, pg_url):
    old = datetime.fromisoformat("2020-01-01T00:00:00+00:00")
    with pg.transaction():
        append(pg, [event("a", 1, created_at=old), event("b", 2)])
    store = PostgresOutbox(pg_url)
    lag = store.lag()
    assert lag.rows == 2
    assert lag.oldest_age_seconds > (datetime.now(old.tzinfo) - old).total_seconds() - 60
    store.close()


def test_sqlalchemy_session_writes_in_its_own_transaction(pg, pg_url, embedded):
    sub = embedded.subscriber(TOPIC, "check")
    engine = create_engine(pg_url.replace("postgresql://", "postgresql+psycopg://"))
    with Session(engine) as session, session.begin():
        append(session, [event("s1", 1), event("s1", 2)])
    with pytest.raises(RuntimeError), Session(engine) as session, session.begin():
        append(session, [event("s2", 3)])
        raise RuntimeError("business rule failed")
    engine.dispose()
    store = PostgresOutbox(pg_url)
    Relay(store, embedded.publisher()).drain()
    assert [json.loads(m.payload)["n"] for m in drain(sub)] == [1, 2]
    store.close()


def test_a_publish_failure_keeps_the_rows(pg, pg_url, embedded):
    with pg.transaction():
        append(pg, [event("a", 1)])
    closed = embedded.publisher()
    closed.close()  # a real publisher whose connection is gone: publish raises PublishError
    store = PostgresOutbox(pg_url)
    with pytest.raises(PublishError):
        Relay(store, closed).drain()
    assert store.lag().rows == 1
    store.close()


def test_an_id_that_commits_late_is_still_published(pg, pg_url, embedded):
    """Ids interleave when transactions commit out of order (writers that bypass `append`'s ordering lock); the
    relay deletes rows, so none is skipped."""
    sub = embedded.subscriber(TOPIC, "check")
    slow = psycopg.connect(pg_url)
    with slow.transaction():
        insert(slow, [event("x", 1)])  # takes the lower id, commits last
        with pg.transaction():
            insert(pg, [event("y", 2)])
        store = PostgresOutbox(pg_url)
        assert Relay(store, embedded.publisher()).drain() == 1
    assert Relay(store, embedded.publisher()).drain() == 1
    assert sorted(json.loads(m.payload)["n"] for m in drain(sub)) == [1, 2]
    store.close()
    slow.close()


def test_several_relays_keep_order_per_aggregate_without_duplicates(pg, pg_url, embedded):
    sub = embedded.subscriber(TOPIC, "check")
    with pg.transaction():
        append(pg, [event(f"agg{i % 15}", i) for i in range(600)])
    stores = [PostgresOutbox(pg_url) for _ in range(3)]
    threads = [threading.Thread(target=Relay(s, embedded.publisher(), batch_size=7).drain) for s in stores]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    received = drain(sub)
    assert len(received) == 600 and len({m.id for m in received}) == 600
    per_aggregate: dict[str, list[int]] = defaultdict(list)
    for m in received:
        per_aggregate[m.key].append(json.loads(m.payload)["n"])
    assert all(ns == sorted(ns) for ns in per_aggregate.values())
    for s in stores:
        s.close()


def test_notify_wakes_a_waiting_relay(pg, pg_url, embedded):
    sub = embedded.subscriber(TOPIC, "check")
    store = PostgresOutbox(pg_url)
    stop = threading.Event()
    relay = threading.Thread(target=Relay(store, embedded.publisher(), poll_interval=3600).run, args=(stop,))
    relay.start()
    try:
        assert sub.receive(1, timeout=0.3) == []
        with pg.transaction():
            append(pg, [event("n", 1)])
        # The relay sleeps an hour unless NOTIFY wakes it.
        deliveries = sub.receive(1, timeout=30)
        assert [d.message.payload for d in deliveries] == [b'{"n": 1}']
    finally:
        stop.set()
        with pg.transaction():
            append(pg, [event("n", 2)])  # wakes the relay so it sees `stop`
        relay.join()
        store.close()


def test_sqlite_outbox_with_plain_connection_and_sqlalchemy(tmp_path: Path, embedded):
    sub = embedded.subscriber(TOPIC, "check")
    db = tmp_path / "app.sqlite3"
    with sqlite3.connect(db) as conn:
        sqlite_outbox.create_schema(conn)
        append(conn, [event("a", 1), event("b", 2)])
    engine = create_engine(f"sqlite:///{db}")
    with Session(engine) as session, session.begin():
        append(session, [event("a", 3)])
    engine.dispose()
    store = SqliteOutbox(db)
    assert store.lag().rows == 3
    assert Relay(store, embedded.publisher(), batch_size=2).drain() == 3
    assert [json.loads(m.payload)["n"] for m in drain(sub)] == [1, 2, 3]
    assert store.lag().rows == 0
    store.close()


def test_bad_input_is_named(embedded):
    with pytest.raises(ValueError, match="table name 'Outbox; DROP'"):
        SqliteOutbox(":memory:", table="Outbox; DROP")
    with pytest.raises(ValueError, match="created_at must be timezone-aware"):
        event("a", 1, created_at=datetime(2024, 1, 1))
    with pytest.raises(ValueError, match="OutboxEvent.topic must be a non-empty string"):
        event("a", 1, topic="")
    with pytest.raises(TypeError, match="got dict"):
        append({}, [event("a", 1)])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="batch_size must be >= 1"):
        Relay(SqliteOutbox(":memory:"), embedded.publisher(), batch_size=0)


def test_the_relay_loop_outlives_a_broker_outage_and_lost_database_sessions(pg, pg_url, embedded):
    sub = embedded.subscriber(TOPIC, "check")
    down = embedded.publisher()
    down.close()  # the broker is "down": every publish raises PublishError
    store, observer = PostgresOutbox(pg_url), PostgresOutbox(pg_url)  # one per thread
    relay = Relay(store, down, poll_interval=0.05)
    stop = threading.Event()
    thread = threading.Thread(target=relay.run, args=(stop,))
    thread.start()
    try:
        with pg.transaction():
            append(pg, [event("a", 1)])
        assert sub.receive(1, timeout=0.5) == []
        relay.publisher = embedded.publisher()  # the broker is back
        [first] = sub.receive(1, timeout=30)
        assert first.message.payload == b'{"n": 1}'
        first.ack()  # same aggregate key: the broker holds n=2 back while n=1 is in flight
        while observer.lag().rows:  # the relay commits its delete just after the broker has the message
            time.sleep(0.01)
        with pg.transaction():  # the database drops every other session (restart, failover)
            pg.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                       "WHERE datname = current_database() AND pid <> pg_backend_pid()")
        with pg.transaction():
            append(pg, [event("a", 2)])
        assert [d.message.payload for d in sub.receive(1, timeout=30)] == [b'{"n": 2}']
    finally:
        stop.set()
        thread.join()
        store.close()
        observer.close()


def test_rows_behind_a_row_held_by_another_relay_wait_for_it(pg, pg_url, embedded):
    sub = embedded.subscriber(TOPIC, "check")
    with pg.transaction():
        append(pg, [event("x", 1), event("y", 2), event("x", 3), event("y", 4), event("x", 5)])
    other = psycopg.connect(pg_url)  # another relay, mid-publish of x's first row
    other.execute("SELECT id FROM outbox WHERE aggregate_id = 'x' ORDER BY id LIMIT 1 FOR UPDATE")
    store = PostgresOutbox(pg_url)
    assert Relay(store, embedded.publisher()).drain() == 2
    assert [json.loads(m.payload)["n"] for m in drain(sub)] == [2, 4]  # x's later rows must not overtake
    other.rollback()  # the other relay died: its row is claimable again
    assert Relay(store, embedded.publisher()).drain() == 3
    assert [json.loads(m.payload)["n"] for m in drain(sub)] == [1, 3, 5]
    other.close()
    store.close()
