"""Retry middleware on Kafka (Tansu): nack goes to `<topic>.<group>.retry.<n>`, exhaustion to `<topic>.<group>.dlq`."""

from __future__ import annotations

import uuid

from edakit.runtime.adapters.base import DLQ_REASON_KEY, DeadLetterReason
from edakit.runtime.adapters.kafka import KafkaBroker
from edakit.runtime.adapters.urls import KAFKA_TOOL_CONSUMER
from edakit.runtime.message import Message
from edakit.runtime.middleware import RetryPolicy, Router, compose, retry


def test_retry_topics_then_dlq_with_the_reason(tansu_bootstrap):
    topic = f"payments-{uuid.uuid4().hex[:8]}"
    broker = KafkaBroker(tansu_bootstrap, consumer_config=KAFKA_TOOL_CONSUMER, create_missing_topics=True,
                         partitions=1, retry_topic_count=2)
    sub = broker.subscriber(topic, "billing")
    dlq = broker.dead_letter_subscriber(topic, "billing")  # joins its group meanwhile (each join: 3 s on Tansu)
    healed, poison = Message.new("Healed", b"{}", source="/p"), Message.new("Poison", b"{}", source="/p")
    broker.publisher().publish(topic, [healed, poison])
    seen: list[tuple[str, int, str]] = []

    def handler(delivery):
        seen.append((delivery.message.type, delivery.attempt, delivery.metadata["topic"]))
        if delivery.message.type == "Poison" or delivery.attempt < 3:
            raise ConnectionError(f"attempt {delivery.attempt} failed")

    router = Router(sub, compose(handler, retry(RetryPolicy(max_attempts=3, base_delay=0.05, max_delay=0.1))),
                    receive_timeout=1)
    for _ in range(40):
        router.run_once()
        if len(seen) == 6:
            break
    assert sorted(seen) == sorted([
        ("Healed", 1, topic), ("Healed", 2, f"{topic}.billing.retry.1"), ("Healed", 3, f"{topic}.billing.retry.2"),
        ("Poison", 1, topic), ("Poison", 2, f"{topic}.billing.retry.1"), ("Poison", 3, f"{topic}.billing.retry.2"),
    ])
    dead = []
    for _ in range(20):
        dead += dlq.receive(1, timeout=1)
        if dead:
            break
    [letter] = dead
    reason = DeadLetterReason.from_json(letter.metadata[DLQ_REASON_KEY])
    assert letter.message == poison
    assert (reason.error_type, reason.error_message, reason.attempts, reason.original_source) == (
        "ConnectionError", "attempt 3 failed", 3, topic)
    assert reason.first_failure < reason.last_failure
    # Read from a retry topic: the copies carry the source record's position, so the reason names it.
    assert (reason.original_partition, reason.original_offset) == (0, 1)
    dlq.close()
    sub.close()
