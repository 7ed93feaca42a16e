"""Upcasting generated from the schemas: a stored v1 event reads as the v2 its class now is, defaults filled."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any, ClassVar

import orjson
import pytest
from eventsourcing.domain import Aggregate, event
from hypothesis import given, settings
from hypothesis import strategies as st

from edakit.es.mapping import EventSchemas
from edakit.es.orders import REPO_SCHEMAS, Orders, OrderSummaries, order_rows
from edakit.es.projection import Projector, open_view
from edakit.es.store import SchemaApplication
from edakit.es.upcast import check_upcasting, upcaster_chain
from edakit.schemas.repo import load_subjects
from edakit.schemas.validate import validator_for


class OrderBeforeV2(Aggregate):
    """The Order aggregate as it was when order-placed had only v1: no shipping address, no sales channel."""

    class Placed(Aggregate.Created):
        customer_id: str
        items: list[dict[str, Any]]
        total_amount: float
        currency: str

    @event(Placed)
    def __init__(self, customer_id: str, items: list[dict[str, Any]], total_amount: float, currency: str) -> None:
        self.customer_id = customer_id


class OrdersBeforeV2(SchemaApplication):
    name = "Orders"  # the same application, deployed before v2
    schemas_root: ClassVar[Path] = REPO_SCHEMAS

    @classmethod
    def register_events(cls, schemas: EventSchemas) -> None:
        schemas.register(OrderBeforeV2.Placed, "order-events/order-placed", id_field="order_id", version=1)


ITEMS = [{"product_id": "p-1", "quantity": 3, "unit_price": 2.5}]


def test_an_event_stored_at_v1_before_v2_existed_reads_as_v2_with_its_defaults(sqlite_env, tmp_path: Path) -> None:
    old = OrdersBeforeV2(env=sqlite_env)
    order = OrderBeforeV2("c-1", ITEMS, 7.5, "EUR")
    old.save(order)
    [stored] = old.recorder.select_notifications(start=None, limit=1)
    assert stored.topic == "order-events/order-placed@v1"
    assert set(orjson.loads(stored.state)) == {"event_id", "event_time", "order_id", "customer_id", "items",
                                               "total_amount", "currency"}
    new = Orders(env=sqlite_env)  # the v2 class: reads what v1 wrote
    placed = next(iter(new.events.get(order.id)))
    assert (placed.shipping_address, placed.sales_channel, placed.customer_id) == (None, "web", "c-1")
    assert new.repository.get(order.id).sales_channel == "web"
    new.pay_order(order.id, "pay-1")  # and the v1-born stream goes on at v2
    view = open_view(OrderSummaries, f"sqlite:{tmp_path / 'query.db'}")
    Projector(new, view).drain()
    with view.connection() as conn:
        assert [(r["sales_channel"], r["status"]) for r in order_rows(conn)] == [("web", "paid")]


[PLACED] = [s for s in load_subjects(REPO_SCHEMAS)[0] if s.event == "order-placed"]
V1_TO_V2 = upcaster_chain(PLACED, 1, 2)
TEXT = st.text(min_size=1, max_size=10)


@settings(max_examples=100, deadline=None)
@given(payload=st.fixed_dictionaries({
    "event_id": st.uuids().map(str), "event_time": st.integers(0, 2**53), "order_id": TEXT, "customer_id": TEXT,
    "items": st.lists(st.fixed_dictionaries({"product_id": TEXT, "quantity": st.integers(1, 2**31 - 1),
                                             "unit_price": st.floats(allow_nan=False, allow_infinity=False)}),
                      min_size=1, max_size=3),
    "total_amount": st.floats(allow_nan=False, allow_infinity=False), "currency": TEXT}))
def test_every_valid_v1_payload_upcasts_to_itself_plus_the_v2_defaults(payload: dict[str, Any]) -> None:
    assert validator_for(PLACED.path(1, "JSON")).errors(payload) == []
    upcast = V1_TO_V2(payload)
    assert upcast == {**payload, "shipping_address": None, "sales_channel": "web"}
    for schema_type in ("AVRO", "JSON"):
        assert validator_for(PLACED.path(2, schema_type)).errors(upcast) == []


def _repo_with_v3(tmp_path: Path, field: dict[str, Any], json_type: dict[str, Any]) -> Path:
    """A copy of the repository's order-events whose order-placed gains a v3 with `field`."""
    root = tmp_path / "repo"
    shutil.copytree(REPO_SCHEMAS / "order-events", root / "schemas" / "order-events")
    (root / "schemas/order-events/schema-config.yaml").write_text("compatibility: NONE\n")
    v3 = root / "schemas/order-events/v3"
    v3.mkdir()
    avro = json.loads((REPO_SCHEMAS / "order-events/v2/order-placed.avsc").read_text())
    avro["fields"].append(field)
    (v3 / "order-placed.avsc").write_text(json.dumps(avro))
    js = json.loads((REPO_SCHEMAS / "order-events/v2/order-placed.schema.json").read_text())
    js["properties"][field["name"]] = json_type
    (v3 / "order-placed.schema.json").write_text(json.dumps(js))
    return root


def test_the_repository_reads_every_subject_at_its_newest_version(repo_root: Path) -> None:
    assert check_upcasting(repo_root) == []


def test_a_change_no_default_expresses_needs_a_hand_written_upcaster(tmp_path: Path) -> None:
    root = _repo_with_v3(tmp_path, {"name": "priority", "type": "int"}, {"type": "integer"})
    problems = [str(p) for p in check_upcasting(root)]
    assert len(problems) == 2 and all("priority" in p for p in problems)  # v1 -> v3 runs through the same step
    for older in (1, 2):
        assert any(f"order-events/order-placed v{older} cannot be read as v3 and no hand-written upcaster is "
                   "registered" in p for p in problems)
    hand = {("order-events/order-placed", 2, 3): lambda payload: {**payload, "priority": 0}}
    assert check_upcasting(root, hand) == []
    [subject] = [s for s in load_subjects(root / "schemas")[0] if s.event == "order-placed"]
    assert upcaster_chain(subject, 1, 3, hand)({"event_id": "e", "event_time": 1, "order_id": "o",
                                                "customer_id": "c", "items": [], "total_amount": 0.0,
                                                "currency": "EUR"})["priority"] == 0


def test_a_field_added_with_a_default_needs_no_code(tmp_path: Path) -> None:
    root = _repo_with_v3(tmp_path, {"name": "coupon", "type": ["null", "string"], "default": None},
                         {"type": ["string", "null"]})
    assert check_upcasting(root) == []
