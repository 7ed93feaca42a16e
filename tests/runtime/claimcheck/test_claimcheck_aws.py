"""Claim check on moto's S3 + SNS/SQS, and interoperability with AWS's SQS Extended Client Library (its Python port
`amazon-sqs-extended-client`) in both directions: the same pointer body and ExtendedPayloadSize attribute."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import boto3
import boto3.session
import pytest

_session, _default = boto3.session.Session, boto3.DEFAULT_SESSION
from sqs_extended_client.client import SQSExtendedClientSession  # noqa: E402

# Importing the package replaces boto3.Session process-wide with its own session (every SQS client would become an
# Extended Client, with an S3 client for the real AWS endpoint): undone here, so only `extended_client()` is one.
boto3.Session = boto3.session.Session = _session
boto3.DEFAULT_SESSION = _default

from edakit.runtime.adapters.base import DLQ_REASON_KEY, DeadLetterReason
from edakit.runtime.adapters.sqs_sns import SqsSnsBroker, queue_name
from edakit.runtime.claimcheck import POINTER_CLASS, ClaimCheckPublisher, OffloadPolicy, claim_check, parse_pointer
from edakit.runtime.claimcheck.s3 import S3Store
from edakit.runtime.cloudevents import to_binary
from edakit.runtime.message import Message
from edakit.runtime.middleware import RetryPolicy, Router, compose, retry

CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing", "region_name": "us-east-1"}
TWO_MB = 2 * 1024 * 1024


@dataclass
class Aws:
    endpoint: str
    broker: SqsSnsBroker
    store: S3Store
    topic: str


@pytest.fixture
def aws(moto_url: str) -> Iterator[Aws]:
    session = boto3.Session(**CREDENTIALS)
    s3 = session.client("s3", endpoint_url=moto_url)
    bucket = f"claims-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket)
    broker = SqsSnsBroker(session, endpoint_url=moto_url, create_missing=True, max_receive_count=2,
                          visibility_timeout=1)
    yield Aws(moto_url, broker, S3Store(s3, bucket), f"t{uuid.uuid4().hex[:10]}")


def document(size: int) -> bytes:
    return json.dumps({"order_id": "o-1", "scan": "x" * (size - 31)}).encode()


def kit_publish(aws: Aws, message: Message) -> None:
    ClaimCheckPublisher(aws.broker.publisher(), aws.store, {aws.topic: OffloadPolicy(180_224)}).publish(
        aws.topic, [message])


def consume(aws: Aws, group: str, *middlewares) -> list[Message]:  # noqa: ANN002
    """One receive (long poll up to 2 s, back as soon as the message is there), handled through `middlewares`."""
    seen: list[Message] = []
    Router(aws.broker.subscriber(aws.topic, group), compose(lambda d: seen.append(d.message), *middlewares),
           receive_timeout=2).run_once()
    return seen


def extended_client(aws: Aws):  # noqa: ANN201 - a boto3 SQS client with AWS's large-payload methods
    sqs = SQSExtendedClientSession(**CREDENTIALS).client("sqs", endpoint_url=aws.endpoint)
    sqs.s3_client = boto3.Session(**CREDENTIALS).client("s3", endpoint_url=aws.endpoint)  # it builds one without
    sqs.large_payload_support = aws.store.bucket
    return sqs


def test_a_2_mb_payload_fans_out_through_sns_and_each_queue_gets_it_back(aws: Aws) -> None:
    for group in ("billing", "archive"):
        aws.broker.subscriber(aws.topic, group)  # subscriptions first
    message = Message.new("OrderPlaced", document(TWO_MB), source="orders")
    kit_publish(aws, message)
    billing = aws.broker.queue_url(queue_name(aws.topic, "billing"))
    raw = aws.broker.sqs.receive_message(QueueUrl=billing, MessageAttributeNames=["All"],
                                         WaitTimeSeconds=2)["Messages"][0]
    aws.broker.sqs.change_message_visibility(QueueUrl=billing, ReceiptHandle=raw["ReceiptHandle"], VisibilityTimeout=0)
    assert raw["MessageAttributes"]["ExtendedPayloadSize"] == {"DataType": "Number",
                                                               "StringValue": str(len(message.payload))}
    assert json.loads(raw["Body"])[0] == POINTER_CLASS and len(raw["Body"]) < 200
    for group in ("billing", "archive"):
        [got] = consume(aws, group, claim_check(aws.store))
        assert got.id == message.id and got.payload == message.payload


def test_aws_extended_client_reads_what_the_kit_offloaded(aws: Aws) -> None:
    aws.broker.subscriber(aws.topic, "aws")
    message = Message.new("OrderPlaced", document(TWO_MB), source="orders")
    kit_publish(aws, message)
    sqs = extended_client(aws)
    [received] = sqs.receive_message(QueueUrl=aws.broker.queue_url(queue_name(aws.topic, "aws")),
                                     MessageAttributeNames=["All"], WaitTimeSeconds=2)["Messages"]
    assert received["Body"].encode() == message.payload
    assert received["MessageAttributes"]["ce_id"]["StringValue"] == message.id
    assert "ExtendedPayloadSize" not in received["MessageAttributes"]  # the client removed it: the body is restored


def test_the_kit_reads_what_aws_extended_client_offloaded(aws: Aws) -> None:
    subscriber = aws.broker.subscriber(aws.topic, "kit")
    message = Message.new("OrderPlaced", document(TWO_MB), source="orders")
    attributes = {name: {"DataType": "String", "StringValue": value} for name, value in to_binary(message).items()}
    sqs = extended_client(aws)
    sqs.send_message(QueueUrl=subscriber.queue_url, MessageBody=message.payload.decode(), MessageAttributes=attributes)
    [(bucket, key)] = [(o["Bucket"], o["Key"]) for o in [{"Bucket": aws.store.bucket, "Key": k["Key"]} for k in
                       aws.store.client.list_objects_v2(Bucket=aws.store.bucket)["Contents"]]]
    assert bucket == aws.store.bucket and key  # AWS's client stored it under a key of its own
    [got] = consume(aws, "kit", claim_check(aws.store))
    assert got == message and got.payload == message.payload


def test_importing_the_extended_client_left_boto3_alone() -> None:
    assert boto3.Session is boto3.session.Session is _session
    assert not hasattr(boto3.Session(**CREDENTIALS).client("sqs", endpoint_url="http://127.0.0.1:9"),
                       "large_payload_support")


def test_an_expired_object_is_dead_lettered_to_the_sqs_dlq_with_the_reason(aws: Aws) -> None:
    aws.broker.subscriber(aws.topic, "billing")
    message = Message.new("OrderPlaced", document(300_000), source="orders")
    kit_publish(aws, message)
    for stored in aws.store.client.list_objects_v2(Bucket=aws.store.bucket)["Contents"]:
        aws.store.client.delete_object(Bucket=aws.store.bucket, Key=stored["Key"])  # the lifecycle rule's work
    assert consume(aws, "billing", retry(RetryPolicy(max_attempts=5, base_delay=0, max_delay=0)),
                   claim_check(aws.store)) == []
    [dead] = aws.broker.dead_letter_subscriber(aws.topic, "billing").receive(10, 1)
    reason = DeadLetterReason.from_json(dead.metadata[DLQ_REASON_KEY])
    assert dead.message.id == message.id and reason.error_type == "PayloadMissing" and reason.attempts == 1
    assert f"s3://{aws.store.bucket}/" in reason.error_message and "expired" in reason.error_message
    assert parse_pointer(dead.message.payload).bucket == aws.store.bucket  # still the pointer: replayable


def test_delete_after_processing_removes_the_object_once_acked(aws: Aws) -> None:
    aws.broker.subscriber(aws.topic, "only")
    kit_publish(aws, Message.new("OrderPlaced", document(300_000), source="orders"))
    assert aws.store.client.list_objects_v2(Bucket=aws.store.bucket)["KeyCount"] == 1
    assert len(consume(aws, "only", claim_check(aws.store, delete_after_processing=True))) == 1
    assert aws.store.client.list_objects_v2(Bucket=aws.store.bucket)["KeyCount"] == 0
