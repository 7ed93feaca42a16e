"""Writers and relays on real PostgreSQL and SQLite: the application writes while a publish hangs (no lock held
across a network call), and concurrent writers commit in the order of their ids (tx.serialize_inserts)."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import psycopg
import pytest

from edakit.runtime.message import Message
from edakit.runtime.outbox import OutboxEvent, PostgresOutbox, Relay, SqliteOutbox, append, create_schema

TOPIC = "orders"


class HangingPublisher:
    """Test hook around a real publisher: each publish waits until the test lets it go (a broker that hangs)."""

    def __init__(self, inner) -> None:  # noqa: ANN001 - any Publisher
        self.inner, self.entered, self.go = inner, threading.Event(), threading.Event()

    def publish(self, topic: str, messages: Sequence[Message]) -> None:
        self.entered.set()
        assert self.go.wait(30), "the test never released the publish"
        self.inner.publish(topic, messages)

    def close(self) -> None:
        self.inner.close()


def event(aggregate: str, n: int) -> OutboxEvent:
    return OutboxEvent(aggregate_type="Order", aggregate_id=aggregate, event_type="OrderPlaced",
                       payload=json.dumps({"n": n}).encode(), topic=TOPIC, source="/orders")


def payloads(subscriber) -> list[int]:  # noqa: ANN001
    got = []
    while batch := subscriber.receive(100, timeout=0.2):
        for delivery in batch:
            got.append(json.loads(delivery.message.payload)["n"])
            delivery.ack()
    return got


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_the_application_writes_while_a_publish_hangs(database: str, request, tmp_path: Path, embedded) -> None:
    if database == "sqlite":
        db = tmp_path / "app.sqlite3"
        with sqlite3.connect(db) as conn:
            create_schema(conn)
        def make_store() -> SqliteOutbox:
            return SqliteOutbox(db)

        def app_connection() -> sqlite3.Connection:
            return sqlite3.connect(db, timeout=1.0)  # a locked database fails within 1 s
    else:
        url = request.getfixturevalue("pg_url")
        with psycopg.connect(url) as conn:
            create_schema(conn)
        def make_store() -> PostgresOutbox:
            return PostgresOutbox(url)

        def app_connection() -> psycopg.Connection:
            conn = psycopg.connect(url)
            conn.execute("SET lock_timeout = '1s'")  # a lock the relay holds fails within 1 s
            return conn

    with app_connection() as conn:
        append(conn, [event("a", 1)])
    sub = embedded.subscriber(TOPIC, "check")
    publisher = HangingPublisher(embedded.publisher())
    relayed: list[int] = []
    relay = threading.Thread(target=lambda: relayed.append(Relay(make_store(), publisher).drain()))
    relay.start()
    try:
        assert publisher.entered.wait(10)
        with app_connection() as conn:  # the business transaction, while the broker hangs
            append(conn, [event("b", 2)])
        time.sleep(1.2)  # longer than the application's lock timeout
        with app_connection() as conn:
            append(conn, [event("c", 3)])
    finally:
        publisher.go.set()
        relay.join()
    assert relayed == [3]  # the hung row, then the two written meanwhile
    assert payloads(sub) == [1, 2, 3]
    store = make_store()
    assert store.lag().rows == 0
    store.close()


def test_concurrent_writers_commit_in_the_order_of_their_ids(pg_url: str, embedded) -> None:
    """Writer A takes the lower id and commits last; without the ordering lock B's id 2 is visible (and published)
    while id 1 is not, so a reader of "id > last seen" skips 1 forever. With it, B waits for A."""
    with psycopg.connect(pg_url) as conn:
        create_schema(conn)
    sub = embedded.subscriber(TOPIC, "check")
    store = PostgresOutbox(pg_url)
    writer_a, writer_b, reader = (psycopg.connect(pg_url) for _ in range(3))
    b_committed = threading.Event()

    def write_b() -> None:
        with writer_b.transaction():
            append(writer_b, [event("x", 2)])  # the same aggregate as A's row
        b_committed.set()

    visible: list[list[int]] = []
    with writer_a.transaction():
        append(writer_a, [event("x", 1)])
        b = threading.Thread(target=write_b)
        b.start()
        time.sleep(0.5)
        visible.append([i for (i,) in reader.execute("SELECT id FROM outbox ORDER BY id")])
        reader.commit()
        relayed_early = Relay(store, embedded.publisher()).drain()
        b_was_blocked = not b_committed.is_set()
    b.join(10)
    visible.append([i for (i,) in reader.execute("SELECT id FROM outbox ORDER BY id")])
    assert (b_was_blocked, relayed_early, visible[0]) == (True, 0, [])
    assert Relay(store, embedded.publisher()).drain() == 2
    assert payloads(sub) == [1, 2]
    assert visible[1] == sorted(visible[1]) and len(visible[1]) == 2
    for conn in (writer_a, writer_b, reader):
        conn.close()
    store.close()
