"""`transactional` owns the SQL store's cleanup: records older than the window go after the first delivery and
then once per interval, never inside a delivery's transaction, and a failing cleanup never fails a delivery."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

import psycopg
import pytest

from edakit.runtime.adapters.base import Delivery
from edakit.runtime.idempotency import SqlIdempotencyStore, begin, transactional
from edakit.runtime.message import Message
from edakit.runtime.middleware import Router
from edakit.runtime.outbox.tx import Transaction, execute

HOUR = 3600.0


def aged_records(tx: Transaction, store: SqlIdempotencyStore, keys: list[str], hours_ago: float) -> None:
    for key in keys:
        execute(tx, f"INSERT INTO {store.table} (consumer, event_key, processed_at) VALUES (:c, :k, :t)",
                {"c": store.consumer, "k": key, "t": time.time() - hours_ago * HOUR})


def keys_in(reader: sqlite3.Connection | psycopg.Connection, store: SqlIdempotencyStore) -> set[str]:
    return {row[0] for row in reader.execute(f"SELECT event_key FROM {store.table}").fetchall()}


@pytest.fixture(params=["sqlite3", "psycopg"])
def connections(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[object, object]]:
    """(the connection transactional runs on, a second one to look at the table with)"""
    if request.param == "psycopg":
        url = request.getfixturevalue("pg_url")
        with psycopg.connect(url) as conn, psycopg.connect(url, autocommit=True) as reader:
            reader.execute("DROP TABLE IF EXISTS processed_events")
            yield conn, reader
        return
    path = tmp_path / "billing.sqlite3"
    with closing(sqlite3.connect(path)) as conn, closing(sqlite3.connect(path)) as reader:
        yield conn, reader


def run(embedded, handler, count: int) -> None:
    publisher = embedded.publisher()
    subscriber = embedded.subscriber("payments", "billing")
    publisher.publish("payments", [Message.new("Paid", b"{}", source="/p") for _ in range(count)])
    assert Router(subscriber, handler).run_until_idle(idle_timeout=0.2) == count


def test_aged_records_go_after_the_first_delivery_and_then_once_per_interval(embedded, connections) -> None:
    conn, reader = connections
    store = SqlIdempotencyStore("billing", window_hours=1)
    with begin(conn):
        store.create_schema(conn)
        aged_records(conn, store, ["aged-1", "aged-2"], hours_ago=2)
        aged_records(conn, store, ["fresh"], hours_ago=0.5)
    interval = 0.6
    handler = transactional(conn, store, lambda d, tx: None, cleanup_every_seconds=interval)

    run(embedded, handler, 1)
    assert {"aged-1", "aged-2"}.isdisjoint(keys_in(reader, store)) and "fresh" in keys_in(reader, store)

    with begin(conn):
        aged_records(conn, store, ["aged-later"], hours_ago=2)
    started = time.monotonic()
    run(embedded, handler, 2)  # within the interval: no second cleanup
    assert time.monotonic() - started < interval and "aged-later" in keys_in(reader, store)

    time.sleep(interval)
    run(embedded, handler, 1)
    assert "aged-later" not in keys_in(reader, store) and "fresh" in keys_in(reader, store)
    assert len(keys_in(reader, store)) == 1 + 4  # "fresh" and the four deliveries' own records


def test_no_schedule_leaves_cleanup_to_the_caller(embedded, tmp_path: Path) -> None:
    store = SqlIdempotencyStore("billing", window_hours=1)
    with closing(sqlite3.connect(tmp_path / "b.sqlite3")) as conn:
        with conn:
            store.create_schema(conn)
            aged_records(conn, store, ["aged"], hours_ago=2)
        run(embedded, transactional(conn, store, lambda d, tx: None, cleanup_every_seconds=None), 1)
        assert "aged" in keys_in(conn, store)
        with conn:
            assert store.cleanup(conn) == 1


def test_a_failing_cleanup_never_fails_the_delivery(embedded, tmp_path: Path, caplog) -> None:
    store = SqlIdempotencyStore("billing", window_hours=1)
    path = tmp_path / "b.sqlite3"
    with closing(sqlite3.connect(path)) as conn, conn:
        store.create_schema(conn)
    opened = []

    @contextmanager
    def transaction() -> Iterator[sqlite3.Connection]:
        opened.append(len(opened))
        if len(opened) == 2:  # the cleanup's own transaction, right after the first delivery's
            raise sqlite3.OperationalError("database is locked")
        with closing(sqlite3.connect(path)) as conn, conn:
            yield conn

    handled: list[Delivery] = []
    run(embedded, transactional(transaction, store, lambda d, tx: handled.append(d)), 1)
    assert len(handled) == 1 and len(opened) == 2
    assert "idempotency cleanup of processed_events failed (OperationalError)" in caplog.text
