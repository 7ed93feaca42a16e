"""Embedded (SQLite) broker: the conformance suite plus its own durability and lease rules."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from adapter_conformance import AdapterConformance, drain, event

from edakit.runtime.adapters.base import BrokerError
from edakit.runtime.adapters.embedded import EmbeddedBroker


@pytest.fixture
def broker(tmp_path: Path) -> EmbeddedBroker:
    return EmbeddedBroker(tmp_path / "broker.db")


class TestEmbeddedConformance(AdapterConformance):
    features = EmbeddedBroker.features


def test_messages_survive_reopening_the_file(tmp_path: Path) -> None:
    path = tmp_path / "broker.db"
    EmbeddedBroker(path).create_group("orders", "billing")
    publisher = EmbeddedBroker(path).publisher()
    sent = event(1)
    publisher.publish("orders", [sent])
    publisher.close()
    subscriber = EmbeddedBroker(path).subscriber("orders", "billing")
    assert [d.message for d in drain(subscriber, 1)] == [sent]
    subscriber.close()


def test_group_created_after_publish_does_not_see_earlier_messages(broker: EmbeddedBroker) -> None:
    publisher = broker.publisher()
    publisher.publish("orders", [event(1)])
    late = broker.subscriber("orders", "late")
    assert late.receive(timeout=0.1) == []
    publisher.publish("orders", [second := event(2)])
    assert [d.message for d in late.receive(timeout=1)] == [second]


def test_expired_visibility_timeout_redelivers_and_the_stale_lease_cannot_ack(broker: EmbeddedBroker) -> None:
    subscriber = broker.subscriber("orders", "billing", visibility_timeout=0.3)
    broker.publisher().publish("orders", [event(1)])
    [first] = subscriber.receive(timeout=1)
    time.sleep(0.4)
    [second] = subscriber.receive(timeout=1)
    assert (second.message.id, second.attempt) == (first.message.id, 2)
    with pytest.raises(BrokerError, match="no longer leased"):
        first.ack()
    second.ack()


def test_a_key_is_held_back_while_an_earlier_message_with_it_is_in_flight(broker: EmbeddedBroker) -> None:
    a, b = broker.subscriber("orders", "billing"), broker.subscriber("orders", "billing")
    broker.publisher().publish("orders", [first := event(1, key="k"), event(2, key="k"), other := event(3, key="j")])
    assert [d.message for d in a.receive(max_messages=1, timeout=1)] == [first]
    # b must not get the second "k" message while the first is unacked; the "j" message is free.
    assert [d.message for d in b.receive(max_messages=10, timeout=0.2)] == [other]


def test_competing_consumers_on_separate_connections_never_share_a_lease(broker: EmbeddedBroker) -> None:
    subscribers = [broker.subscriber("orders", "billing") for _ in range(4)]
    sent = [event(n) for n in range(200)]
    publisher = broker.publisher()
    for start in range(0, 200, 20):
        publisher.publish("orders", sent[start:start + 20])
    received: list[list[str]] = [[] for _ in subscribers]

    def consume(index: int) -> None:
        while (batch := subscribers[index].receive(max_messages=7, timeout=0.3)):
            for delivery in batch:
                received[index].append(delivery.message.id)
                delivery.ack()

    threads = [threading.Thread(target=consume, args=(i,)) for i in range(len(subscribers))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    everything = [mid for ids in received for mid in ids]
    assert sorted(everything) == sorted(m.id for m in sent)  # each exactly once: no loss, no double lease
