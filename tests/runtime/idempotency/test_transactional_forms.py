"""`transactional` given a connection or Session directly (sqlite3, psycopg, SQLAlchemy Session on SQLite) or the
older callable form: one effect per event, a failed run rolls the record back with the write, duplicates are
reported through `on_duplicate`. Deliveries come from the embedded broker."""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Callable, Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import psycopg
import pytest
import redis
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from edakit.runtime.adapters.base import Delivery
from edakit.runtime.idempotency import RedisIdempotencyStore, SqlIdempotencyStore, begin, idempotent, transactional
from edakit.runtime.message import Message
from edakit.runtime.middleware import RetryPolicy, Router, compose, retry
from edakit.runtime.outbox.tx import Transaction, execute

FAST = RetryPolicy(max_attempts=3, base_delay=0.0, max_delay=0.01)
# (what transactional is given, a fresh connection that reads the committed rows)
Form = tuple[Any, Callable[[], Any]]


@pytest.fixture(params=["sqlite3", "psycopg", "sqlalchemy-session", "callable"])
def form(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Form]:
    store = SqlIdempotencyStore("billing", window_hours=1)
    sqlite_path = tmp_path / "billing.sqlite3"
    if request.param == "psycopg":
        url = request.getfixturevalue("pg_url")
        with psycopg.connect(url) as conn:
            with conn.transaction():
                execute(conn, "CREATE TABLE payments (event_id TEXT NOT NULL)", {})
                store.create_schema(conn)
            yield conn, lambda: psycopg.connect(url)
        return
    with closing(sqlite3.connect(sqlite_path)) as conn, conn:
        conn.execute("CREATE TABLE payments (event_id TEXT NOT NULL)")
        store.create_schema(conn)
    if request.param == "sqlalchemy-session":
        engine = create_engine(f"sqlite:///{sqlite_path}")
        with Session(engine) as session:
            yield session, lambda: sqlite3.connect(sqlite_path)
        engine.dispose()
    else:
        with closing(sqlite3.connect(sqlite_path)) as conn:
            # the callable form: `with conn:` is a context manager that commits and yields the connection
            yield (conn if request.param == "sqlite3" else lambda: conn), lambda: sqlite3.connect(sqlite_path)


def test_each_event_takes_effect_once_and_a_failed_run_rolls_back_its_record(embedded, form: Form):
    transaction, reader = form
    store = SqlIdempotencyStore("billing", window_hours=1)
    subscriber = embedded.subscriber("payments", "billing")  # the group receives what is published after it exists
    ok, flaky = Message.new("Paid", b"{}", source="/p"), Message.new("Paid", b"{}", source="/p")
    embedded.publisher().publish("payments", [ok, flaky, ok, flaky])  # each one twice, as after a relay crash
    duplicates: list[str] = []

    def pay(delivery: Delivery, tx: Transaction) -> None:
        execute(tx, "INSERT INTO payments (event_id) VALUES (:id)", {"id": delivery.message.id})
        if delivery.message.id == flaky.id and delivery.attempt == 1:
            raise ConnectionError("card processor timed out")  # after the write: both must roll back

    handler = transactional(transaction, store, pay, on_duplicate=lambda d: duplicates.append(d.message.id))
    router = Router(subscriber, compose(handler, retry(FAST)))
    # one batch of four; both copies of the flaky event fail their first attempt (the failed run left no record)
    # and are redelivered: one retry pays, the other is the duplicate
    assert router.run_until_idle(idle_timeout=0.3) == 6

    with closing(reader()) as check:
        paid = sorted(r[0] for r in check.execute("SELECT event_id FROM payments").fetchall())
        recorded = sorted(r[0] for r in check.execute("SELECT event_key FROM processed_events").fetchall())
    assert paid == recorded == sorted([ok.id, flaky.id])
    assert sorted(duplicates) == sorted([ok.id, flaky.id])


def test_begin_commits_on_exit_and_rolls_back_on_error(tmp_path: Path):
    path = tmp_path / "t.sqlite3"
    with closing(sqlite3.connect(path, isolation_level=None)) as conn:  # autocommit mode: begin must open one
        conn.execute("CREATE TABLE t (x INTEGER)")
        with pytest.raises(RuntimeError), begin(conn) as tx:
            tx.execute("INSERT INTO t VALUES (1)")
            raise RuntimeError("handler failed")
        with begin(conn) as tx:
            tx.execute("INSERT INTO t VALUES (2)")
        with closing(sqlite3.connect(path)) as other:
            assert other.execute("SELECT x FROM t").fetchall() == [(2,)]


def test_a_connection_left_inside_a_transaction_is_refused(tmp_path: Path, pg_url: str):
    with closing(sqlite3.connect(tmp_path / "t.sqlite3")) as conn:
        conn.execute("CREATE TABLE t (x INTEGER)")
        conn.execute("INSERT INTO t VALUES (1)")  # implicitly begins a transaction, left open
        with pytest.raises(RuntimeError, match="Connection already has a transaction open"), begin(conn):
            pass
    with psycopg.connect(pg_url) as conn:
        conn.execute("SELECT 1")  # psycopg begins a transaction on the first statement
        with pytest.raises(RuntimeError, match="Connection already has a transaction open"), begin(conn):
            pass


def test_anything_else_is_refused_with_what_was_expected():
    store = SqlIdempotencyStore("billing", window_hours=1)
    with pytest.raises(TypeError, match="expected a sqlite3/psycopg connection, a SQLAlchemy Session/Connection"):
        transactional("sqlite:///billing.db", store, lambda d, tx: None)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="got str"), begin("not a connection"):  # type: ignore[arg-type]
        pass


def test_the_lease_middleware_reports_duplicates_too(embedded, redis_url: str):
    store = RedisIdempotencyStore(redis.Redis.from_url(redis_url), f"billing-{uuid.uuid4().hex}", window_hours=1)
    subscriber = embedded.subscriber("payments", "billing")
    first, second = Message.new("Paid", b"{}", source="/p"), Message.new("Paid", b"{}", source="/p")
    embedded.publisher().publish("payments", [first, second, first, first])
    effects: list[str] = []
    duplicates: list[str] = []
    chain = compose(lambda d: effects.append(d.message.id),
                    idempotent(store, on_duplicate=lambda d: duplicates.append(d.message.id)))
    assert Router(subscriber, chain).run_until_idle(idle_timeout=0.2) == 4
    assert effects == [first.id, second.id]
    assert duplicates == [first.id, first.id]
