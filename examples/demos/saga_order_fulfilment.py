"""Saga orchestration on the embedded broker: the Python orchestrator runs configs/sagas/order-fulfilment.yaml.

Why: an order spans three services' databases, so no one transaction covers it. An orchestrated saga keeps the
order of steps in one definition (the same file edakit turns into the Step Functions state machine) and one
durable instance per order: the orchestrator sends each step's command, waits for the answer, and when a step
fails sends the compensations of the completed steps, newest first. (saga_choreography.py runs the same flow
without a central definition.)

    CreateOrder (order-commands) -> ProcessPayment (payment-commands) -> ShipOrder (shipping-commands)
    ShipOrder fails -> refund the payment -> cancel the order                       (compensations, in reverse)

What happens (no servers; the broker and each database are SQLite files in a temporary directory):
1. The orchestrator starts saga ord-1 in one transaction with its first command (the transactional outbox); a relay
   publishes it, the Order service answers through its own outbox, and so on: every step succeeds.
2. Saga ord-2: Shipping has no carrier for the parcel and answers ShippingUnavailable, which the definition does
   not retry: the payment is refunded and the order cancelled, and the saga ends Failed.
3. Each service runs the kit's Participant helper (one effect per saga, step and phase); the orchestrator's
   instance rows keep every transition. The demo checks the services' tables and each saga's trace; any failed
   check exits 1.
"""

from __future__ import annotations

import sqlite3
import sys
import tempfile
from pathlib import Path
from typing import Any

from edakit.runtime.adapters.embedded import EmbeddedBroker
from edakit.runtime.outbox import Relay, SqliteOutbox, create_schema
from edakit.saga import load_saga
from edakit.saga.engine import Orchestrator, Outcome
from edakit.saga.protocol import Command
from edakit.saga.store import TERMINAL, get_instance, history
from edakit.saga.worker import Participant, StepFailed, connect_sqlite

DEFINITION = Path(__file__).resolve().parents[2] / "configs" / "sagas" / "order-fulfilment.yaml"
EXPECTED_TRACES = {
    "ord-1": [("CreateOrder", "action"), ("ProcessPayment", "action"), ("ShipOrder", "action")],
    "ord-2": [("CreateOrder", "action"), ("ProcessPayment", "action"), ("ShipOrder", "action"),
              ("ProcessPayment", "compensation"), ("CreateOrder", "compensation")],
}


def say(text: str) -> None:
    print(text, flush=True)


class Service:
    """One participant service: its SQLite database (business table, outbox, idempotency records) and relay."""

    def __init__(self, name: str, directory: Path, broker: EmbeddedBroker, channel: str, ddl: str,
                 handler: Any) -> None:
        path = directory / f"{name}.sqlite3"
        with sqlite3.connect(path) as conn:
            create_schema(conn)
            conn.execute(ddl)
        self.name, self.db = name, connect_sqlite(str(path))
        broker.create_group(channel, name)
        self.participant = Participant(name, self.db, handler)
        self.participant.create_schema()
        self.router = self.participant.router(broker, channel, receive_timeout=0.0)
        self.relay = Relay(SqliteOutbox(path), broker.publisher())


def order_step(command: Command, tx: sqlite3.Connection) -> dict[str, Any]:
    order_id = command.input["order_id"]
    if command.phase == "action":
        tx.execute("INSERT INTO orders (order_id, status) VALUES (?, 'PENDING')", (order_id,))
        say(f"     order service: {order_id} created, stock reserved")
    else:
        tx.execute("UPDATE orders SET status = 'CANCELLED' WHERE order_id = ?", (order_id,))
        say(f"     order service: {order_id} cancelled, stock released")
    return {"order_id": order_id}


def payment_step(command: Command, tx: sqlite3.Connection) -> dict[str, Any]:
    order_id, amount = command.input["order_id"], command.input["amount"]
    if command.phase == "action":
        tx.execute("INSERT INTO payments (order_id, amount, status) VALUES (?, ?, 'TAKEN')", (order_id, amount))
        say(f"     payment service: {amount:.2f} charged for {order_id}")
        return {"payment_id": f"pay-{order_id}"}
    tx.execute("UPDATE payments SET status = 'REFUNDED' WHERE order_id = ?", (order_id,))
    say(f"     payment service: {amount:.2f} refunded for {order_id}")
    return {"refunded": amount}


def shipping_step(command: Command, tx: sqlite3.Connection) -> dict[str, Any]:
    order_id = command.input["order_id"]
    if command.input.get("destination") == "Atlantis":
        say(f"     shipping service: no carrier goes to Atlantis; {order_id} cannot ship")
        raise StepFailed("ShippingUnavailable", "no carrier serves the destination")
    tx.execute("INSERT INTO shipments (order_id, carrier) VALUES (?, 'DHL')", (order_id,))
    say(f"     shipping service: {order_id} booked with DHL")
    return {"carrier": "DHL"}


def printed(outcome: Outcome) -> None:
    if outcome.event == "dispatched":
        verb = "compensate" if outcome.phase == "compensation" else "run"
        say(f"   [{outcome.saga_id}] {verb} {outcome.step} (attempt {outcome.attempt})")
    elif outcome.event in ("succeeded", "failed", "timed_out"):
        say(f"   [{outcome.saga_id}] {outcome.step} {outcome.phase} {outcome.event}")
    elif outcome.event in TERMINAL:
        say(f"   [{outcome.saga_id}] saga ended: {outcome.event}")


def run(directory: Path) -> list[str]:
    saga = load_saga(DEFINITION)
    broker = EmbeddedBroker(directory / "broker.sqlite3")
    broker.create_group(saga.reply_channel, f"{saga.reply_channel}-orchestrator")
    services = [
        Service("order", directory, broker, "order-commands",
                "CREATE TABLE orders (order_id TEXT PRIMARY KEY, status TEXT)", order_step),
        Service("payment", directory, broker, "payment-commands",
                "CREATE TABLE payments (order_id TEXT PRIMARY KEY, amount REAL, status TEXT)", payment_step),
        Service("shipping", directory, broker, "shipping-commands",
                "CREATE TABLE shipments (order_id TEXT PRIMARY KEY, carrier TEXT)", shipping_step),
    ]
    saga_path = directory / "orchestrator.sqlite3"
    with sqlite3.connect(saga_path) as conn:
        create_schema(conn)
    db = connect_sqlite(str(saga_path))
    orchestrator = Orchestrator(saga, db, on_transition=printed)
    orchestrator.create_schema()
    replies = orchestrator.router(broker, receive_timeout=0.0)
    relay = Relay(SqliteOutbox(saga_path), broker.publisher())

    def until_ended(saga_id: str) -> None:
        for _ in range(200):
            moved = relay.drain()
            for service in services:
                moved += service.router.run_until_idle(0.0) + service.relay.drain()
            moved += replies.run_until_idle(0.0) + orchestrator.fire_due_timers()
            instance = get_instance(db, saga_id)
            if instance is not None and instance.state in TERMINAL:
                return
        raise RuntimeError(f"saga {saga_id} did not end")

    orders = {"ord-1": {"order_id": "ord-1", "amount": 42.0, "destination": "Berlin"},
              "ord-2": {"order_id": "ord-2", "amount": 17.5, "destination": "Atlantis"}}
    for saga_id, data in orders.items():
        say(f"\n== saga {saga_id}: ship to {data['destination']}")
        with orchestrator.transaction() as tx:
            orchestrator.start(tx, data, saga_id)
        until_ended(saga_id)

    problems = []
    states = {saga_id: get_instance(db, saga_id).state for saga_id in orders}  # type: ignore[union-attr]
    traces = {saga_id: [(t.step, t.phase) for t in history(db, saga_id) if t.event == "dispatched"]
              for saga_id in orders}
    order_rows = dict(services[0].db.execute("SELECT order_id, status FROM orders").fetchall())
    payment_rows = dict(services[1].db.execute("SELECT order_id, status FROM payments").fetchall())
    shipment_rows = [r[0] for r in services[2].db.execute("SELECT order_id FROM shipments")]
    say(f"\n   orchestrator: {states}")
    say(f"   order: {order_rows}   payment: {payment_rows}   shipping: {shipment_rows}")
    if states != {"ord-1": "Succeeded", "ord-2": "Failed"}:
        problems.append(f"saga states {states}: expected ord-1 Succeeded, ord-2 Failed")
    if traces != EXPECTED_TRACES:
        problems.append(f"step traces {traces} differ from {EXPECTED_TRACES}")
    if order_rows != {"ord-1": "PENDING", "ord-2": "CANCELLED"} or payment_rows != {"ord-1": "TAKEN",
                                                                                    "ord-2": "REFUNDED"}:
        problems.append(f"orders {order_rows}, payments {payment_rows}: expected ord-2 cancelled and refunded")
    if shipment_rows != ["ord-1"]:
        problems.append(f"expected only ord-1 shipped, got {shipment_rows}")
    return problems


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="saga-orchestration-") as directory:
        problems = run(Path(directory))
    for problem in problems:
        say(f"FAIL: {problem}")
    say("\nsaga orchestration: " + ("FAIL" if problems else
        "PASS: ord-1 went through all three steps; ord-2's failed shipment refunded the payment and cancelled the "
        "order, newest step first"))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
