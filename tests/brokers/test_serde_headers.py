"""The serde headers `schemaversion` and `schemaid` are kit headers: every publish contract allows them without a
declaration, counts them against the budget on the messages that carry them, and serde sets them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from edakit.brokers import PROFILES, AttributeContractError, contract
from edakit.brokers.attributes import SERDE_HEADERS
from edakit.runtime.message import Message
from edakit.runtime.serde import channel_codec
from edakit.runtime.serde.codec import SCHEMA_ID_HEADER, SCHEMA_VERSION_HEADER
from edakit.spec import load_spec

REPO = Path(__file__).resolve().parents[2]
SNS = load_spec(REPO / "configs" / "order-events-sns.yaml", root=REPO)
PUBSUB = load_spec(REPO / "configs" / "order-events-pubsub.yaml", root=REPO)
PAYLOAD = json.dumps({"order_id": "o-1", "total_amount": 120}).encode()


def test_the_kit_header_set_is_what_serde_writes():
    assert SERDE_HEADERS == {SCHEMA_VERSION_HEADER, SCHEMA_ID_HEADER}


@pytest.mark.parametrize(("spec", "broker"), [(SNS, "sqs-sns"), (PUBSUB, "pubsub")])
def test_an_undeclared_schema_header_is_published_under_the_broker_prefix(spec, broker):
    channel = next(iter(spec.channels))
    found = contract(spec, channel)
    assert not (found.headers & SERDE_HEADERS)  # the kit's specs do not declare them
    message = Message.new("com.example.order.placed", PAYLOAD, source="/orders",
                          headers={"schemaversion": "2", "schemaid": "41"})
    _, attributes = PROFILES[broker].encode(message, found)
    prefix = PROFILES[broker].attributes.prefix
    assert {prefix + "schemaversion", prefix + "schemaid"} <= set(attributes)
    assert {prefix + "schemaversion", prefix + "schemaid"} <= found.names()


def test_schema_headers_count_against_the_sqs_budget_at_publish_time():
    found = contract(SNS, "order-placed")
    assert found.budget == 10
    full = Message.new("com.example.order.placed", PAYLOAD, source="/orders", subject="o-1", key="o-1",
                       headers={"traceparent": "00-" + "1" * 32 + "-" + "2" * 16 + "-01"})
    assert len(PROFILES["sqs-sns"].encode(full, found)[1]) == 10  # exactly the budget
    over = Message.new("com.example.order.placed", PAYLOAD, source="/orders", subject="o-1", key="o-1",
                       headers={**full.headers, "schemaversion": "1"})
    with pytest.raises(AttributeContractError, match="11 message attributes"):
        PROFILES["sqs-sns"].encode(over, found)


def test_serde_sets_the_schema_version_on_a_channel_that_does_not_declare_it():
    codec = channel_codec(SNS, "order-placed")
    document = json.loads((REPO / "examples/payloads/order-events/order-placed/v1.json").read_text())
    payload, _, headers = codec.encode("OrderPlaced", document)
    assert headers == {"schemaversion": "1"}  # JSON wire, no registry: no schemaid
    message = Message.new("com.example.order.placed", payload, source="/orders", headers=headers)
    contract(SNS, "order-placed").check_headers(message)  # the channel's contract takes it undeclared


def test_the_default_wire_is_the_profiles():
    from edakit.runtime.serde.spec import default_wire

    assert {name: default_wire(name) for name in PROFILES} == {
        "kafka": "confluent", "sqs-sns": "json", "event-grid": "json", "pubsub": "json", "eventbridge": "json"}
