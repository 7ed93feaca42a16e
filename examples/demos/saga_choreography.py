"""Saga by choreography on the embedded broker: no orchestrator, each service reacts to the others' events.

Why: an order spans three services' databases, so no one transaction can cover it. In a choreographed saga each
service does its local step on an event and publishes the next event; a failure is answered with compensating
events that undo the completed steps. Each service here reacts through the kit's Router, records each event id in
the same transaction as its step (idempotent consumer) and writes the events it emits into its own outbox in that
transaction too (transactional outbox), so a crash or a redelivery never does a step twice or loses one.
(saga_order_fulfilment.py runs the same order flow with an orchestrator and one central definition.)

Events (topic: who publishes there):  orders: Order service  |  payments: Payment  |  shipments: Shipping
    OrderPlaced -> Payment charges    -> PaymentTaken    -> Shipping ships -> OrderShipped  -> Order: SHIPPED
                                     \\-> PaymentFailed  -> Order cancels  -> OrderCancelled   (compensation)
    PaymentTaken -> Shipping is out of stock -> ShipmentFailed -> Payment refunds -> PaymentRefunded
                 -> Order cancels -> OrderCancelled                                 (compensations, in reverse)

What happens (no servers; the broker and each service's database are SQLite files in a temporary directory):
1. The Order service places three orders: ord-1 goes through; ord-2's customer cannot pay (PaymentFailed, the order
   is cancelled); ord-3 is paid but out of stock (ShipmentFailed: the payment is refunded, the order cancelled).
2. The broker stores the Payment service's PaymentTaken for ord-1, but its acknowledgement is lost on the way back
   to the relay, which keeps the outbox row and publishes it again: the event goes out twice, and every service
   skips the duplicate.
3. The demo checks each service's tables and the event chain of each order; any failed check exits 1.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path

from edakit.runtime.adapters.base import Delivery, Publisher
from edakit.runtime.adapters.embedded import EmbeddedBroker
from edakit.runtime.idempotency import SqlIdempotencyStore, transactional
from edakit.runtime.message import Message
from edakit.runtime.middleware import RetryPolicy, Router, compose, retry
from edakit.runtime.outbox import OutboxEvent, Relay, SqliteOutbox, append, create_schema

POLICY = RetryPolicy(max_attempts=3, base_delay=0.05, max_delay=0.2)
Emitted = list[tuple[str, dict[str, object]]]  # (event type, payload) a step publishes
Reaction = Callable[[dict, sqlite3.Connection], tuple[str, Emitted]]  # what it did, and what it emits
EXPECTED_CHAINS = {
    "ord-1": ["OrderPlaced", "PaymentTaken", "OrderShipped"],
    "ord-2": ["OrderPlaced", "PaymentFailed", "OrderCancelled"],
    "ord-3": ["OrderPlaced", "PaymentTaken", "ShipmentFailed", "PaymentRefunded", "OrderCancelled"],
}


def say(text: str) -> None:
    print(text, flush=True)


class Service:
    """One service: its own database (business tables, outbox, idempotency records), its topic, its reactions."""

    def __init__(self, name: str, topic: str, workdir: Path, tables: Sequence[str]) -> None:
        self.name, self.topic = name, topic
        path = workdir / f"{name}.sqlite3"
        self.db = sqlite3.connect(path)
        create_schema(self.db)
        self.store = SqlIdempotencyStore(consumer=name, window_hours=24)
        with self.db:
            for table in tables:
                self.db.execute(f"CREATE TABLE {table}")
            self.store.create_schema(self.db)
        self.outbox = SqliteOutbox(path)
        self.reactions: dict[str, Reaction] = {}
        self.listens: set[str] = set()
        self.duplicates = 0

    def on(self, topic: str, event_type: str) -> Callable[[Reaction], Reaction]:
        def register(reaction: Reaction) -> Reaction:
            self.listens.add(topic)
            self.reactions[event_type] = reaction
            return reaction
        return register

    def emit(self, tx: sqlite3.Connection, order_id: str, emitted: Emitted) -> None:
        append(tx, [OutboxEvent(aggregate_type="order", aggregate_id=order_id, event_type=event_type,
                                payload=json.dumps({"order_id": order_id, **payload}).encode(), topic=self.topic,
                                source=f"/services/{self.name}") for event_type, payload in emitted])

    def react(self, delivery: Delivery, tx: sqlite3.Connection) -> None:
        """Runs in the delivery's transaction: the step, the events it emits and the idempotency record commit
        together or not at all."""
        reaction = self.reactions.get(delivery.message.type)
        if reaction is None:
            return  # another service's business: recorded as seen, nothing to do
        event = json.loads(delivery.message.payload)
        did, emitted = reaction(event, tx)
        self.emit(tx, event["order_id"], emitted)
        then = ", ".join(t for t, _ in emitted) or "nothing"
        say(f"   {self.name:<8} <- {delivery.message.type:<15} {event['order_id']}: {did}; emits {then}")

    def skip(self, delivery: Delivery) -> None:
        self.duplicates += 1
        say(f"   {self.name:<8} <- {delivery.message.type:<15} {json.loads(delivery.message.payload)['order_id']}: "
            f"duplicate of event {delivery.message.id[:8]}..., skipped")

    def routers(self, broker: EmbeddedBroker) -> list[Router]:
        handler = compose(transactional(self.db, self.store, self.react, on_duplicate=self.skip), retry(POLICY))
        return [Router(broker.subscriber(topic, self.name), handler, receive_timeout=0) for topic in sorted(self.listens)]


class LostAckOnce:
    """The broker stores the first publish, but its acknowledgement never reaches the relay (the connection drops)."""

    def __init__(self, publisher: Publisher) -> None:
        self.publisher, self.crashed = publisher, False

    def publish(self, topic: str, messages: Sequence[Message]) -> None:
        self.publisher.publish(topic, messages)
        if not self.crashed:
            self.crashed = True
            raise ConnectionAbortedError(f"the broker stored {messages[0].type}, but its acknowledgement was lost")

    def close(self) -> None:
        self.publisher.close()


def build(workdir: Path) -> tuple[Service, Service, Service]:
    order = Service("order", "orders", workdir, ["orders (order_id TEXT PRIMARY KEY, customer_id TEXT, "
                                                 "sku TEXT, amount REAL, status TEXT)"])
    payment = Service("payment", "payments", workdir, ["wallets (customer_id TEXT PRIMARY KEY, balance REAL)",
                                                       "payments (order_id TEXT PRIMARY KEY, customer_id TEXT, "
                                                       "amount REAL, status TEXT)"])
    shipping = Service("shipping", "shipments", workdir, ["stock (sku TEXT PRIMARY KEY, units INTEGER)",
                                                          "shipments (order_id TEXT PRIMARY KEY, sku TEXT)"])
    with payment.db:
        payment.db.executemany("INSERT INTO wallets VALUES (?, ?)", [("cus-42", 100.0), ("cus-7", 10.0)])
    with shipping.db:
        shipping.db.executemany("INSERT INTO stock VALUES (?, ?)", [("sku-123", 5), ("sku-999", 0)])

    # Payment ------------------------------------------------------------------------------------------------
    @payment.on("orders", "OrderPlaced")
    def take_payment(event: dict, tx: sqlite3.Connection) -> tuple[str, Emitted]:
        (balance,) = tx.execute("SELECT balance FROM wallets WHERE customer_id = ?", (event["customer_id"],)).fetchone()
        if balance < event["amount"]:
            return (f"declined, {event['customer_id']} has {balance:.2f}",
                    [("PaymentFailed", {"reason": "insufficient funds"})])
        tx.execute("UPDATE wallets SET balance = balance - ? WHERE customer_id = ?", (event["amount"],
                                                                                      event["customer_id"]))
        tx.execute("INSERT INTO payments VALUES (?, ?, ?, 'TAKEN')", (event["order_id"], event["customer_id"],
                                                                      event["amount"]))
        return f"charged {event['amount']:.2f}", [("PaymentTaken", {"sku": event["sku"], "amount": event["amount"]})]

    @payment.on("shipments", "ShipmentFailed")
    def refund(event: dict, tx: sqlite3.Connection) -> tuple[str, Emitted]:  # compensates PaymentTaken
        customer, amount = tx.execute("SELECT customer_id, amount FROM payments WHERE order_id = ?",
                                      (event["order_id"],)).fetchone()
        tx.execute("UPDATE wallets SET balance = balance + ? WHERE customer_id = ?", (amount, customer))
        tx.execute("UPDATE payments SET status = 'REFUNDED' WHERE order_id = ?", (event["order_id"],))
        return f"refunded {amount:.2f} (compensation)", [("PaymentRefunded", {"amount": amount})]

    # Shipping -----------------------------------------------------------------------------------------------
    @shipping.on("payments", "PaymentTaken")
    def ship(event: dict, tx: sqlite3.Connection) -> tuple[str, Emitted]:
        (units,) = tx.execute("SELECT units FROM stock WHERE sku = ?", (event["sku"],)).fetchone()
        if units < 1:
            return f"{event['sku']} out of stock", [("ShipmentFailed", {"reason": f"{event['sku']} out of stock"})]
        tx.execute("UPDATE stock SET units = units - 1 WHERE sku = ?", (event["sku"],))
        tx.execute("INSERT INTO shipments VALUES (?, ?)", (event["order_id"], event["sku"]))
        return f"shipped {event['sku']}", [("OrderShipped", {})]

    # Order --------------------------------------------------------------------------------------------------
    # Events of one order travel on two topics, so they may arrive in any order: a status only moves forward.
    rank = {"PENDING": 0, "PAID": 1, "SHIPPED": 2, "CANCELLED": 2}

    def status(new: str, compensate: bool = False) -> Reaction:
        def set_status(event: dict, tx: sqlite3.Connection) -> tuple[str, Emitted]:
            (current,) = tx.execute("SELECT status FROM orders WHERE order_id = ?", (event["order_id"],)).fetchone()
            if rank[current] >= rank[new]:
                return f"order already {current}, kept", []
            tx.execute("UPDATE orders SET status = ? WHERE order_id = ?", (new, event["order_id"]))
            if compensate:
                return (f"order {new} (compensation)",
                        [("OrderCancelled", {"reason": event.get("reason", "payment refunded")})])
            return f"order {new}", []
        return set_status

    order.on("payments", "PaymentTaken")(status("PAID"))
    order.on("shipments", "OrderShipped")(status("SHIPPED"))
    order.on("payments", "PaymentFailed")(status("CANCELLED", compensate=True))
    order.on("payments", "PaymentRefunded")(status("CANCELLED", compensate=True))
    return order, payment, shipping


def place(order: Service, order_id: str, customer: str, sku: str, amount: float) -> None:
    with order.db:  # the order row and its OrderPlaced event, one transaction
        order.db.execute("INSERT INTO orders VALUES (?, ?, ?, ?, 'PENDING')", (order_id, customer, sku, amount))
        order.emit(order.db, order_id, [("OrderPlaced", {"customer_id": customer, "sku": sku, "amount": amount})])
    say(f"   order    places {order_id}: {customer} buys {sku} for {amount:.2f}; emits OrderPlaced")


def main() -> int:
    previous = logging.root.manager.disable
    logging.disable(logging.WARNING)  # the relay logs the lost acknowledgement; the demo prints it itself
    try:
        return _main()
    finally:
        logging.disable(previous)  # a caller's logging (a test run importing the demo) is left as it was


def _main() -> int:
    problems: list[str] = []
    with tempfile.TemporaryDirectory(prefix="edakit-choreo-") as tmp:
        workdir = Path(tmp)
        broker = EmbeddedBroker(workdir / "broker.sqlite3")
        services = build(workdir)
        order, payment, shipping = services
        for service in services:
            for topic in service.listens:
                broker.create_group(topic, service.name)
        for topic in ("orders", "payments", "shipments"):
            broker.create_group(topic, "audit")  # an observer: prints nothing, keeps each order's event chain
        routers = [router for service in services for router in service.routers(broker)]
        audit = [broker.subscriber(topic, "audit") for topic in ("orders", "payments", "shipments")]
        crashing = LostAckOnce(broker.publisher())
        relays = {order.name: Relay(order.outbox, broker.publisher()),
                  payment.name: Relay(payment.outbox, crashing, batch_size=1),
                  shipping.name: Relay(shipping.outbox, broker.publisher())}

        say("1. the Order service places three orders")
        place(order, "ord-1", "cus-42", "sku-123", 25.0)
        place(order, "ord-2", "cus-7", "sku-123", 40.5)
        place(order, "ord-3", "cus-42", "sku-999", 12.0)

        say("\n2. the services react to each other's events (each relay publishes its service's outbox)")
        chains: dict[str, list[str]] = defaultdict(list)
        seen: set[str] = set()
        idle_since = time.monotonic()
        while time.monotonic() - idle_since < POLICY.max_delay + 0.1:  # quiet for longer than any retry delay
            busy = 0
            for name, relay in relays.items():
                try:
                    busy += relay.drain()
                except ConnectionAbortedError as crash:
                    say(f"   {name} relay: {crash}; the outbox row stays and goes out again: a duplicate")
                    busy += 1
            busy += sum(router.run_once() for router in routers)
            for subscriber in audit:
                for delivery in subscriber.receive(max_messages=10, timeout=0):
                    if delivery.message.id not in seen:
                        seen.add(delivery.message.id)
                        chains[json.loads(delivery.message.payload)["order_id"]].append(delivery.message.type)
                    delivery.ack()
            if busy:
                idle_since = time.monotonic()

        say("\n3. where each service ended")
        statuses = dict(order.db.execute("SELECT order_id, status FROM orders"))
        paid = dict(payment.db.execute("SELECT order_id, status FROM payments"))
        wallets = dict(payment.db.execute("SELECT customer_id, balance FROM wallets"))
        shipped = [r[0] for r in shipping.db.execute("SELECT order_id FROM shipments")]
        say(f"   order:    {statuses}")
        say(f"   payment:  {paid}; wallets {wallets}")
        say(f"   shipping: shipped {shipped}")
        for order_id, chain in sorted(chains.items()):
            say(f"   {order_id}: {' -> '.join(chain)}")
        duplicates = {s.name: s.duplicates for s in services}
        say(f"   duplicates skipped: {duplicates}")
        for router in routers:
            router.subscriber.close()
        for subscriber in audit:
            subscriber.close()
        for service in services:
            service.outbox.close()
            service.db.close()

    if statuses != {"ord-1": "SHIPPED", "ord-2": "CANCELLED", "ord-3": "CANCELLED"}:
        problems.append(f"order statuses: {statuses}")
    if paid != {"ord-1": "TAKEN", "ord-3": "REFUNDED"} or wallets != {"cus-42": 75.0, "cus-7": 10.0}:
        problems.append(f"payments {paid}, wallets {wallets}: expected ord-1 taken, ord-3 refunded, no charge for ord-2")
    if shipped != ["ord-1"]:
        problems.append(f"expected only ord-1 shipped, got {shipped}")
    if dict(chains) != EXPECTED_CHAINS:
        problems.append(f"event chains {dict(chains)} differ from {EXPECTED_CHAINS}")
    if duplicates["shipping"] != 1 or duplicates["order"] != 1:
        problems.append(f"expected the duplicate PaymentTaken skipped once by shipping and order, got {duplicates}")
    for problem in problems:
        say(f"FAIL: {problem}")
    say("\nsaga choreography: " + ("FAIL" if problems else
        "PASS: ord-1 shipped; ord-2's failed payment cancelled it; ord-3's failed shipment refunded and cancelled "
        "it; the duplicate event changed nothing"))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
