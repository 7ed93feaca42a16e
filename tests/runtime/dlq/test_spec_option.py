"""`--spec [--env]` on `edakit outbox relay` and `edakit dlq replay`: the publisher follows the spec's attribute
contract, so subscriptions that filter on its declared native attributes (event_type) receive what is sent."""

from __future__ import annotations

import dataclasses
import json
import sqlite3
import uuid
from datetime import datetime, timezone
from pathlib import Path

import boto3
import pytest
from click.testing import CliRunner

from edakit.brokers import contract
from edakit.cli import main
from edakit.runtime.adapters.base import DeadLetterReason
from edakit.runtime.adapters.pubsub import PubSubBroker, subscription_name
from edakit.runtime.dlq import DeadLetterQueue, Selection
from edakit.runtime.message import Message
from edakit.runtime.outbox import OutboxEvent, append
from edakit.runtime.settings import PublisherSettings
from edakit.spec import load_spec

REPO = Path(__file__).resolve().parents[3]
SNS_SPEC = REPO / "configs" / "order-events-sns.yaml"
PUBSUB_SPEC = REPO / "configs" / "order-events-pubsub.yaml"
NOW = datetime(2026, 1, 1, tzinfo=timezone.utc)


@pytest.fixture
def aws(moto_url, monkeypatch):
    for name, value in {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
                        "AWS_DEFAULT_REGION": "us-east-1"}.items():
        monkeypatch.setenv(name, value)
    return moto_url


def email_queue(moto_url: str, topic: str) -> tuple[object, str]:
    """The spec's e-mail subscription on moto: raw delivery, its filter policy on event_type from the spec."""
    spec = load_spec(SNS_SPEC)
    email = spec.subscribers["email"]
    sns = boto3.client("sns", endpoint_url=moto_url)
    sqs = boto3.client("sqs", endpoint_url=moto_url)
    arn = sns.create_topic(Name=topic)["TopicArn"]
    url = sqs.create_queue(QueueName=f"email-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=queue_arn, Attributes={
        "RawMessageDelivery": "true", "FilterPolicyScope": email.filter.scope,
        "FilterPolicy": json.dumps(email.filter.policy)})
    return sqs, url


def outbox_with_order(tmp_path: Path, topic: str) -> str:
    tmp_path.mkdir(parents=True, exist_ok=True)
    db = tmp_path / "outbox.sqlite3"
    assert CliRunner().invoke(main, ["outbox", "init", "--db", f"sqlite:{db}"]).exit_code == 0
    conn = sqlite3.connect(db)
    with conn:
        append(conn, [OutboxEvent("order", "o-1", "OrderPlaced", json.dumps({"total_amount": 12}).encode(), topic,
                                  "/orders")])
    conn.close()
    return f"sqlite:{db}"


def test_relay_with_spec_reaches_the_email_filter_and_without_it_warns(aws, tmp_path):
    topic = load_spec(SNS_SPEC).channels["order-placed"].resource_name
    sqs, url = email_queue(aws, topic)
    base = ["outbox", "relay", "--broker", f"sqs:{aws}", "--until-empty"]

    plain = CliRunner().invoke(main, [*base, "--db", outbox_with_order(tmp_path / "a", topic)])
    assert plain.exit_code == 0, plain.output
    assert "warning: no --spec" in plain.output and "event_type" in plain.output
    assert sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1).get("Messages", []) == []  # filtered out

    with_spec = CliRunner().invoke(main, [*base, "--db", outbox_with_order(tmp_path / "b", topic),
                                          "--spec", str(SNS_SPEC)])
    assert with_spec.exit_code == 0, with_spec.output
    assert "relayed 1 event(s)" in with_spec.output and "warning" not in with_spec.output
    [got] = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=2, MessageAttributeNames=["All"])["Messages"]
    assert got["MessageAttributes"]["event_type"]["StringValue"] == "OrderPlaced"


def test_bad_spec_input_is_exit_2_one_line(aws, tmp_path):
    db = outbox_with_order(tmp_path, "orders")
    base = ["outbox", "relay", "--db", db, "--broker", f"sqs:{aws}", "--until-empty"]
    missing = CliRunner().invoke(main, [*base, "--spec", str(tmp_path / "nope.yaml")])
    assert missing.exit_code == 2 and "nope.yaml" in missing.output and "Traceback" not in missing.output
    env_alone = CliRunner().invoke(main, [*base, "--env", "staging"])
    assert env_alone.exit_code == 2 and env_alone.output.strip() == (
        "error: --env needs --spec: it names an environment of the spec")
    unknown_env = CliRunner().invoke(main, [*base, "--spec", str(SNS_SPEC), "--env", "no-such-env"])
    assert unknown_env.exit_code == 2 and "no-such-env" in unknown_env.output
    embedded = tmp_path / "broker.sqlite3"
    from edakit.runtime.adapters.embedded import EmbeddedBroker
    EmbeddedBroker(embedded)
    wrong = CliRunner().invoke(main, ["outbox", "relay", "--db", db, "--broker", f"embedded:{embedded}",
                                      "--until-empty", "--spec", str(SNS_SPEC)])
    assert wrong.exit_code == 2 and len(wrong.output.strip().splitlines()) == 1
    assert "is --spec the spec of this broker?" in wrong.output


PROJECT = "edakit-dlq-spec"


def test_pubsub_replay_into_a_filtered_subscription_needs_the_contract(pstest_host):
    """Without the spec's contract the replay could lack what the subscription's filter reads and be dropped while
    its dead letter is deleted: refused, and kept. With it the replay carries event_type and arrives."""
    spec = load_spec(PUBSUB_SPEC)
    [(name, channel)] = [(n, c) for n, c in spec.channels.items() if contract(spec, n) is not None][:1]
    found = contract(spec, name)
    assert any(a.name == "event_type" for a in found.native)
    topic = f"orders-{uuid.uuid4().hex[:8]}"
    broker = PubSubBroker(PROJECT, create_missing=True, emulator_host=pstest_host)
    publisher_client, subscriber_client = broker.publisher_client(), broker.subscriber_client()
    publisher_client.create_topic(request={"name": broker.topic_path(topic)})
    # billing's subscription with a filter (pstest stores it, applies none): created before the adapter's own.
    subscriber_client.create_subscription(request={
        "name": broker.subscription_path(subscription_name(topic, "billing")), "topic": broker.topic_path(topic),
        "filter": 'attributes.event_type = "OrderPlaced"', "ack_deadline_seconds": 10})
    billing = broker.subscriber(topic, "billing")
    message = Message.new("OrderPlaced", b'{"total_amount": 3}', source="/orders")
    broker.publisher().publish(topic, [message])
    [delivery] = billing.receive(1, timeout=5)
    delivery.dead_letter(DeadLetterReason("ValueError", "bad", 1, NOW, NOW, topic))

    q = DeadLetterQueue(broker, topic, "billing", wait=1)
    refused = q.replay(Selection())
    [(letter, why)] = refused.failed
    assert letter.message.id == message.id and "filters on" in why and "--spec" in why
    assert [x.message.id for x in q.list()] == [message.id]

    q.settings = PublisherSettings({topic: dataclasses.replace(found, topic=topic)})
    assert [x.message.id for x in q.replay(Selection()).done] == [message.id]
    pulled = subscriber_client.pull(request={"subscription": billing.path, "max_messages": 5}, timeout=10)
    [got] = pulled.received_messages
    assert dict(got.message.attributes)["event_type"] == "OrderPlaced"
    subscriber_client.close()
    publisher_client.stop()
    billing.close()
