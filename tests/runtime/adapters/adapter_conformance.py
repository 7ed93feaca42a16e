"""The one conformance suite every broker adapter passes (after Watermill's universal pub/sub tests).

A module subclasses AdapterConformance, supplies a `broker` fixture (an edakit Broker) and sets `features`.
Tests needing a feature carry `@requires(...)`; conftest.py deselects them for adapters without it.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone

import pytest

from edakit.runtime.adapters.base import DLQ_REASON_KEY, Broker, DeadLetterReason, Delivery, Subscriber
from edakit.runtime.message import Message

Subscribe = Callable[[str, str], Subscriber]


def requires(*features: str) -> pytest.MarkDecorator:
    return pytest.mark.requires_features(*features)


def drain(subscriber: Subscriber, count: int, timeout: float = 20.0, ack: bool = False) -> list[Delivery]:
    """Receive until `count` deliveries arrived or `timeout` passed (then return what arrived)."""
    got: list[Delivery] = []
    deadline = time.monotonic() + timeout
    while len(got) < count and time.monotonic() < deadline:
        batch = subscriber.receive(max_messages=min(10, count - len(got)), timeout=0.5)
        if ack:
            for delivery in batch:
                delivery.ack()
        got.extend(batch)
    return got


# Messages of one key share a partition/message group, so a marker published after them is read after them.
ONE_KEY = "k1"


def assert_nothing_left(subscriber: Subscriber, topic: str, publish: Callable[[str, list[Message]], None]) -> None:
    """A fresh consumer of the group gets only a marker published now: nothing earlier was left unsettled."""
    publish(topic, [marker := event(key=ONE_KEY)])
    got = drain(subscriber, 1, ack=True)
    assert [d.message.id for d in got] == [marker.id]


def event(n: int = 0, *, key: str | None = None, payload: bytes | None = None, **headers: str) -> Message:
    return Message.new("com.example.order.placed", payload if payload is not None else b'{"n":%d}' % n,
                       source="/tests/conformance", key=key, headers=headers)


class AdapterConformance:
    features: frozenset[str] = frozenset()

    def topic_name(self, unique: str) -> str:
        return f"t{unique}"

    @pytest.fixture
    def topic(self) -> str:
        return self.topic_name(uuid.uuid4().hex[:12])

    @pytest.fixture
    def group(self) -> str:
        """Unique per test: a group shared across tests would make Kafka rebalance with stale members."""
        return f"g{uuid.uuid4().hex[:8]}"

    @pytest.fixture
    def subscribe(self, broker: Broker) -> Iterator[Subscribe]:
        opened: list[Subscriber] = []

        def open_subscriber(topic: str, group: str) -> Subscriber:
            opened.append(broker.subscriber(topic, group))
            return opened[-1]

        yield open_subscriber
        for subscriber in opened:
            subscriber.close()

    @pytest.fixture
    def publish(self, broker: Broker) -> Iterator[Callable[[str, list[Message]], None]]:
        publisher = broker.publisher()
        yield publisher.publish
        publisher.close()

    def test_round_trip_keeps_every_field(self, topic, group, subscribe, publish) -> None:
        sub = subscribe(topic, group)
        sent = Message(
            id=str(uuid.uuid4()), type="com.example.order.placed", source="https://example.com/orders",
            payload=b'{"order":42,"total":"9.99"}', time=datetime(2024, 2, 29, 23, 59, 59, 123456, timezone.utc),
            content_type="application/json; charset=utf-8", key="order-42", subject="orders/42",
            headers={"traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
                     "tracestate": "congo=t61rcWkgMzE"},
        )
        publish(topic, [sent])
        [delivery] = drain(sub, 1)
        assert delivery.message == sent
        assert delivery.attempt == 1
        assert delivery.source.startswith(topic) or topic in delivery.source
        delivery.ack()

    def test_ack_removes_and_nack_redelivers_with_next_attempt(self, topic, group, subscribe, publish) -> None:
        sub = subscribe(topic, group)
        first, second = event(1, key=ONE_KEY), event(2, key=ONE_KEY)
        publish(topic, [first])
        publish(topic, [second])
        got = drain(sub, 2)
        assert {d.message.id for d in got} == {first.id, second.id}
        for d in got:
            if d.message.id == first.id:
                d.ack()
            else:
                d.nack()
        [again] = drain(sub, 1)
        assert again.message == second
        assert again.attempt == 2
        again.nack()
        [third] = drain(sub, 1)
        assert (third.message.id, third.attempt) == (second.id, 3)
        third.ack()
        sub.close()
        assert_nothing_left(subscribe(topic, group), topic, publish)

    @requires("delayed_nack")
    def test_nack_with_delay_is_not_redelivered_before_the_delay(self, topic, group, subscribe, publish) -> None:
        sub = subscribe(topic, group)
        publish(topic, [event()])
        [delivery] = drain(sub, 1)
        nacked_at = time.monotonic()
        delivery.nack(delay_seconds=2.0)
        # drain returns as soon as the message is visible again, so the elapsed time bounds its visibility.
        [again] = drain(sub, 1, timeout=15.0)
        assert (again.message.id, again.attempt) == (delivery.message.id, 2), again.metadata
        assert time.monotonic() - nacked_at >= 2.0, again.metadata
        again.ack()

    def test_dead_letter_lands_in_the_dlq_with_the_reason(self, broker, topic, group, subscribe, publish) -> None:
        sub = subscribe(topic, group)
        dlq = broker.dead_letter_subscriber(topic, group)
        try:
            sent = event(key=ONE_KEY)
            publish(topic, [sent])
            [delivery] = drain(sub, 1)
            failed = datetime.now(timezone.utc)
            reason = DeadLetterReason(
                error_type="ValueError", error_message="amount must be positive – got −3", attempts=delivery.attempt,
                first_failure=failed - timedelta(seconds=5), last_failure=failed, original_source=delivery.source,
                original_partition=_int_or_none(delivery.metadata.get("partition")),
                original_offset=_int_or_none(delivery.metadata.get("offset")),
            )
            delivery.dead_letter(reason)
            [dead] = drain(dlq, 1)
            assert dead.message == sent
            assert DeadLetterReason.from_json(dead.metadata[DLQ_REASON_KEY]) == reason
            dead.ack()
            sub.close()
            assert_nothing_left(subscribe(topic, group), topic, publish)
        finally:
            dlq.close()

    @requires("ordering")
    def test_messages_with_one_key_arrive_in_publish_order(self, topic, group, subscribe, publish) -> None:
        sub = subscribe(topic, group)
        sent = [event(n, key=f"k{n % 3}") for n in range(30)]
        for start in range(0, 30, 4):
            publish(topic, sent[start:start + 4])
        got = drain(sub, 30, ack=True)
        for key in ("k0", "k1", "k2"):
            assert [d.message.id for d in got if d.message.key == key] == [m.id for m in sent if m.key == key]

    @requires("consumer_groups")
    def test_each_group_gets_every_message_and_competing_consumers_share_them(self, topic, group, subscribe,
                                                                               publish) -> None:
        billing = subscribe(topic, f"{group}-billing")
        shipping_a, shipping_b = subscribe(topic, f"{group}-shipping"), subscribe(topic, f"{group}-shipping")
        sent = [event(n, key=f"k{n}") for n in range(20)]
        publish(topic, sent)
        assert sorted(d.message.id for d in drain(billing, 20, ack=True)) == sorted(m.id for m in sent)
        shared: list[Delivery] = []
        deadline = time.monotonic() + 30
        while len({d.message.id for d in shared}) < 20 and time.monotonic() < deadline:
            for consumer in (shipping_a, shipping_b):
                batch = consumer.receive(max_messages=3, timeout=0.3)
                for delivery in batch:
                    delivery.ack()
                shared.extend(batch)
        assert {d.message.id for d in shared} == {m.id for m in sent}

    def test_batch_publish_delivers_every_message(self, topic, group, subscribe, publish) -> None:
        sub = subscribe(topic, group)
        sent = [event(n) for n in range(25)]
        publish(topic, sent)
        got = drain(sub, 25, ack=True)
        assert sorted(d.message.id for d in got) == sorted(m.id for m in sent)
        assert {d.message.id: d.message for d in got} == {m.id: m for m in sent}

    def test_large_payload(self, topic, group, subscribe, publish) -> None:
        sub = subscribe(topic, group)
        sent = event(payload=b'{"blob":"' + b"x" * 150_000 + b'"}')
        publish(topic, [sent])
        [delivery] = drain(sub, 1)
        assert delivery.message == sent
        delivery.ack()

    def test_unicode_headers_subject_and_binary_payload(self, topic, group, subscribe, publish) -> None:
        sub = subscribe(topic, group)
        sent = Message.new("com.example.commande.passée", bytes(range(256)), source="/boutique/été",
                           subject="客户/42 🚀", key="clé-ß", content_type="application/octet-stream",
                           headers={"tenant": "Zürich – 東京", "note": "emoji 🎉 and \"quotes\""})
        publish(topic, [sent])
        [delivery] = drain(sub, 1)
        assert delivery.message == sent
        delivery.ack()


def _int_or_none(value: str | None) -> int | None:
    return None if value is None else int(value)
