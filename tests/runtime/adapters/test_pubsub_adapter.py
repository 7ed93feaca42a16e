"""Pub/Sub adapter against Google's pstest fake (tools/pstest-server, built from Debian's Go sources).

Checked here: the conformance suite without ordering, the CloudEvents mapping (binary/structured, limits, other
publishers' spellings), delivery_attempt per subscription, created subscriptions' settings, client-side
dead-lettering, publish failures and ordering-key recovery.
pstest (cloud.google.com/go v0.56) neither orders by ordering key nor applies dead_letter_policy, so this suite
declares neither "ordering" nor "native_dlq"; tools/pstest-server adds the per-subscription delivery_attempt.
Ordering, server-side dead-lettering and exactly-once acks are checked against Google's Java emulator in
test_pubsub_google_emulator.py. Each broker targets its own server through `emulator_host`, never through the
process-wide PUBSUB_EMULATOR_HOST, so both modules' session servers can run in one session.
"""

from __future__ import annotations

import time
import uuid
from datetime import datetime, timezone

import pytest
from adapter_conformance import AdapterConformance, drain, event
from google.cloud import pubsub_v1
from hypothesis import given, settings
from hypothesis import strategies as st

from edakit.devservers import free_port
from edakit.runtime.adapters.base import DLQ_REASON_KEY, BrokerError, DeadLetterReason, PublishError
from edakit.runtime.adapters.pubsub import (
    MAX_ATTRIBUTE_VALUE_BYTES,
    PubSubBroker,
    decode,
    encode,
    reason_attribute,
    subscription_name,
)
from edakit.runtime.cloudevents import STRUCTURED_CONTENT_TYPE, to_structured
from edakit.runtime.message import Message

PROJECT = "edakit-test"



@pytest.fixture
def broker(pstest_host: str) -> PubSubBroker:
    return PubSubBroker(PROJECT, create_missing=True, emulator_host=pstest_host)


class TestPubSubConformance(AdapterConformance):
    features = PubSubBroker.features


def names() -> tuple[str, str]:
    return f"t{uuid.uuid4().hex[:12]}", f"g{uuid.uuid4().hex[:6]}"


def raw_pull(broker: PubSubBroker, subscription: str) -> pubsub_v1.types.PubsubMessage:
    client = broker.subscriber_client()
    try:
        response = client.pull(request={"subscription": broker.subscription_path(subscription), "max_messages": 1},
                               timeout=5)
        [received] = response.received_messages
        return received.message
    finally:
        client.close()


def test_binary_mode_uses_ce_attributes_and_the_key_as_ordering_key(broker: PubSubBroker) -> None:
    topic, group = names()
    broker.subscriber(topic, group).close()
    publisher = broker.publisher()
    publisher.publish(topic, [sent := event(1, key="order-7", traceparent="00-ab-cd-01")])
    publisher.close()
    raw = raw_pull(broker, subscription_name(topic, group))
    assert raw.data == sent.payload
    assert raw.ordering_key == "order-7"
    assert raw.attributes["ce-id"] == sent.id
    assert raw.attributes["ce-specversion"] == "1.0"
    assert raw.attributes["ce-traceparent"] == "00-ab-cd-01"
    assert raw.attributes["content-type"] == "application/json"


def test_an_attribute_over_the_value_limit_switches_to_structured_mode(broker: PubSubBroker) -> None:
    topic, group = names()
    subscriber = broker.subscriber(topic, group)
    publisher = broker.publisher()
    publisher.publish(topic, [sent := event(1, note="n" * (MAX_ATTRIBUTE_VALUE_BYTES + 1))])
    publisher.close()
    [delivery] = drain(subscriber, 1)
    assert delivery.message == sent
    delivery.ack()
    subscriber.close()


@settings(max_examples=60, deadline=None)
@given(note=st.text(max_size=1500), subject=st.one_of(st.none(), st.text(min_size=1, max_size=300)),
       payload=st.binary(max_size=64))
def test_encode_decode_round_trip_in_either_mode(note: str, subject: str | None, payload: bytes) -> None:
    sent = Message.new("com.example.t", payload, source="/s", subject=subject, headers={"note": note},
                       content_type="application/octet-stream")
    data, attributes = encode(sent)
    structured = attributes.get("content-type") == STRUCTURED_CONTENT_TYPE
    assert structured == (len(note.encode()) > MAX_ATTRIBUTE_VALUE_BYTES
                          or len((subject or "").encode()) > MAX_ATTRIBUTE_VALUE_BYTES)
    assert decode(data, attributes, "test") == sent


@settings(max_examples=60, deadline=None)
@given(error_message=st.text(max_size=3000))
def test_reason_attribute_fits_and_keeps_what_fits(error_message: str) -> None:
    now = datetime.now(timezone.utc)
    reason = DeadLetterReason("ValueError", error_message, 3, now, now, "orders-billing")
    text = reason_attribute(reason)
    assert len(text.encode()) <= MAX_ATTRIBUTE_VALUE_BYTES
    kept = DeadLetterReason.from_json(text)
    if len(reason.to_json().encode()) <= MAX_ATTRIBUTE_VALUE_BYTES:
        assert kept == reason
    else:
        assert kept.error_message.endswith("…")
        assert error_message.startswith(kept.error_message[:-1])
        assert (kept.attempts, kept.original_source) == (3, "orders-billing")


def test_delivery_attempt_counts_per_subscription(broker: PubSubBroker) -> None:
    topic, group = names()
    first, second = broker.subscriber(topic, f"{group}a"), broker.subscriber(topic, f"{group}b")
    broker.publisher().publish(topic, [event(1)])
    [a1] = drain(first, 1)
    a1.nack()
    [a2] = drain(first, 1)
    [b1] = drain(second, 1)
    assert (a1.attempt, a2.attempt, b1.attempt) == (1, 2, 1)
    for delivery in (a2, b1):
        delivery.ack()
    first.close()
    second.close()


def test_keep_alive_holds_a_slow_handlers_message_past_its_deadline(broker: PubSubBroker) -> None:
    topic, group = names()
    subscriber = broker.subscriber(topic, group)
    broker.publisher().publish(topic, [event(1), event(2)])
    kept, lapsed = sorted(drain(subscriber, 2), key=lambda d: d.message.payload)
    lapsed.nack(1)  # the contrast: a 1 s deadline that nobody extends
    # The heartbeat keeps pushing a 2 s deadline out while the handler works 4 s (1.6 s of slack per beat).
    with subscriber.keep_alive([kept], ack_deadline_seconds=2, interval=0.4):
        time.sleep(4)
        redelivered = drain(subscriber, 2, timeout=2)
    assert [d.message.id for d in redelivered] == [lapsed.message.id]
    kept.ack()
    redelivered[0].ack()
    with pytest.raises(ValueError, match=r"ack_deadline_seconds: expected at least 1 second, got 0"):
        subscriber.keep_alive([kept], ack_deadline_seconds=0)
    subscriber.close()


def test_created_subscription_has_dead_letter_policy_and_exactly_once(pstest_host: str) -> None:
    broker = PubSubBroker(PROJECT, create_missing=True, exactly_once=True, message_ordering=True,
                          max_delivery_attempts=7, ack_deadline_seconds=20, emulator_host=pstest_host)
    topic, group = names()
    broker.subscriber(topic, group).close()
    client = broker.subscriber_client()
    try:
        created = client.get_subscription(subscription=broker.subscription_path(subscription_name(topic, group)))
    finally:
        client.close()
    assert created.dead_letter_policy.dead_letter_topic == broker.topic_path(f"{topic}-{group}-dlq")
    assert created.dead_letter_policy.max_delivery_attempts == 7
    assert created.ack_deadline_seconds == 20
    assert created.enable_message_ordering
    assert created.enable_exactly_once_delivery


def test_dead_lettered_message_from_the_dlq_has_no_dlq_of_its_own(broker: PubSubBroker) -> None:
    topic, group = names()
    subscriber, dlq = broker.subscriber(topic, group), broker.dead_letter_subscriber(topic, group)
    broker.publisher().publish(topic, [event(1)])
    [delivery] = drain(subscriber, 1)
    now = datetime.now(timezone.utc)
    delivery.dead_letter(DeadLetterReason("KeyError", "x", 1, now, now, delivery.source))
    [dead] = drain(dlq, 1)
    assert DLQ_REASON_KEY in dead.metadata
    with pytest.raises(BrokerError, match="no dead-letter topic"):
        dead.dead_letter(DeadLetterReason("KeyError", "x", 1, now, now, dead.source))
    dead.ack()
    subscriber.close()
    dlq.close()


def test_nack_delay_beyond_the_maximum_ack_deadline_is_refused(broker: PubSubBroker) -> None:
    topic, group = names()
    subscriber = broker.subscriber(topic, group)
    broker.publisher().publish(topic, [event(1)])
    [delivery] = drain(subscriber, 1)
    with pytest.raises(ValueError, match="0..600"):
        delivery.nack(delay_seconds=601)
    delivery.ack()
    subscriber.close()


def test_a_message_that_is_not_a_cloudevent_is_skipped(broker: PubSubBroker) -> None:
    topic, group = names()
    subscriber = broker.subscriber(topic, group)
    client = broker.publisher_client()
    client.publish(broker.topic_path(topic), b"not an event", origin="legacy").result(timeout=10)
    client.stop()
    broker.publisher().publish(topic, [sent := event(1)])
    assert [d.message for d in drain(subscriber, 1, ack=True)] == [sent]
    assert subscriber.receive(timeout=0.6) == []
    subscriber.close()


def test_publish_to_a_missing_topic_raises_and_its_ordering_keys_recover(broker: PubSubBroker) -> None:
    topic, group = names()
    publisher = broker.publisher()
    with pytest.raises(PublishError, match=rf"'{topic}': 2 of 2 not published"):
        publisher.publish(topic, [event(1, key="k"), event(2, key="k")])
    subscriber = broker.subscriber(topic, group)  # creates the topic
    publisher.publish(topic, [sent := event(3, key="k")])
    assert [d.message for d in drain(subscriber, 1, ack=True)] == [sent]
    publisher.close()
    subscriber.close()


def test_messages_from_other_cloudevents_publishers_are_read(broker: PubSubBroker) -> None:
    # The Pub/Sub binding's own examples: attribute names in any case, `Content-Type` with parameters.
    topic, group = names()
    subscriber = broker.subscriber(topic, group)
    structured, binary = event(1), event(2)
    client = broker.publisher_client()
    path = broker.topic_path(topic)
    client.publish(path, to_structured(structured),
                   **{"Content-Type": "application/cloudevents+json; charset=UTF-8"}).result(timeout=10)
    client.publish(path, binary.payload, **{name.title(): value for name, value in encode(binary)[1].items()}
                   ).result(timeout=10)
    client.stop()
    got = {d.message.id: d.message for d in drain(subscriber, 2, ack=True)}
    assert got == {structured.id: structured, binary.id: binary}
    subscriber.close()


def test_emulator_host_wins_over_the_process_wide_variable(broker: PubSubBroker,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PUBSUB_EMULATOR_HOST", f"127.0.0.1:{free_port()}")  # nothing listens there
    topic, group = names()
    subscriber, publisher = broker.subscriber(topic, group), broker.publisher()
    publisher.publish(topic, [sent := event(1)])
    assert [d.message for d in drain(subscriber, 1, ack=True)] == [sent]
    publisher.close()
    subscriber.close()
