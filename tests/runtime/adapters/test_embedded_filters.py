"""Embedded broker: group filters in each cloud filter language route like that broker and like `edakit routes`."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edakit.routing import InvalidFilterError
from edakit.routing.routes import ExampleEvent, filter_reasons
from edakit.runtime.adapters.embedded import EmbeddedBroker, SubscriptionFilter
from edakit.runtime.message import Message
from edakit.spec.loader import load_spec
from edakit.spec.model import Filter

ROOT = Path(__file__).resolve().parents[3]


def order(total: float, currency: str = "EUR", type: str = "OrderPlaced", **headers: str) -> Message:
    payload = {"order_id": f"ord-{uuid.uuid4().hex[:6]}", "total_amount": total, "currency": currency}
    # Compact JSON, as the kit publishes it: Event Grid then carries it as `data` (other bytes: data_base64).
    return Message.new(type, json.dumps(payload, separators=(",", ":")).encode(), source="shop.orders",
                       headers=headers)


def delivered(broker: EmbeddedBroker, subscription_filter: SubscriptionFilter, messages: list[Message]) -> list[str]:
    """Ids of the messages the filtered group receives (another, unfiltered group receives them all)."""
    topic = f"orders-{uuid.uuid4().hex[:8]}"
    broker.create_group(topic, "filtered", filter=subscription_filter)
    broker.create_group(topic, "everything")
    publisher = broker.publisher()
    publisher.publish(topic, messages)
    publisher.close()
    everything = broker.subscriber(topic, "everything").receive(max_messages=100, timeout=0)
    assert [d.message.id for d in everything] == [m.id for m in messages]
    return [d.message.id for d in broker.subscriber(topic, "filtered").receive(max_messages=100, timeout=0)]


CASES = {
    "sns-attributes": SubscriptionFilter("sqs-sns", {"ce_type": ["OrderPlaced"]}),
    "sns-body": SubscriptionFilter("sqs-sns", {"total_amount": [{"numeric": [">=", 100]}]}, scope="MessageBody"),
    "eventbridge": SubscriptionFilter("eventbridge", {"source": ["shop.orders"], "detail-type": ["OrderPlaced"],
                                                      "detail": {"total_amount": [{"numeric": [">=", 100]}]}}),
    "pubsub": SubscriptionFilter("pubsub", 'attributes.ce-type = "OrderPlaced" AND attributes.ce-priority = "high"'),
    "event-grid": SubscriptionFilter("event-grid", {"includedEventTypes": ["OrderPlaced"], "advancedFilters": [
        {"operatorType": "StringIn", "key": "data.currency", "values": ["EUR", "USD"]}]}),
}


@pytest.mark.parametrize("language", CASES)
def test_a_filtered_group_receives_the_matching_message_only(embedded: EmbeddedBroker, language: str) -> None:
    matching = {"sns-attributes": order(5), "sns-body": order(150), "eventbridge": order(150),
                "pubsub": order(5, priority="high"), "event-grid": order(5, "USD")}[language]
    other = {"sns-attributes": order(5, type="OrderShipped"), "sns-body": order(99.5),
             "eventbridge": order(150, type="OrderShipped"), "pubsub": order(5, priority="low"),
             "event-grid": order(5, "GBP")}[language]
    assert delivered(embedded, CASES[language], [other, matching]) == [matching.id]
    assert CASES[language].reasons(matching) == []
    assert CASES[language].reasons(other)  # and it says why


def test_the_filter_is_stored_with_the_group(tmp_path: Path) -> None:
    path = tmp_path / "b.sqlite3"
    EmbeddedBroker(path).create_group("t", "big", filter=CASES["sns-body"])
    EmbeddedBroker(path).create_group("t", "big")  # a later create without a filter keeps it
    broker = EmbeddedBroker(path)  # another instance (another process) publishes
    publisher = broker.publisher()
    small, big = order(1), order(500)
    publisher.publish("t", [small, big])
    assert [d.message.id for d in broker.subscriber("t", "big").receive(timeout=0.5)] == [big.id]


@pytest.mark.parametrize(("broker", "policy", "expected"), [
    ("sqs-sns", {"total_amount": [{"numeric": [">", "x"]}]}, "numeric"),
    ("eventbridge", {"detail": "OrderPlaced"}, '"detail" must be an object or an array'),
    ("pubsub", "attributes.a = ", "expected a string in double quotes at position 15"),
    ("event-grid", {"advancedFilters": [{"operatorType": "Nope", "key": "data.x"}]}, "'Nope' is not one of"),
])
def test_a_filter_the_broker_refuses_is_refused_here(broker: str, policy: object, expected: str) -> None:
    with pytest.raises(InvalidFilterError, match=expected):
        SubscriptionFilter(broker, policy)  # type: ignore[arg-type]


def test_an_unknown_filter_language_is_refused() -> None:
    with pytest.raises(ValueError, match="expected one of sqs-sns, event-grid, pubsub, eventbridge"):
        SubscriptionFilter("kafka", {})


SNS_SPEC = load_spec(ROOT / "configs/order-events-sns.yaml")


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(total=st.one_of(st.integers(-5, 5), st.floats(-10, 10, allow_nan=False)),
       event=st.sampled_from(["OrderPlaced", "OrderShipped"]))
def test_routes_like_edakit_routes_with_the_specs_contract(embedded: EmbeddedBroker, total: float,
                                                          event: str) -> None:
    """The SNS spec's subscribers as embedded groups (native event_type attribute from the channel contract)
    receive exactly what `edakit routes` predicts for the same kit-published event."""
    payload = {"order_id": "ord-1", "total_amount": total, "currency": "EUR"}
    example = ExampleEvent(file="x.json", event=event, message_attributes={}, body={}, expect=None, positions={},
                           publisher="kit", payload=payload)
    message = example.kit_message("urn:edakit:example")
    for name, sub in SNS_SPEC.subscribers.items():
        found = SubscriptionFilter.from_spec(SNS_SPEC, name)
        if found is None:
            continue
        predicted = not filter_reasons("sqs-sns", Filter(sub.filter.policy, sub.filter.scope), example,
                                       found.contract)
        assert (delivered(embedded, found, [message]) == [message.id]) == predicted


@pytest.mark.parametrize(("payload", "content_type"), [
    (b"\xff\x00", "application/octet-stream"), (b"not json", "application/json"), (b"[1,2]", "application/json"),
    (b'{"a":' + b"[" * 300 + b"]" * 300 + b"}", "application/json")])
def test_a_payload_no_filter_can_read_is_published_and_filtered_out(embedded: EmbeddedBroker, payload: bytes,
                                                                   content_type: str) -> None:
    message = Message.new("OrderShipped", payload, source="shop.orders", content_type=content_type)
    for language in ("sns-body", "eventbridge", "event-grid"):
        assert delivered(embedded, CASES[language], [message]) == []
        assert CASES[language].reasons(message)
