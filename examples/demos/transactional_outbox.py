"""Transactional outbox on the embedded broker: an order and its event commit together; a relay publishes after.

Why: a service that writes its database and then publishes (or the reverse) loses or invents events whenever one of
the two fails alone. With an outbox the event is a row in the same database transaction as the business change, and
a relay publishes the rows after commit, deleting each only once the broker acknowledged it.

What happens (no servers; the Order database and the broker are SQLite files in a temporary directory):
1. The Order service places three orders: each order row and its OrderPlaced event commit in one transaction.
2. A fourth order fails inside its transaction (its order id is taken): the transaction rolls back, so its event
   was never written either - no consumer hears of an order that does not exist.
3. The broker is down: the relay's publish fails and every row stays in the outbox (`lag` shows them failing).
4. The broker is back: the relay publishes the rows after their backoff and deletes them; the outbox is empty.
5. A relay process is killed (SIGKILL, the kit's EDAKIT_FAULT_AFTER_PUBLISH fault injection) after the broker
   acknowledged a new event but before it deleted the row. The row stays leased to the dead relay for a while; once
   the lease ends, the next relay publishes the event again. At-least-once: a duplicate (same event id), never a loss - see
   idempotent_consumer.py for what a consumer does about it.
6. The demo checks what the Shipping consumer group received against the orders that committed; any failed check
   exits 1.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from edakit.runtime.adapters.base import PublishError, Publisher
from edakit.runtime.adapters.embedded import EmbeddedBroker
from edakit.runtime.message import Message
from edakit.runtime.outbox import OutboxEvent, Relay, RelayPublishError, RetryPolicy, SqliteOutbox, append, create_schema
from edakit.runtime.outbox.relay import FAULT_AFTER_PUBLISH_ENV

TOPIC, GROUP = "order-placed", "shipping"
BACKOFF = RetryPolicy(backoff_base=0.05, backoff_max=0.1)  # short, so the demo does not wait long for the retry
LEASE = 1.0  # seconds a relay's claim holds its rows (SqliteOutbox's default is 60)


def say(text: str) -> None:
    print(text, flush=True)


class Switchable:
    """The broker as the relay sees it: `down` makes every publish fail, as an unreachable broker does."""

    def __init__(self, publisher: Publisher) -> None:
        self.publisher, self.down = publisher, False

    def publish(self, topic: str, messages: Sequence[Message]) -> None:
        if self.down:
            raise PublishError(f"broker unreachable: {len(messages)} event(s) not acknowledged")
        self.publisher.publish(topic, messages)

    def close(self) -> None:
        self.publisher.close()


def place_order(db: sqlite3.Connection, order_id: str, total: float) -> str:
    """The Order service's request handler: the order row and its event, one transaction. Returns the event id."""
    event = OutboxEvent(aggregate_type="order", aggregate_id=order_id, event_type="OrderPlaced",
                        payload=json.dumps({"order_id": order_id, "total_amount": total}).encode(), topic=TOPIC,
                        source="/services/order")
    with db:  # commits both on success, rolls both back on any error
        db.execute("INSERT INTO orders (order_id, total_amount) VALUES (?, ?)", (order_id, total))
        append(db, [event])
    return event.event_id


def lag(outbox: SqliteOutbox) -> str:
    now = outbox.lag()
    return f"outbox: {now.rows} row(s) waiting, {now.failing_rows} failing"


def relay_once(workdir: Path) -> None:
    """The relay as its own process: one drain with a short lease (the parent sets the fault injection)."""
    outbox = SqliteOutbox(workdir / "orders.sqlite3", lease_seconds=LEASE)
    Relay(outbox, EmbeddedBroker(workdir / "broker.sqlite3").publisher(), retry=BACKOFF).drain()


def main(argv: Sequence[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else list(argv)
    if args[:1] == ["--relay-once"]:
        relay_once(Path(args[1]))
        return 0
    problems: list[str] = []
    with tempfile.TemporaryDirectory(prefix="edakit-outbox-") as tmp:
        broker = EmbeddedBroker(Path(tmp) / "broker.sqlite3")
        broker.create_group(TOPIC, GROUP)  # the consumer group exists before anything is published
        db = sqlite3.connect(Path(tmp) / "orders.sqlite3")
        db.execute("CREATE TABLE orders (order_id TEXT PRIMARY KEY, total_amount REAL NOT NULL)")
        create_schema(db)
        outbox = SqliteOutbox(Path(tmp) / "orders.sqlite3")

        say("1. three orders, each row and its OrderPlaced event in one transaction")
        committed = {order_id: place_order(db, order_id, total)
                     for order_id, total in (("ord-1", 25.0), ("ord-2", 40.5), ("ord-3", 12.0))}
        say(f"   placed {', '.join(committed)}; {lag(outbox)}")

        say("\n2. a fourth order fails inside its transaction")
        try:
            place_order(db, "ord-2", 99.0)  # ord-2 exists: the INSERT raises, the outbox row goes with it
            problems.append("the duplicate order id was accepted")
        except sqlite3.IntegrityError as error:
            say(f"   rolled back ({error}); {lag(outbox)} - still 3: no event for an order that was never saved")

        say("\n3. the broker is down; the relay tries to publish")
        publisher = Switchable(broker.publisher())
        relay = Relay(outbox, publisher, retry=BACKOFF)
        publisher.down = True
        try:
            relay.drain()
            problems.append("the relay reported success while the broker was down")
        except RelayPublishError as error:
            say(f"   relay: {error}")
        say(f"   {lag(outbox)} - nothing lost, the rows wait out their backoff")
        if outbox.lag().rows != 3:
            problems.append(f"expected 3 rows kept while the broker was down, got {outbox.lag().rows}")

        say("\n4. the broker is back")
        publisher.down = False
        time.sleep(BACKOFF.backoff_max)  # the rows are due again after their backoff
        say(f"   relay published {relay.drain()} event(s); {lag(outbox)}")

        say("\n5. a new order; the relay is killed between the broker's ack and the delete")
        committed["ord-4"] = place_order(db, "ord-4", 7.25)
        killed = subprocess.run([sys.executable, __file__, "--relay-once", tmp], timeout=60,
                                env={**os.environ, FAULT_AFTER_PUBLISH_ENV: "1"})  # the kit's fault injection
        say(f"   the relay process was killed by signal {-killed.returncode} after the broker's ack; its row is "
            f"still there: {lag(outbox)}")
        if killed.returncode != -signal.SIGKILL:
            problems.append(f"the relay process should have been SIGKILLed, it exited {killed.returncode}")
        early = Relay(outbox, publisher, retry=BACKOFF).drain()
        say(f"   a new relay at once: published {early} - the dead relay's lease ({LEASE} s here, 60 s by default) "
            "still holds the row")
        time.sleep(LEASE)
        again = Relay(outbox, publisher, retry=BACKOFF).drain()
        say(f"   the same relay after the lease: published {again} - ord-4's event for the second time; {lag(outbox)}")
        if (early, again) != (0, 1):
            problems.append(f"expected 0 events published under the lease and 1 after it, got {early} and {again}")

        say(f"\n6. what consumer group {GROUP!r} received")
        subscriber = broker.subscriber(TOPIC, GROUP)
        received: list[Message] = []
        while deliveries := subscriber.receive(max_messages=10, timeout=0.1):
            for delivery in deliveries:
                received.append(delivery.message)
                delivery.ack()
        for message in received:
            say(f"   {message.type} {json.loads(message.payload)['order_id']} (event id {message.id[:8]}...)")
        subscriber.close()
        publisher.close()
        outbox.close()
        db.close()

    ids = Counter(message.id for message in received)
    if set(ids) != set(committed.values()):
        problems.append(f"received events {sorted(ids)} are not the committed orders' {sorted(committed.values())}")
    if sorted(ids.values()) != [1, 1, 1, 2] or ids[committed["ord-4"]] != 2:
        problems.append(f"expected ord-4's event twice and every other once, got {dict(ids)}")
    for problem in problems:
        say(f"FAIL: {problem}")
    say("\ntransactional outbox: " + ("FAIL" if problems else
        "PASS: every committed order's event published, the rolled-back order's never; a broker outage lost "
        "nothing; the relay crash made one duplicate"))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
