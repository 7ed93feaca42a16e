"""DLQ tooling on Kafka (Tansu): the DLQ topic is a log, so kept messages are re-appended before offsets move."""

from __future__ import annotations

import json
import uuid

from click.testing import CliRunner
from confluent_kafka import Consumer, TopicPartition

from edakit.cli.dlq import dlq as dlq_cli
from edakit.runtime.adapters.kafka import KafkaBroker, dead_letter_topic
from edakit.runtime.dlq import DeadLetterQueue, Selection
from edakit.brokers.kafka import TOOL_CONSUMER as KAFKA_TOOL_CONSUMER
from edakit.runtime.message import Message
from edakit.runtime.middleware import RetryPolicy, Router, compose, retry

# Each sweep waits this long after its last message before the DLQ counts as read to the end. A sweep's first
# message waits for the group join instead (join_wait, 15 s), and one fetch brings the rest of this one-partition
# DLQ into the client, so a longer wait only idles (it was 1 s: 0.7 s more per sweep, four sweeps).
WAIT = 0.3


def receive_all(subscriber, n: int, rounds: int = 30) -> list:
    out: list = []
    for _ in range(rounds):
        if len(out) >= n:
            break
        out.extend(subscriber.receive(n - len(out), timeout=1))
    return out


def test_kafka_dlq_list_replay_purge(tansu_bootstrap):
    topic = f"orders-{uuid.uuid4().hex[:8]}"
    broker = KafkaBroker(tansu_bootstrap, consumer_config=KAFKA_TOOL_CONSUMER, create_missing_topics=True,
                         partitions=1)
    sub = broker.subscriber(topic, "billing")
    messages = [Message.new(t, json.dumps({"t": t}).encode(), source="/orders", key="k") for t in ("A", "B", "C")]
    broker.publisher().publish(topic, messages)

    def handler(delivery):
        raise ValueError(f"cannot handle {delivery.message.type}")

    router = Router(sub, compose(handler, retry(RetryPolicy(max_attempts=1))), receive_timeout=1)
    handled = 0
    for _ in range(30):
        handled += router.run_once()
        if handled == 3:
            break
    assert handled == 3

    q = DeadLetterQueue(broker, topic, "billing", wait=WAIT)
    listed = q.list()
    assert [x.message.id for x in listed] == [m.id for m in messages]
    reason = listed[1].reason
    assert (reason.error_type, reason.error_message, reason.original_source, reason.original_partition,
            reason.original_offset) == ("ValueError", "cannot handle B", topic, 0, 1)

    outcome = q.replay(Selection(event_type="B"))  # sees all three again: listing committed nothing
    assert [x.message.id for x in outcome.done] == [messages[1].id] and outcome.kept == 2
    [again] = receive_all(sub, 1)
    assert again.message == messages[1]
    again.ack()
    left = q.list()
    assert [x.message.id for x in left] == [messages[0].id, messages[2].id]  # re-appended, reasons kept
    assert left[0].reason.error_message == "cannot handle A"

    base = ["--broker", f"kafka://{tansu_bootstrap}", "--topic", topic, "--group", "billing", "--wait", str(WAIT)]
    purged = CliRunner().invoke(dlq_cli, ["purge", *base])
    assert purged.exit_code == 0 and "2 purged, 0 failed" in purged.output
    # Purged = the DLQ group's committed offset is past all 5 records: 3 dead letters + the 2 kept and re-appended.
    probe = Consumer({"bootstrap.servers": tansu_bootstrap, "group.id": "billing.dlq"})
    dlq_partition = TopicPartition(dead_letter_topic(topic, "billing"), 0)
    [committed] = probe.committed([dlq_partition], timeout=10)
    assert committed.offset == 5
    probe.close()
    sub.close()
