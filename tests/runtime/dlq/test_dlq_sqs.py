"""DLQ tooling on SNS/SQS (moto's server): redrive without StartMessageMoveTask, and a send failing midway."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import boto3
import pytest
from click.testing import CliRunner

from edakit.cli.dlq import dlq as dlq_cli
from edakit.runtime.adapters.base import DeadLetterReason
from edakit.runtime.adapters.sqs_sns import SqsSnsBroker, queue_name
from edakit.runtime.dlq import DeadLetterQueue, Selection
from edakit.runtime.message import Message

NOW = datetime(2026, 1, 1, tzinfo=timezone.utc)


@pytest.fixture
def aws(moto_url, monkeypatch):
    for name, value in {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
                        "AWS_DEFAULT_REGION": "us-east-1"}.items():
        monkeypatch.setenv(name, value)
    return SqsSnsBroker(boto3.Session(), endpoint_url=moto_url, create_missing=True)


def dead_letter(broker: SqsSnsBroker, topic: str, messages: list[Message]) -> None:
    """Publish through SNS, receive from the group's queue, dead-letter each with a reason."""
    sub = broker.subscriber(topic, "billing")
    broker.publisher().publish(topic, messages)
    received = []
    while len(received) < len(messages) and (batch := sub.receive(10, timeout=1)):
        received.extend(batch)
    assert sorted(d.message.id for d in received) == sorted(m.id for m in messages)
    for d in received:
        d.dead_letter(DeadLetterReason("ValueError", f"bad {d.message.type}", 1, NOW, NOW, topic))


def drain(broker: SqsSnsBroker, topic: str) -> list[Message]:
    sub, out = broker.subscriber(topic, "billing"), []
    while batch := sub.receive(10, timeout=0):
        out.extend(d.message for d in batch)
        sub.ack_all(batch)
    return out


def test_replay_sends_to_the_group_queue_with_the_same_ids(aws):
    messages = [Message.new(t, json.dumps({"t": t}).encode(), source="/orders") for t in ("A", "B", "C")]
    dead_letter(aws, "orders-replay", messages)
    q = DeadLetterQueue(aws, "orders-replay", "billing", wait=0)
    listed = q.list()
    assert sorted(x.message.id for x in listed) == sorted(m.id for m in messages)
    assert {x.reason.error_message for x in listed} == {"bad A", "bad B", "bad C"}
    assert q.replay(Selection(event_type="B"), dry_run=True).done[0].message.type == "B"
    assert drain(aws, "orders-replay") == []

    outcome = q.replay(Selection(event_type="[AB]"))
    assert sorted(x.message.type for x in outcome.done) == ["A", "B"] and not outcome.failed
    assert sorted((m.id, m.type, m.payload) for m in drain(aws, "orders-replay")) == sorted(
        (m.id, m.type, m.payload) for m in messages[:2])
    assert [x.message.type for x in q.list()] == ["C"]
    assert len(q.purge(Selection()).done) == 1 and q.list() == []


def test_a_send_failing_midway_loses_nothing(aws):
    """The group's queue rejects the oversized message: it stays in the DLQ, the others are replayed."""
    small, big, other = (Message.new("T", json.dumps({"pad": "x" * n}).encode(), source="/o") for n in (10, 2000, 20))
    dead_letter(aws, "orders-fail", [small, big, other])
    source = aws.queue_url(queue_name("orders-fail", "billing"))
    aws.sqs.set_queue_attributes(QueueUrl=source, Attributes={"MaximumMessageSize": "1024"})
    outcome = DeadLetterQueue(aws, "orders-fail", "billing", wait=0).replay(Selection())
    assert sorted(x.message.id for x in outcome.done) == sorted([small.id, other.id])
    [(failed, why)] = outcome.failed
    assert failed.message.id == big.id and "shorter than 1024 bytes" in why
    assert sorted(m.id for m in drain(aws, "orders-fail")) == sorted([small.id, other.id])
    assert [x.message.id for x in DeadLetterQueue(aws, "orders-fail", "billing", wait=0).list()] == [big.id]


def test_native_redrive_without_a_reason_replays_to_the_group_queue(aws):
    """SQS moved it after maxReceiveCount: no reason attribute, the queue is still known from topic and group."""
    broker = SqsSnsBroker(boto3.Session(), endpoint_url=aws.sqs.meta.endpoint_url, create_missing=True,
                          max_receive_count=1, visibility_timeout=1)
    message = Message.new("Poison", b"{}", source="/o")
    sub = broker.subscriber("orders-redrive", "billing")
    broker.publisher().publish("orders-redrive", [message])
    [first] = sub.receive(1, timeout=2)
    first.nack(0)
    assert sub.receive(1, timeout=0) == []  # second receive exceeds maxReceiveCount: moved to the DLQ
    q = DeadLetterQueue(broker, "orders-redrive", "billing", wait=0)
    [letter] = q.list()
    assert letter.message.id == message.id and letter.reason is None
    assert len(q.replay(Selection(error_type="*")).done) == 0  # no reason: error filters never match
    assert len(q.replay(Selection()).done) == 1
    assert [m.id for m in drain(broker, "orders-redrive")] == [message.id]


def test_cli_on_sqs(aws, moto_url):
    dead_letter(aws, "orders-cli", [Message.new("A", b"{}", source="/o")])
    base = ["--broker", f"sqs:{moto_url}", "--topic", "orders-cli", "--group", "billing", "--wait", "0"]
    listed = CliRunner().invoke(dlq_cli, ["ls", *base, "--format", "json"])
    assert listed.exit_code == 0, listed.output
    assert [x["error_message"] for x in json.loads(listed.output)] == ["bad A"]
    assert CliRunner().invoke(dlq_cli, ["replay", *base]).exit_code == 0
    assert [m.type for m in drain(aws, "orders-cli")] == ["A"]
    bad = CliRunner().invoke(dlq_cli, ["ls", "--broker", "sqs:localhost:1", "--topic", "t", "--group", "g"])
    assert bad.exit_code == 2 and "endpoint URL" in bad.output
    unknown = CliRunner().invoke(dlq_cli, ["ls", *base[:2], "--topic", "no-such-topic", "--group", "billing"])
    assert unknown.exit_code == 2 and "queue 'no-such-topic-billing-dlq' not found" in unknown.output
