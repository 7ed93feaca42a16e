"""Snapshots (the library's, at a configurable interval): snapshot + tail equals a full replay, and loads faster."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, ClassVar

from edakit.es.orders import Order, Orders

ITEMS = [{"product_id": "p-1", "quantity": 1, "unit_price": 2.0}]
INTERVAL, EVENTS, TAIL = 500, 2000, 37


class SnapshottingOrders(Orders):
    name = "Orders"
    snapshotting_intervals: ClassVar[dict[type, int]] = {Order: INTERVAL}


def _state(order: Order) -> dict[str, Any]:
    return {k: v for k, v in vars(order).items() if k not in ("_pending_events",)}


def _load(app: Orders, order_id: Any, rounds: int = 2) -> tuple[Order, float]:
    best = float("inf")
    for _ in range(rounds):
        started = time.perf_counter()
        order = app.repository.get(order_id)
        best = min(best, time.perf_counter() - started)
    return order, best


def test_snapshot_and_tail_equal_a_full_replay_and_load_faster(sqlite_env, capsys) -> None:
    writer = SnapshottingOrders(env=sqlite_env)
    order_id = writer.place_order("c-1", ITEMS)
    order = writer.repository.get(order_id)
    for n in range(2, EVENTS + 1):  # saved a snapshot interval at a time: a snapshot at every multiple of it
        order._cancelled(f"event {n}")
        if n % INTERVAL == 0:
            writer.save(order)
    for n in range(TAIL):
        order._cancelled(f"tail {n}")
    writer.save(order)
    snapshots = list(writer.snapshots.get(order_id))
    assert [s.originator_version for s in snapshots] == list(range(INTERVAL, EVENTS + 1, INTERVAL))

    with_snapshot, snapshot_seconds = _load(SnapshottingOrders(env=sqlite_env), order_id)
    replayed, replay_seconds = _load(Orders(env=sqlite_env), order_id)  # no snapshot store: every event
    assert with_snapshot.version == replayed.version == EVENTS + TAIL
    assert _state(with_snapshot) == _state(replayed)
    assert snapshot_seconds * 3 < replay_seconds
    with capsys.disabled():
        print(f"\n[es snapshots] {EVENTS + TAIL} events: full replay {replay_seconds * 1000:.1f} ms, "
              f"snapshot v{EVENTS} + {TAIL} events {snapshot_seconds * 1000:.1f} ms "
              f"({replay_seconds / snapshot_seconds:.0f}x)")
