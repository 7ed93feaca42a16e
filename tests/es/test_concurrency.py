"""Concurrent writers: on one aggregate exactly one commit per version; on many, the relay misses nothing."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from edakit.es.orders import Orders
from edakit.es.relay import EventStoreRelay
from edakit.es.store import ConcurrencyConflict
from edakit.runtime.adapters.embedded import EmbeddedBroker

ITEMS = [{"product_id": "p-1", "quantity": 1, "unit_price": 2.0}]


@pytest.mark.parametrize("store", ["sqlite_env", "pg_env"])
def test_writers_on_one_aggregate_commit_one_version_each_and_the_rest_conflict(store, request) -> None:
    app = Orders(env={**request.getfixturevalue(store), "POSTGRES_POOL_SIZE": "10"})
    order_id = app.place_order("c-1", ITEMS)
    writers = 8
    barrier = threading.Barrier(writers)
    outcomes: list[str] = []
    retried = threading.Lock()

    def write(n: int) -> None:
        order = app.repository.get(order_id)  # every writer read version 1
        order._cancelled(f"writer {n}")
        barrier.wait()
        try:
            app.save(order)
            outcomes.append("committed")
        except ConcurrencyConflict as conflict:
            assert "another writer committed first" in str(conflict) and "retry" in str(conflict)
            outcomes.append("conflict")
            with retried:  # the retry the conflict asks for: reload, apply again, save
                order = app.repository.get(order_id)
                order._cancelled(f"writer {n}, retried")
                app.save(order)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.count("committed") == 1 and outcomes.count("conflict") == writers - 1
    versions = [e.originator_version for e in app.events.get(order_id)]
    assert versions == list(range(1, writers + 2))  # one commit per version, the retries after it


def test_writers_on_many_aggregates_while_the_relay_runs_lose_nothing_and_keep_order(pg_env, tmp_path: Path) -> None:
    app = Orders(env={**pg_env, "POSTGRES_POOL_SIZE": "10"})
    broker = EmbeddedBroker(tmp_path / "broker.db")
    subscriber = broker.subscriber("orders", "t")
    relay = EventStoreRelay(app, broker.publisher(), topic_of=lambda _: "orders", batch_size=25, poll_interval=0.01)
    stop = threading.Event()
    relaying = threading.Thread(target=relay.run, args=(stop,))
    relaying.start()
    writers, per_writer = 6, 12

    def write(n: int) -> None:
        order_id = app.place_order(f"c-{n}", ITEMS)
        for i in range(per_writer - 1):
            order = app.repository.get(order_id)
            order._cancelled(f"round {i}")
            app.save(order)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    head = app.recorder.max_notification_id()
    while relay.position < head:
        relaying.join(0.05)
    stop.set()
    relaying.join()
    received, last = [], {}
    while batch := subscriber.receive(100, 0.2):
        for delivery in batch:
            received.append(delivery.message)
            delivery.ack()
    assert len({m.id for m in received}) == len(received) == writers * per_writer  # all, once each
    for message in received:  # per aggregate: versions 1, 2, 3, ... in publish order
        version = int(message.headers["streamversion"])
        assert version == last.get(message.key, 0) + 1
        last[message.key] = version
    assert [int(m.headers["sequence"]) for m in received] == sorted(int(m.headers["sequence"]) for m in received)
