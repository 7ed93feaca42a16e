"""The event store as the outbox: the relay publishes the notification log as CloudEvents, in order, position
advanced only after the broker's acknowledgement."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import orjson
import pytest

from edakit.es.mapping import event_id
from edakit.es.orders import Orders
from edakit.es.relay import EventStoreRelay, LogLock, subject_topic
from edakit.es.store import store_env
from edakit.runtime.adapters.base import PublishError
from edakit.runtime.adapters.embedded import EmbeddedBroker
from edakit.runtime.message import Message
from edakit.runtime.outbox.relay import FAULT_AFTER_PUBLISH_ENV

WORKER = Path(__file__).with_name("relay_worker.py")
ITEMS = [{"product_id": "p-1", "quantity": 1, "unit_price": 2.0}]


def _receive_all(subscriber, expect: int, timeout: float = 10.0) -> list[Message]:
    """Receive until `expect` distinct ids arrived (or `timeout`), acknowledging each delivery."""
    received: list[Message] = []
    deadline = time.monotonic() + timeout
    while len({m.id for m in received}) < expect and time.monotonic() < deadline:
        for delivery in subscriber.receive(100, 0.2):
            received.append(delivery.message)
            delivery.ack()
    return received


def _assert_in_order_per_aggregate(received: list[Message]) -> None:
    seen: set[str] = set()
    last: dict[str, int] = {}
    for message in received:
        if message.id in seen:
            continue  # a re-sent duplicate: order is judged on first deliveries
        seen.add(message.id)
        version = int(message.headers["streamversion"])
        assert version == last.get(message.key, 0) + 1, f"{message.key}: v{version} after v{last.get(message.key)}"
        last[message.key] = version


def test_each_event_becomes_a_stable_cloudevent_on_its_subject_topic(sqlite_env, tmp_path: Path) -> None:
    app = Orders(env=sqlite_env)
    broker = EmbeddedBroker(tmp_path / "broker.db")
    placed, paid = broker.subscriber("orders.order-placed", "t"), broker.subscriber("orders.order-paid", "t")
    order_id = app.place_order("c-1", ITEMS)
    app.pay_order(order_id, "pay-1")
    relay = EventStoreRelay(app, broker.publisher(), topic_of=subject_topic)
    assert relay.lag().as_dict() | {"seconds_behind": 0} == {"name": "relay:relay", "position": 0, "head": 2,
                                                              "events_behind": 2, "seconds_behind": 0}
    assert relay.drain() == 2
    [first] = [d.message for d in placed.receive(10, 1.0)]
    [second] = [d.message for d in paid.receive(10, 1.0)]
    stored = app.recorder.select_notifications(start=None, limit=2)
    assert first.id == event_id(order_id, 1) == orjson.loads(first.payload)["event_id"]
    assert first.payload == stored[0].state  # the stored schema payload, byte for byte
    assert (first.type, second.type) == ("com.edakit.orders.OrderPlaced", "com.edakit.orders.OrderPaid")
    assert (first.key, first.subject) == (str(order_id), None)
    assert dict(first.headers) == {"sequence": "1", "streamversion": "1", "dataversion": "2"}
    assert relay.position == 2 and relay.lag().events_behind == 0
    # a replay from position 0 (another relay name, here to another topic) sends the very same events again
    replayed = broker.subscriber("replayed", "t")
    EventStoreRelay(app, broker.publisher(), name="replay", topic_of=lambda _: "replayed").drain()
    assert [d.message for d in replayed.receive(10, 1.0)] == [first, second]


class RefusingPublisher:
    def __init__(self) -> None:
        self.calls = 0

    def publish(self, topic: str, messages: list[Message]) -> None:
        self.calls += 1
        raise PublishError("broker said no")

    def close(self) -> None:
        pass


def test_by_default_every_event_of_the_application_goes_to_one_topic(sqlite_env, tmp_path: Path) -> None:
    app = Orders(env=sqlite_env)
    broker = EmbeddedBroker(tmp_path / "broker.db")
    subscriber = broker.subscriber("orders.events", "t")
    order_id = app.place_order("c-1", ITEMS)
    app.pay_order(order_id, "pay-1")
    EventStoreRelay(app, broker.publisher()).drain()
    assert [m.type for m in _receive_all(subscriber, 2, timeout=2)] == ["com.edakit.orders.OrderPlaced",
                                                                        "com.edakit.orders.OrderPaid"]


def test_a_publish_the_broker_does_not_acknowledge_leaves_the_position(sqlite_env) -> None:
    app = Orders(env=sqlite_env)
    app.place_order("c-1", ITEMS)
    relay = EventStoreRelay(app, RefusingPublisher())
    with pytest.raises(PublishError):
        relay.run_once()
    assert relay.position == 0 and relay.lag().events_behind == 1


def test_only_one_relay_is_active_per_log_and_a_standby_takes_over(sqlite_env, tmp_path: Path) -> None:
    app = Orders(env=sqlite_env)
    first, second = LogLock(app, "relay:x"), LogLock(app, "relay:x")
    assert first.try_acquire() and not second.try_acquire()
    assert LogLock(app, "relay:other").try_acquire()  # another relay name is another lock
    first.release()
    assert second.try_acquire()
    second.release()


def test_only_one_relay_is_active_on_postgres(pg_env) -> None:
    app = Orders(env=pg_env)
    first, second = LogLock(app, "relay:x"), LogLock(app, "relay:x")
    assert first.try_acquire() and not second.try_acquire()
    first.release()
    assert second.try_acquire()
    second.release()


def _writer(app: Orders, streams: int, events_per_stream: int, done: threading.Event) -> None:
    """Appends to `streams` orders until each has `events_per_stream` events, then sets `done`."""
    ids = [app.place_order(f"c-{i}", ITEMS) for i in range(streams)]
    for round_ in range(events_per_stream - 1):
        for order_id in ids:
            order = app.repository.get(order_id)
            order._cancelled(f"round {round_}")  # the event, not the command: the stream just grows
            app.save(order)
            time.sleep(0.02)  # paced, so the writer outlasts a relay's start and the kill
    done.set()


def _worker(store: str, broker: Path, batch: int, mode: str = "run", env: dict | None = None) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, str(WORKER), store, str(broker), str(batch), mode],
                            stdout=subprocess.PIPE, text=True, env={**os.environ, **(env or {})})


BATCH = 10


def test_sigkilled_relays_lose_nothing_and_duplicate_at_most_a_batch_per_kill(tmp_path: Path, capsys) -> None:
    """First the crash window itself — the relay SIGKILLs itself right after the broker acknowledged its first batch,
    before the tracking record moves — then relays SIGKILLed at random moments while a writer appends."""
    store = f"sqlite:{tmp_path / 'events.db'}"
    app = Orders(env=store_env(store))
    broker = EmbeddedBroker(tmp_path / "broker.db")
    subscriber = broker.subscriber("orders", "t")
    for i in range(25):
        app.place_order(f"c-{i}", ITEMS)
    relay = _worker(store, tmp_path / "broker.db", BATCH, "drain", {FAULT_AFTER_PUBLISH_ENV: "1"})
    assert relay.wait(30) == -signal.SIGKILL  # it killed itself in the window
    in_process = EventStoreRelay(app, broker.publisher(), topic_of=lambda _: "orders", batch_size=BATCH)
    assert in_process.position == 0  # acknowledged by the broker, not advanced
    window = _receive_all(subscriber, BATCH, timeout=2)
    assert len(window) == BATCH

    done = threading.Event()
    writer = threading.Thread(target=_writer, args=(app, 6, 6, done))
    rng = random.Random(15)
    kills, under_load = 1, 0
    while not done.is_set() or kills < 2:
        relay = _worker(store, tmp_path / "broker.db", BATCH)
        assert relay.stdout.readline().strip() == "active"
        if not writer.is_alive() and not done.is_set():
            writer.start()  # once a relay is up: the kills land while events are being appended
        time.sleep(rng.uniform(0.05, 0.3))
        under_load += not done.is_set()
        relay.send_signal(signal.SIGKILL)
        assert relay.wait(10) == -signal.SIGKILL
        kills += 1
    writer.join()
    assert under_load >= 1  # at least one kill while the writer was still appending
    in_process.drain()
    total = 25 + 6 * 6
    received = window + _receive_all(subscriber, total)
    ids = [m.id for m in received]
    assert len(set(ids)) == total  # nothing lost
    assert ids[BATCH:2 * BATCH] == ids[:BATCH]  # the window's batch was sent again, first thing after the restart
    _assert_in_order_per_aggregate(received)
    assert len(ids) - total <= kills * BATCH  # duplicates: at most the unacknowledged batch of each kill
    with capsys.disabled():
        print(f"\n[es relay kill test] events={total} kills={kills} (1 in the ack-to-advance window) "
              f"duplicates={len(ids) - total}")
