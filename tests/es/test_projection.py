"""CQRS read models: fed from the log (tracking record in the read model's transaction) or from a broker (the
idempotency record in it), with the same projection code; rebuilt from position 0 and swapped in."""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from eventsourcing.projection import ProjectionRunner

from edakit.es.orders import Order, Orders, OrderSummaries, order_rows
from edakit.es.projection import (FAULT_BEFORE_COMMIT_ENV, ProjectionConsistencyError, Projector, broker_handler,
                                  open_view, projection_for, rebuild, view_class)
from edakit.es.relay import EventStoreRelay
from edakit.es.store import store_env
from edakit.runtime.adapters.embedded import EmbeddedBroker
from edakit.runtime.idempotency.sql import SqlIdempotencyStore
from edakit.runtime.middleware.router import Router

ITEMS = [{"product_id": "p-1", "quantity": 1, "unit_price": 2.0}]


def _history(app: Orders, orders: int = 6) -> list[Any]:
    """Orders in every state: placed, paid, shipped, cancelled."""
    ids = [app.place_order(f"c-{i}", ITEMS, sales_channel="mobile" if i % 2 else "web") for i in range(orders)]
    for i, order_id in enumerate(ids):
        if i % 4 >= 1:
            app.pay_order(order_id, f"pay-{i}")
        if i % 4 == 2:
            app.ship_order(order_id, f"s-{i}", "dhl")
        if i % 4 == 3:
            app.cancel_order(order_id, "changed my mind")
    return ids


def _rows(view: Any) -> list[dict[str, Any]]:
    with view.connection() as conn:
        return order_rows(conn)


def _replayed(app: Orders, tmp_path: Path) -> list[dict[str, Any]]:
    """The read model a full replay of the log builds in a fresh query database."""
    fresh = open_view(OrderSummaries, f"sqlite:{tmp_path / 'replay.db'}")
    Projector(app, fresh).drain()
    return _rows(fresh)


class FailingOnPaid(OrderSummaries):
    def apply(self, tx, event):  # type: ignore[no-untyped-def]
        super().apply(tx, event)
        if isinstance(event, Order.Paid):
            raise RuntimeError("projection failed mid-batch")


def test_the_log_projector_commits_writes_and_tracking_together(sqlite_env, tmp_path: Path) -> None:
    app = Orders(env=sqlite_env)
    _history(app, 4)
    view = open_view(OrderSummaries, f"sqlite:{tmp_path / 'query.db'}")
    projector = Projector(app, view, model=FailingOnPaid())
    with pytest.raises(RuntimeError, match="mid-batch"):
        projector.run_once()
    assert _rows(view) == [] and projector.position == 0  # the batch's writes rolled back with its tracking
    lag = projector.lag()
    assert (lag.position, lag.head, lag.events_behind) == (0, 9, 9) and lag.seconds_behind > 0
    projector = Projector(app, view, batch_size=3)
    assert projector.drain() == 9 and projector.position == 9 and projector.lag().events_behind == 0
    assert sorted(r["status"] for r in _rows(view)) == ["cancelled", "paid", "placed", "shipped"]
    assert _rows(view) == _replayed(app, tmp_path)


def test_an_event_applied_twice_is_refused_by_the_read_model(sqlite_env, tmp_path: Path) -> None:
    app = Orders(env=sqlite_env)
    order_id = app.place_order("c-1", ITEMS)
    app.pay_order(order_id, "pay-1")
    view = open_view(OrderSummaries, f"sqlite:{tmp_path / 'query.db'}")
    Projector(app, view).drain()
    paid = list(app.events.get(order_id))[1]
    with view.connection() as conn, pytest.raises(ProjectionConsistencyError, match="Order.Paid v2 of order"):
        view.model.apply(conn, paid)


def test_rebuild_replays_into_fresh_tables_and_swaps_them_in(sqlite_env, tmp_path: Path) -> None:
    app = Orders(env=sqlite_env)
    _history(app)
    view = open_view(OrderSummaries, f"sqlite:{tmp_path / 'query.db'}")
    Projector(app, view).drain()
    with sqlite3.connect(tmp_path / "query.db") as conn:  # the read model drifted (a bug, a manual edit)
        conn.execute("UPDATE order_summaries SET status = 'lost'")
    assert rebuild(app, view) == 12
    assert _rows(view) == _replayed(app, tmp_path) and "lost" not in {r["status"] for r in _rows(view)}
    with sqlite3.connect(tmp_path / "query.db") as conn:
        tables = {name for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert "order_summaries__rebuild" not in tables
    projector = Projector(app, view)
    assert projector.position == 12  # the swap carried the rebuilt position
    new = app.place_order("c-9", ITEMS)
    assert projector.drain() == 1 and any(r["order_id"] == str(new) for r in _rows(view))


def test_postgres_projection_runner_tracks_in_the_query_database(pg_url, pg_query_url) -> None:
    store, query = store_env(pg_url), store_env(pg_query_url)
    env = {**store, **{f"ORDER_SUMMARIES_{k}": v for k, v in query.items()}}
    app = Orders(env=env)
    ids = _history(app, 4)
    head = app.recorder.max_notification_id()
    with ProjectionRunner(application_class=Orders, projection_class=projection_for(Orders, OrderSummaries),
                          view_class=view_class(OrderSummaries, pg_query_url), env=env) as runner:
        runner.wait(head, timeout=10)
        app.cancel_order(ids[0], "late")
        runner.wait(head + 1, timeout=10)
        rows = _rows(runner.view)
    assert len(rows) == 4 and {r["order_id"]: r["status"] for r in rows}[str(ids[0])] == "cancelled"
    assert runner.view.max_tracking_id("Orders") == head + 1
    view = open_view(OrderSummaries, pg_query_url)  # the same tables, opened as the CLI does
    assert rebuild(app, view) == head + 1 and _rows(view) == rows


def test_a_broker_fed_projection_runs_the_same_code_and_skips_duplicates(sqlite_env, tmp_path: Path) -> None:
    app = Orders(env=sqlite_env)
    _history(app)
    broker = EmbeddedBroker(tmp_path / "broker.db")
    subscriber = broker.subscriber("orders", "read-model")
    for name in ("relay", "second-relay"):  # every event published twice: the duplicates a redelivery makes
        EventStoreRelay(app, broker.publisher(), name=name, topic_of=lambda _: "orders").drain()
    view = open_view(OrderSummaries, f"sqlite:{tmp_path / 'query.db'}")
    handler = broker_handler(app, view, SqlIdempotencyStore("order-summaries", window_hours=24))
    router = Router(subscriber, lambda delivery: handler(delivery), max_messages=50, receive_timeout=0.2)
    assert router.run_until_idle(0.3) == 24
    assert _rows(view) == _replayed(app, tmp_path)
    with sqlite3.connect(tmp_path / "query.db") as conn:
        assert conn.execute("SELECT COUNT(*) FROM processed_events").fetchone()[0] == 12


PROJECTOR = Path(__file__).with_name("projector_worker.py")


def test_sigkilled_projectors_apply_every_event_once(tmp_path: Path, capsys) -> None:
    """First the crash window — the projector SIGKILLs itself after applying and tracking its first batch, before
    the commit — then projectors SIGKILLed at random moments while a writer appends. Any event applied twice or
    skipped would raise ProjectionConsistencyError (the read model checks each row's version) and end the run."""
    store, query = f"sqlite:{tmp_path / 'events.db'}", f"sqlite:{tmp_path / 'query.db'}"
    app = Orders(env=store_env(store))
    _history(app, 8)

    def worker(mode: str, env: dict[str, str] | None = None) -> subprocess.Popen:
        return subprocess.Popen([sys.executable, str(PROJECTOR), store, query, mode], stdout=subprocess.PIPE,
                                text=True, env={**os.environ, **(env or {})})

    crashed = worker("drain", {FAULT_BEFORE_COMMIT_ENV: "1"})
    assert crashed.wait(30) == -signal.SIGKILL
    view = open_view(OrderSummaries, query)
    assert Projector(app, view).position == 0 and _rows(view) == []  # applied, not committed: nothing kept

    done = threading.Event()

    def write() -> None:
        for _ in range(5):  # paced, so the writer outlasts a projector's start and the kill
            _history(app, 4)
            time.sleep(0.05)
        done.set()

    writer = threading.Thread(target=write)
    rng, kills, under_load = random.Random(4), 1, 0
    while not done.is_set() or kills < 2:
        projector = worker("run")
        assert projector.stdout.readline().strip() == "ready"
        if not writer.is_alive() and not done.is_set():
            writer.start()
        time.sleep(rng.uniform(0.05, 0.25))
        under_load += not done.is_set()
        projector.send_signal(signal.SIGKILL)
        assert projector.wait(10) == -signal.SIGKILL
        kills += 1
    writer.join()
    assert under_load >= 1  # at least one kill while the writer was still appending
    Projector(app, view).drain()
    assert _rows(view) == _replayed(app, tmp_path)
    assert Projector(app, view).position == app.recorder.max_notification_id()
    with capsys.disabled():
        print(f"\n[es projector kill test] events={app.recorder.max_notification_id()} kills={kills} "
              "(1 between apply and commit)")
