"""The kit's SNS/SQS adapter needs no more than the aws-sns-sqs-fanout module grants: every API call the publisher,
a consumer (receive, ack, nack, dead-letter, keep-alive) and a dead-letter operator (list, replay, purge) make on
moto is recorded as its IAM action and resource, and must be in that role's policy (the module's iam_actions.json,
which iam.tf builds the policy documents from). KMS is used by SNS and SQS on the caller's behalf, not called."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timezone
from pathlib import Path

import boto3
import pytest

from edakit.runtime.adapters.base import DeadLetterReason
from edakit.runtime.adapters.sqs_sns import SqsSnsBroker, dead_letter_queue_name, queue_name
from edakit.runtime.message import Message

# Batch APIs are authorized by the single-message action (AWS: PublishBatch needs sns:Publish, etc.).
BATCH_ACTIONS = {"PublishBatch": "Publish", "DeleteMessageBatch": "DeleteMessage", "SendMessageBatch": "SendMessage",
                 "ChangeMessageVisibilityBatch": "ChangeMessageVisibility"}


class Recorder:
    """(action, resource name) of every call through a broker's clients."""

    def __init__(self, broker: SqsSnsBroker) -> None:
        self.calls: set[tuple[str, str]] = set()
        for client in (broker.sns, broker.sqs):
            client.meta.events.register("before-call", self._record)

    def _record(self, model, params, **_) -> None:  # noqa: ANN001 - botocore's event arguments
        body = params.get("body") or {}
        if isinstance(body, (bytes, str)):  # SQS speaks JSON; SNS's query protocol is still a dict here
            body = json.loads(body)
        where = body.get("TopicArn") or body.get("QueueUrl") or body.get("QueueName") or ""
        where = where.rsplit("/", 1)[-1].rsplit(":", 1)[-1]  # the topic or queue name
        service = model.service_model.endpoint_prefix
        self.calls.add((f"{service}:{BATCH_ACTIONS.get(model.name, model.name)}", where))

    def take(self) -> set[tuple[str, str]]:
        calls, self.calls = self.calls, set()
        return calls


@pytest.fixture
def fanout(moto_url, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    session = boto3.Session(region_name="eu-west-1")
    sns, sqs = session.client("sns", endpoint_url=moto_url), session.client("sqs", endpoint_url=moto_url)
    topic, group = f"orders-{uuid.uuid4().hex[:8]}", "billing"
    arn = sns.create_topic(Name=topic)["TopicArn"]
    dlq_url = sqs.create_queue(QueueName=dead_letter_queue_name(topic, group))["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    url = sqs.create_queue(QueueName=queue_name(topic, group), Attributes={
        "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 5})})["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=queue_arn, Attributes={"RawMessageDelivery": "true"})
    broker = SqsSnsBroker(session, endpoint_url=moto_url, topic_arns={topic: arn})
    return broker, topic, group


def granted(*lists: str) -> dict[str, set[str]]:
    actions = json.loads((Path(__file__).parents[3] / "terraform/modules/aws-sns-sqs-fanout/iam_actions.json")
                         .read_text())
    return {name: set(actions[name]) for name in lists}


def allowed(calls: set[tuple[str, str]], grants: dict[str, set[str]]) -> set[tuple[str, str]]:
    """The calls no grant covers: (action, resource) with the resource's grant list lacking the action."""
    return {(action, where) for action, where in calls if action not in grants.get(where, set())}


def test_publisher_consumer_and_operator_stay_within_their_policies(fanout):
    broker, topic, group = fanout
    queue, dlq = queue_name(topic, group), dead_letter_queue_name(topic, group)
    recorder = Recorder(broker)
    grants = granted("publisher", "consumer_queue", "consumer_dead_letter_queue",
                     "dead_letter_operator_dead_letter_queue", "dead_letter_operator_source_queue")

    broker.publisher().publish(topic, [Message.new("order.placed", b'{"n": %d}' % n, source="orders")
                                       for n in range(4)])
    published = recorder.take()
    assert published == {("sns:Publish", topic)}
    assert allowed(published, {topic: grants["publisher"]}) == set()

    subscriber = broker.subscriber(topic, group)
    deliveries = []
    while len(deliveries) < 4:
        deliveries += subscriber.receive(max_messages=10, timeout=1)
    with subscriber.keep_alive(deliveries[:1]):
        pass
    now = datetime.now(timezone.utc)
    deliveries[0].ack()
    deliveries[1].nack(0)
    deliveries[2].dead_letter(DeadLetterReason("ValueError", "bad order", 1, now, now, topic))
    deliveries[3].dead_letter(DeadLetterReason("ValueError", "bad order", 1, now, now, topic))
    consumed = recorder.take()
    assert {a for a, _ in consumed} >= {"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility",
                                        "sqs:SendMessage", "sqs:GetQueueUrl"}  # every path was exercised
    assert allowed(consumed, {queue: grants["consumer_queue"], dlq: grants["consumer_dead_letter_queue"]}) == set()

    dead_letters = broker.dead_letters(topic, group)
    found = []
    while len(found) < 2:
        found += dead_letters.receive(max_messages=10, timeout=1)
    dead_letters.replay(found[0])
    dead_letters.settle([found[0], found[1]], [])
    operated = recorder.take()
    assert ("sqs:SendMessage", queue) in operated and ("sqs:DeleteMessage", dlq) in operated
    assert allowed(operated, {dlq: grants["dead_letter_operator_dead_letter_queue"],
                              queue: grants["dead_letter_operator_source_queue"]}) == set()


def test_a_publisher_without_the_modules_topic_arn_would_need_create_topic(fanout):
    """Why SqsSnsBroker takes topic_arns: by name alone it calls CreateTopic, which the publisher policy lacks."""
    broker, topic, _ = fanout
    by_name = SqsSnsBroker(broker._session, endpoint_url=broker.endpoint_url)  # noqa: SLF001
    recorder = Recorder(by_name)
    by_name.publisher().publish(topic, [Message.new("order.placed", b"{}", source="orders")])
    assert ("sns:CreateTopic", "") in allowed(recorder.take(), {topic: granted("publisher")["publisher"]})
