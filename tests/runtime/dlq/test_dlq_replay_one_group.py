"""Issue 12 item 5: a replay reaches the group that dead-lettered the message, never the topic's other groups.

Every broker the kit consumes, on its real server (embedded SQLite, Tansu, moto, pstest): a fan-out with two groups,
both receive the event, `billing` fails it into its DLQ, `audit` handles it. After `edakit dlq replay` billing
receives the same event again and audit receives nothing more; purge empties the DLQ.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timezone

import boto3
import pytest
from click.testing import CliRunner

from edakit.cli.dlq import dlq as dlq_cli
from edakit.runtime.adapters.base import Broker, DeadLetterReason, Subscriber
from edakit.runtime.adapters.kafka import KafkaBroker
from edakit.runtime.adapters.pubsub import REPLAY_FOR, PubSubBroker, dead_letter_topic_name, subscription_name
from edakit.runtime.adapters.sqs_sns import SqsSnsBroker
from edakit.brokers.kafka import TOOL_CONSUMER as KAFKA_TOOL_CONSUMER
from edakit.runtime.dlq import DeadLetterQueue, Selection
from edakit.runtime.message import Message

NOW = datetime(2026, 1, 1, tzinfo=timezone.utc)
# Kafka: what a sweep waits after its last message (its first waits for the group join instead); see test_dlq_kafka.
KAFKA_WAIT = 0.3


def receive(subscriber: Subscriber, n: int, *, rounds: int, timeout: float = 1.0) -> list:
    """Up to `n` deliveries within `rounds` receives (each acked), so a later receive sees only new ones."""
    out: list = []
    for _ in range(rounds):
        if len(out) >= n:
            break
        batch = subscriber.receive(n - len(out), timeout=timeout)
        for delivery in batch:
            delivery.ack()
        out.extend(batch)
    return out


def fan_out_and_fail(broker: Broker, topic: str, rounds: int, *, audit_group: bool = True
                     ) -> tuple[Subscriber, Subscriber | None, list[Message]]:
    """Two groups on `topic` (billing alone without `audit_group`); billing dead-letters what it receives, audit
    acks it."""
    billing = broker.subscriber(topic, "billing")
    audit = broker.subscriber(topic, "audit") if audit_group else None
    messages = [Message.new(t, json.dumps({"t": t}).encode(), source="/orders") for t in ("OrderPlaced", "Other")]
    broker.publisher().publish(topic, messages)
    if audit is not None:
        assert sorted(d.message.id for d in receive(audit, 2, rounds=rounds)) == sorted(m.id for m in messages)
    failed: list = []
    for _ in range(rounds):
        if len(failed) == 2:
            break
        for delivery in billing.receive(2 - len(failed), timeout=1):
            delivery.dead_letter(DeadLetterReason("ValueError", f"bad {delivery.message.type}", 1, NOW, NOW, topic))
            failed.append(delivery)
    assert len(failed) == 2
    return billing, audit, messages


def check_replay_reaches_only_the_failing_group(broker: Broker, topic: str, *, rounds: int, wait: float,
                                                 cli: list[str] | None = None, list_after_purge: bool = True) -> None:
    billing, audit, messages = fan_out_and_fail(broker, topic, rounds)
    q = DeadLetterQueue(broker, topic, "billing", wait=wait)
    assert sorted(x.message.id for x in q.list()) == sorted(m.id for m in messages)
    placed = next(m for m in messages if m.type == "OrderPlaced")
    if cli is None:
        outcome = q.replay(Selection(event_type="OrderPlaced"))
        assert [x.message.id for x in outcome.done] == [placed.id] and not outcome.failed
    else:
        result = CliRunner().invoke(dlq_cli, ["replay", *cli, "--type", "OrderPlaced"])
        assert result.exit_code == 0, result.output
        assert f"replayed: {placed.id}" in result.output
    [again] = receive(billing, 1, rounds=rounds)
    assert again.message == placed  # same id and content, to the group that failed it
    assert receive(audit, 1, rounds=2) == []  # the other group's count stays at 2
    assert [x.message.type for x in q.purge(Selection()).done] == ["Other"]  # the replayed one left the DLQ
    if list_after_purge:  # Kafka: an empty DLQ reads only after the group join wait (15 s); test_dlq_kafka checks it
        assert q.list() == []
    billing.close()
    audit.close()


def test_embedded(embedded):
    check_replay_reaches_only_the_failing_group(embedded, "orders", rounds=3, wait=0.2,
                                                cli=["--broker", f"embedded:{embedded.path}", "--topic", "orders",
                                                     "--group", "billing", "--wait", "0.2"])


def test_kafka(tansu_bootstrap):
    topic = f"orders-{uuid.uuid4().hex[:8]}"
    broker = KafkaBroker(tansu_bootstrap, consumer_config=KAFKA_TOOL_CONSUMER, create_missing_topics=True,
                         partitions=1)
    check_replay_reaches_only_the_failing_group(broker, topic, rounds=30, wait=KAFKA_WAIT,
                                                 list_after_purge=False)


def test_kafka_group_without_retry_topics_refuses_and_keeps_the_message(tansu_bootstrap):
    """No retry topic reaches the group alone: the replay is refused (not sent to every group) and kept."""
    topic = f"orders-{uuid.uuid4().hex[:8]}"
    broker = KafkaBroker(tansu_bootstrap, consumer_config=KAFKA_TOOL_CONSUMER, create_missing_topics=True,
                         partitions=1, retry_topic_count=0)
    billing, _, messages = fan_out_and_fail(broker, topic, 30, audit_group=False)
    outcome = DeadLetterQueue(broker, topic, "billing", wait=KAFKA_WAIT).replay(Selection())
    assert not outcome.done and len(outcome.failed) == 2
    assert all("no retry topics" in why and f"--to {topic}" in why for _, why in outcome.failed)
    # Settings that name retry topics the cluster does not have: refused as well, never produced into the void.
    unprovisioned = KafkaBroker(tansu_bootstrap, consumer_config=KAFKA_TOOL_CONSUMER, retry_topic_count=3)
    outcome = DeadLetterQueue(unprovisioned, topic, "billing", wait=KAFKA_WAIT).replay(Selection())
    assert not outcome.done and len(outcome.failed) == 2
    assert all(f"{topic}.billing.retry.1' of group 'billing' does not exist" in why for _, why in outcome.failed)
    kept = DeadLetterQueue(broker, topic, "billing", wait=KAFKA_WAIT).list()
    assert sorted(x.message.id for x in kept) == sorted(m.id for m in messages)
    billing.close()


@pytest.fixture
def sqs(moto_url, monkeypatch) -> SqsSnsBroker:
    for name, value in {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
                        "AWS_DEFAULT_REGION": "us-east-1"}.items():
        monkeypatch.setenv(name, value)
    return SqsSnsBroker(boto3.Session(), endpoint_url=moto_url, create_missing=True)


def test_sqs(sqs, moto_url):
    topic = f"orders-{uuid.uuid4().hex[:8]}"
    check_replay_reaches_only_the_failing_group(sqs, topic, rounds=3, wait=0,
                                                cli=["--broker", f"sqs:{moto_url}", "--topic", topic,
                                                     "--group", "billing", "--wait", "0"])


PROJECT = "edakit-dlq"


def test_pubsub(pstest_host):
    broker = PubSubBroker(PROJECT, create_missing=True, emulator_host=pstest_host)
    topic = f"orders-{uuid.uuid4().hex[:8]}"
    check_replay_reaches_only_the_failing_group(broker, topic, rounds=5, wait=1,
                                                cli=["--broker", f"pubsub://{pstest_host}/{PROJECT}", "--topic",
                                                     topic, "--group", "billing", "--wait", "1"])


def test_pubsub_cli_ls_show_purge_and_the_replay_attribute(pstest_host):
    broker = PubSubBroker(PROJECT, create_missing=True, emulator_host=pstest_host)
    topic = f"orders-{uuid.uuid4().hex[:8]}"
    billing, audit, messages = fan_out_and_fail(broker, topic, 5)
    base = ["--broker", f"pubsub://{pstest_host}/{PROJECT}", "--topic", topic, "--group", "billing",
            "--wait", "1"]
    runner = CliRunner()
    listed = runner.invoke(dlq_cli, ["ls", *base, "--format", "json"])
    assert listed.exit_code == 0, listed.output
    assert sorted((x["id"], x["error_message"]) for x in json.loads(listed.output)) == sorted(
        (m.id, f"bad {m.type}") for m in messages)
    shown = runner.invoke(dlq_cli, ["show", *base, messages[0].id])
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.output)["payload"] == json.dumps({"t": messages[0].type})
    missing = runner.invoke(dlq_cli, ["show", *base, "no-such-id"])
    assert missing.exit_code == 2 and "no dead letter with id 'no-such-id'" in missing.output

    # What the replay carries on the source topic: a raw reader of audit's subscription sees the routing attribute.
    assert runner.invoke(dlq_cli, ["replay", *base, "--id", messages[0].id]).exit_code == 0
    client = broker.subscriber_client()
    pulled = client.pull(request={"subscription": broker.subscription_path(subscription_name(topic, "audit")),
                                  "max_messages": 5}, timeout=10)
    assert [dict(r.message.attributes)[REPLAY_FOR] for r in pulled.received_messages] == [
        subscription_name(topic, "billing")]
    client.close()

    # A replay that fails again and that the service's dead_letter_policy forwards keeps its attributes, the routing
    # one included (pstest applies no policy: published here as the service would): the DLQ tooling still reads it.
    publisher = broker.publisher()
    publisher.publish(dead_letter_topic_name(topic, "billing"), [messages[0]],
                      extra={REPLAY_FOR: subscription_name(topic, "billing")})
    publisher.close()
    listed = runner.invoke(dlq_cli, ["ls", *base, "--format", "json"])
    assert sorted(x["id"] for x in json.loads(listed.output)) == sorted(m.id for m in messages)

    purged = runner.invoke(dlq_cli, ["purge", *base])
    assert purged.exit_code == 0 and "2 purged, 0 failed" in purged.output
    assert json.loads(runner.invoke(dlq_cli, ["ls", *base, "--format", "json"]).output) == []
    assert dead_letter_topic_name(topic, "billing") == f"{topic}-billing-dlq"  # the gcp-pubsub module's naming
    billing.close()
    audit.close()
