"""Embedded broker (one SQLite file) against raw sqlite3 doing the same writes and reads.

- embedded_publish_ratio: messages/s of EmbeddedPublisher.publish (batches of BATCH, one transaction each, one
  subscribed group) / a raw loop on a connection with the same settings (WAL, synchronous=NORMAL): BEGIN
  IMMEDIATE, the topic's groups, the same messages and deliveries rows inserted, COMMIT per batch.
- embedded_consume_ratio: messages/s of EmbeddedSubscriber.receive(BATCH) + ack per delivery / a raw loop running
  the same SQL: the lease transaction (the same SELECT ... JOIN, the UPDATE of the lease) per batch, then a DELETE
  transaction per row (the ack); rows are read as tuples, where the kit builds Messages.
"""

from __future__ import annotations

import itertools
import json
import sqlite3
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from tempfile import TemporaryDirectory

from benchmarks.harness import Figure, Group, Sides
from edakit.runtime.adapters.embedded import EmbeddedBroker
from edakit.runtime.message import Message

MESSAGES, BATCH, VISIBILITY = 2_000, 100, 600.0
LEASE = """
SELECT d.seq, d.attempts, d.reason, m.id, m.type, m.source, m.time, m.content_type, m.key, m.subject, m.headers,
       m.payload
FROM deliveries d JOIN messages m ON m.seq = d.seq
WHERE d.topic = :topic AND d.grp = :grp AND d.visible_at <= :now
  AND (d.key IS NULL OR NOT EXISTS (
        SELECT 1 FROM deliveries e
        WHERE e.topic = d.topic AND e.grp = d.grp AND e.key = d.key AND e.seq < d.seq AND e.visible_at > :now))
ORDER BY d.seq LIMIT :limit
"""


@dataclass
class Context:
    broker: EmbeddedBroker
    conn: sqlite3.Connection
    topics: Iterator[int]


@contextmanager
def broker() -> Iterator[Context]:
    with TemporaryDirectory(prefix="edakit-bench-embedded-") as workdir:
        path = Path(workdir) / "broker.sqlite3"
        embedded = EmbeddedBroker(path, visibility_timeout=VISIBILITY)
        conn = sqlite3.connect(path, timeout=30, isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        try:
            yield Context(embedded, conn, itertools.count())
        finally:
            conn.close()


def _messages() -> list[Message]:
    return [Message.new("OrderPlaced", json.dumps({"n": n, "pad": "x" * 200}).encode(), source="/bench",
                        key=f"o{n % 100}") for n in range(MESSAGES)]


def raw_publish(conn: sqlite3.Connection, topic: str, messages: list[Message]) -> None:
    """The same rows the publisher writes, through sqlite3 alone."""
    now = time.time()
    conn.execute("BEGIN IMMEDIATE")
    groups = [g for (g,) in conn.execute("SELECT grp FROM subscriptions WHERE topic = ?", (topic,))]
    deliveries = []
    for m in messages:
        cur = conn.execute(
            "INSERT INTO messages (topic, id, type, source, time, content_type, key, subject, headers, payload,"
            " published_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (topic, m.id, m.type, m.source, m.time.isoformat(), m.content_type, m.key, m.subject, "{}", m.payload,
             now))
        deliveries.extend((topic, g, cur.lastrowid, m.key, now) for g in groups)
    conn.executemany("INSERT INTO deliveries (topic, grp, seq, key, visible_at) VALUES (?, ?, ?, ?, ?)", deliveries)
    conn.execute("COMMIT")


def _publish(ctx: Context) -> Sides:
    messages = _messages()
    publisher = ctx.broker.publisher()

    def side(kit: bool) -> float:
        topic = f"bench.publish.{next(ctx.topics)}"
        ctx.broker.create_group(topic, "g")
        start = time.perf_counter()
        for first in range(0, MESSAGES, BATCH):
            batch = messages[first:first + BATCH]
            if kit:
                publisher.publish(topic, batch)
            else:
                raw_publish(ctx.conn, topic, batch)
        return time.perf_counter() - start

    return Sides(kit=lambda: side(True), baseline=lambda: side(False), items=MESSAGES, close=publisher.close)


def _consume(ctx: Context) -> Sides:
    messages = _messages()

    def filled() -> str:  # a fresh topic and group holding MESSAGES messages (set-up, not timed)
        topic = f"bench.consume.{next(ctx.topics)}"
        ctx.broker.create_group(topic, "g")
        for first in range(0, MESSAGES, BATCH):
            raw_publish(ctx.conn, topic, messages[first:first + BATCH])
        return topic

    def kit() -> float:
        subscriber = ctx.broker.subscriber(filled(), "g")
        count = 0
        start = time.perf_counter()
        while deliveries := subscriber.receive(BATCH, 0):
            for delivery in deliveries:
                delivery.ack()
                count += 1
        elapsed = time.perf_counter() - start
        subscriber.close()
        assert count == MESSAGES, f"embedded bench: consumed {count} of {MESSAGES}"
        return elapsed

    def raw() -> float:
        topic, conn, count = filled(), ctx.conn, 0
        start = time.perf_counter()
        while True:
            now = time.time()
            conn.execute("BEGIN IMMEDIATE")
            rows = conn.execute(LEASE, {"topic": topic, "grp": "g", "now": now, "limit": BATCH}).fetchall()
            lease = uuid.uuid4().hex
            conn.executemany("UPDATE deliveries SET attempts = attempts + 1, visible_at = ?, lease = ? "
                             "WHERE topic = ? AND grp = ? AND seq = ?",
                             [(now + VISIBILITY, lease, topic, "g", r[0]) for r in rows])
            conn.execute("COMMIT")
            if not rows:
                break
            for row in rows:
                conn.execute("BEGIN IMMEDIATE")
                conn.execute("DELETE FROM deliveries WHERE topic = ? AND grp = ? AND seq = ? AND lease = ?",
                             (topic, "g", row[0], lease))
                conn.execute("COMMIT")
                count += 1
        elapsed = time.perf_counter() - start
        assert count == MESSAGES, f"embedded bench: raw loop consumed {count} of {MESSAGES}"
        return elapsed

    return Sides(kit=kit, baseline=raw, items=MESSAGES)


GROUP = Group("embedded", [
    Figure("embedded_publish_ratio", "raw sqlite3 (same pragmas): BEGIN IMMEDIATE, the same messages and "
           "deliveries rows, COMMIT per 100", _publish, budget=15),
    Figure("embedded_consume_ratio", "raw sqlite3 running the same lease SELECT/UPDATE per 100 and a DELETE "
           "transaction per row, rows kept as tuples", _consume, budget=15),
], context=broker)
