"""The outbox, idempotent-consumer, DLQ/redrive and choreography demos: what they print in make demo's run, and that
each one's own checks catch the failure its pattern prevents (the demo is loaded in-process with the pattern
broken, and must exit 1)."""

from __future__ import annotations

import importlib.util
import json
import re
import sqlite3
from pathlib import Path
from types import ModuleType

from edakit.runtime import outbox as kit_outbox
from edakit.runtime.idempotency import SqlIdempotencyStore
from edakit.runtime.middleware import RetryPolicy
from edakit.runtime.outbox import OutboxEvent

DEMOS = Path(__file__).resolve().parents[2] / "examples/demos"


def load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"demo_{name}", DEMOS / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_outbox_demo_publishes_committed_orders_only_and_one_duplicate(demo_output):
    out = demo_output("transactional_outbox.py")
    received = re.findall(r"^   OrderPlaced (ord-\d) \(event id (\w+)\.\.\.\)$", out, re.MULTILINE)
    assert [order for order, _ in received] == ["ord-1", "ord-2", "ord-3", "ord-4", "ord-4"]
    assert received[3][1] == received[4][1]  # the relay's duplicate carries the same event id
    assert "rolled back (UNIQUE constraint failed: orders.order_id)" in out
    assert "outbox: 3 row(s) waiting, 3 failing - nothing lost" in out
    assert "transactional outbox: PASS" in out


def test_outbox_demo_fails_when_the_event_is_written_outside_the_business_transaction(monkeypatch, capsys):
    demo = load("transactional_outbox")

    def event_first(db: sqlite3.Connection, order_id: str, total: float) -> str:
        """The bug the outbox prevents: the event commits on its own, whatever the order's write does after it."""
        event = OutboxEvent(aggregate_type="order", aggregate_id=order_id, event_type="OrderPlaced",
                            payload=json.dumps({"order_id": order_id, "total_amount": total}).encode(),
                            topic=demo.TOPIC, source="/services/order")
        with db:
            kit_outbox.append(db, [event])
        with db:
            db.execute("INSERT INTO orders (order_id, total_amount) VALUES (?, ?)", (order_id, total))
        return event.event_id

    monkeypatch.setattr(demo, "place_order", event_first)
    assert demo.main() == 1
    out = capsys.readouterr().out
    assert "FAIL: received events" in out  # the rolled-back order's event went out
    assert "transactional outbox: FAIL" in out


def test_idempotent_consumer_demo_charges_as_each_design_does(demo_output):
    out = demo_output("idempotent_consumer.py")
    assert "naive charges: {'ord-1': 1, 'ord-2': 2, 'ord-3': 1}" in out
    assert "mark-first charges: {'ord-1': 1, 'ord-2': 1}" in out
    assert "mark-first ord-3 attempt 2: event" in out and "already recorded, skipped" in out
    assert "payments charges: {'ord-1': 1, 'ord-2': 1, 'ord-3': 1}" in out
    assert "payments   ord-3 attempt 2: charged 12.0" in out


def test_idempotent_consumer_demo_fails_when_the_store_forgets(monkeypatch, capsys):
    demo = load("idempotent_consumer")
    monkeypatch.setattr(SqlIdempotencyStore, "claim", lambda self, tx, key: True)  # every delivery looks new
    assert demo.main() == 1
    assert "FAIL: group payments: expected charges {'ord-1': 1, 'ord-2': 1, 'ord-3': 1}, got {'ord-1': 1, 'ord-2': 2" \
        in capsys.readouterr().out


def test_dlq_demo_retries_dead_letters_with_reasons_and_redrives(demo_output):
    out = demo_output("dlq_retry_redrive.py")
    assert re.findall(r"shipping ord-1 attempt (\d): (\w+)", out) == [("1", "TimeoutError"), ("2", "TimeoutError"),
                                                                       ("3", "shipment")]
    assert re.search(r"- ord-2 OrderPlaced: JSONDecodeError: .* after 1 attempt\(s\), from order-placed", out)
    assert "- ord-3 OrderPlaced: KeyError: 'country' after 3 attempt(s), from order-placed" in out
    assert "replayed 1 (ord-3), kept 1 in the DLQ" in out
    assert "shipping ord-3 attempt 1: shipment booked to DE" in out  # a replay starts over at attempt 1
    assert out.rstrip().endswith("shipped once") and "DLQ of order-placed/shipping: 0 message(s)" in out


def test_dlq_demo_fails_without_retries(monkeypatch, capsys):
    demo = load("dlq_retry_redrive")
    monkeypatch.setattr(demo, "POLICY", RetryPolicy(max_attempts=1, base_delay=0.05, max_delay=0.2))
    assert demo.main() == 1
    out = capsys.readouterr().out
    assert "FAIL: expected ord-1 and ord-4 shipped, got ['ord-4']" in out


def test_choreography_demo_runs_the_flows_and_compensates(demo_output):
    out = demo_output("saga_choreography.py")
    chains = dict(re.findall(r"^   (ord-\d): (\w+(?: -> \w+)*)$", out, re.MULTILINE))
    assert chains == {"ord-1": "OrderPlaced -> PaymentTaken -> OrderShipped",
                      "ord-2": "OrderPlaced -> PaymentFailed -> OrderCancelled",
                      "ord-3": "OrderPlaced -> PaymentTaken -> ShipmentFailed -> PaymentRefunded -> OrderCancelled"}
    assert "payment  <- ShipmentFailed  ord-3: refunded 12.00 (compensation); emits PaymentRefunded" in out
    assert "payment relay: the broker stored PaymentTaken, but its acknowledgement was lost" in out
    assert len(re.findall(r"<- PaymentTaken +ord-1: duplicate of event", out)) == 2  # order and shipping skip it
    assert "wallets {'cus-42': 75.0, 'cus-7': 10.0}" in out


def test_choreography_demo_fails_when_a_failure_goes_uncompensated(monkeypatch, capsys):
    demo = load("saga_choreography")
    build = demo.build

    def without_refunds(workdir: Path):
        services = build(workdir)
        del services[1].reactions["ShipmentFailed"]  # Payment ignores the failed shipment: no refund, no cancel
        return services

    monkeypatch.setattr(demo, "build", without_refunds)
    assert demo.main() == 1
    out = capsys.readouterr().out
    assert "FAIL: order statuses: {'ord-1': 'SHIPPED', 'ord-2': 'CANCELLED', 'ord-3': 'PAID'}" in out
    assert "saga choreography: FAIL" in out
