"""Idempotent consumer on the embedded broker: one charge per event, although brokers deliver at least once.

Why: every broker here may deliver a message more than once (a relay that crashed after the broker's ack, a consumer
that died before its ack, a redrive). A consumer whose effect must happen once records the event id, and the record
has to commit in the same transaction as the effect: recorded first, a crash loses the effect; recorded after, a
crash repeats it.

What happens (no servers; the broker and each group's database are SQLite files in a temporary directory):
1. Three OrderPlaced events are published; ord-2's twice, with the same event id (what a relay crash after the
   broker's ack produces).
2. Three Payment consumer groups read them. Each handler fails once on ord-3 after it wrote the charge row, before
   its transaction commits (the connection drops), and is retried (retry middleware, backoff).
   - `naive` charges whatever it receives: ord-2 is charged twice.
   - `mark-first` records the event id in its own transaction, then charges: the crash on ord-3 rolled the charge
     back but not the record, so the retry is skipped and ord-3 is never charged.
   - `payments` uses the kit's `transactional(db, SqlIdempotencyStore, handler)`: the record and the charge commit
     together, so the duplicate is skipped and the retry after the crash charges ord-3 once.
3. The demo checks each group's charges table; any failed check exits 1.
"""

from __future__ import annotations

import json
import sqlite3
import sys
import tempfile
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from edakit.runtime.adapters.base import Delivery
from edakit.runtime.adapters.embedded import EmbeddedBroker
from edakit.runtime.idempotency import SqlIdempotencyStore, begin, transactional
from edakit.runtime.message import Message
from edakit.runtime.middleware import Handler, RetryPolicy, Router, compose, retry

TOPIC = "order-placed"
POLICY = RetryPolicy(max_attempts=3, base_delay=0.05, max_delay=0.1)
EXPECTED = {  # group -> charges per order it should end with
    "naive": {"ord-1": 1, "ord-2": 2, "ord-3": 1},
    "mark-first": {"ord-1": 1, "ord-2": 1},
    "payments": {"ord-1": 1, "ord-2": 1, "ord-3": 1},
}


def say(text: str) -> None:
    print(text, flush=True)


class Payments:
    """One group's database: its charges table, its idempotency records, and the crash it suffers once."""

    def __init__(self, group: str, path: Path) -> None:
        self.group = group
        self.db = sqlite3.connect(path)
        self.store = SqlIdempotencyStore(consumer=group, window_hours=24)
        with self.db:
            self.db.execute("CREATE TABLE charges (order_id TEXT NOT NULL, amount REAL NOT NULL)")
            self.store.create_schema(self.db)
        self.crashed = False

    def charge(self, delivery: Delivery, tx: sqlite3.Connection) -> None:
        order = json.loads(delivery.message.payload)
        tx.execute("INSERT INTO charges VALUES (?, ?)", (order["order_id"], order["total_amount"]))
        if order["order_id"] == "ord-3" and not self.crashed:
            self.crashed = True
            say(f"   {self.group:<10} ord-3 attempt {delivery.attempt}: charge row written, then the connection "
                "drops before commit")
            raise ConnectionResetError("connection dropped before commit")
        say(f"   {self.group:<10} {order['order_id']} attempt {delivery.attempt}: charged {order['total_amount']}")

    def skipped(self, delivery: Delivery) -> None:
        order_id = json.loads(delivery.message.payload)["order_id"]
        say(f"   {self.group:<10} {order_id} attempt {delivery.attempt}: event {delivery.message.id[:8]}... already "
            "recorded, skipped")

    def charges(self) -> dict[str, int]:
        return dict(Counter(r[0] for r in self.db.execute("SELECT order_id FROM charges")))


def naive(payments: Payments) -> Handler:
    def handle(delivery: Delivery) -> None:
        with begin(payments.db) as tx:
            payments.charge(delivery, tx)
    return handle


def mark_first(payments: Payments) -> Handler:
    def handle(delivery: Delivery) -> None:
        with begin(payments.db) as tx:  # the record commits on its own...
            first_time = payments.store.claim(tx, delivery.message.id)
        if not first_time:
            payments.skipped(delivery)
            return
        with begin(payments.db) as tx:  # ...so a crash here leaves it behind without the charge
            payments.charge(delivery, tx)
    return handle


def with_the_kit(payments: Payments) -> Handler:
    # The record and the charge share one transaction; a duplicate calls `skipped` instead of the handler.
    return transactional(payments.db, payments.store, payments.charge, on_duplicate=payments.skipped)


HANDLERS: dict[str, Callable[[Payments], Handler]] = {"naive": naive, "mark-first": mark_first,
                                                       "payments": with_the_kit}


def main() -> int:
    problems: list[str] = []
    with tempfile.TemporaryDirectory(prefix="edakit-idem-") as tmp:
        broker = EmbeddedBroker(Path(tmp) / "broker.sqlite3")
        for group in HANDLERS:
            broker.create_group(TOPIC, group)
        events = [Message.new("OrderPlaced", json.dumps({"order_id": f"ord-{n}", "total_amount": amount}).encode(),
                              source="/services/order", key=f"ord-{n}")
                  for n, amount in ((1, 25.0), (2, 40.5), (3, 12.0))]
        publisher = broker.publisher()
        publisher.publish(TOPIC, [events[0], events[1], events[1], events[2]])  # ord-2's event twice, same id
        publisher.close()
        say(f"published ord-1, ord-2 (twice, event id {events[1].id[:8]}...), ord-3 to {TOPIC!r}")

        for group, make in HANDLERS.items():
            say(f"\ngroup {group!r}")
            payments = Payments(group, Path(tmp) / f"{group}.sqlite3")
            router = Router(broker.subscriber(TOPIC, group), compose(make(payments), retry(POLICY)))
            router.run_until_idle(idle_timeout=POLICY.max_delay + 0.2)  # drains the retry too
            router.subscriber.close()
            got = payments.charges()
            say(f"   {group} charges: {got}")
            if got != EXPECTED[group]:
                problems.append(f"group {group}: expected charges {EXPECTED[group]}, got {got}")
            payments.db.close()

    for problem in problems:
        say(f"FAIL: {problem}")
    say("\nidempotent consumer: " + ("FAIL" if problems else
        "PASS: naive charged ord-2 twice, mark-first lost ord-3; with the record in the charge's transaction "
        "every order was charged exactly once"))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
