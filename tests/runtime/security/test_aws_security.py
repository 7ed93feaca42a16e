"""SNS/SQS credentials from `sqs_sns.security` (the AWS credential chain, a profile, an assumed role) and a
KMS-encrypted topic and queues, through the kit's adapter on moto's server."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import boto3
import pytest

from edakit.runtime.adapters.security import SecurityConfigError, aws_session
from edakit.runtime.adapters.sqs_sns import SqsSnsBroker, dead_letter_queue_name, queue_name
from edakit.runtime.message import Message

REGION = "eu-west-1"
ROLE = "arn:aws:iam::123456789012:role/order-consumer"


@pytest.fixture
def aws_env(monkeypatch, tmp_path: Path, moto_url: str) -> str:
    """Only what a test sets: no developer ~/.aws, STS at moto (botocore's AWS_ENDPOINT_URL_STS)."""
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAENVIRONMENT00001")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "env-secret")
    monkeypatch.setenv("AWS_ENDPOINT_URL_STS", moto_url)
    return moto_url


def test_without_settings_the_standard_chain_is_used(aws_env):
    session = aws_session(None, REGION)
    assert session.get_credentials().access_key == "AKIAENVIRONMENT00001"
    assert session.region_name == REGION


def test_a_named_profile_from_the_shared_files(aws_env, monkeypatch, tmp_path: Path):
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    (tmp_path / "credentials").write_text("[orders]\naws_access_key_id = AKIAPROFILE000000001\n"
                                          "aws_secret_access_key = profile-secret\n")
    assert aws_session({"profile": "orders"}, REGION).get_credentials().access_key == "AKIAPROFILE000000001"


def test_an_assumed_role_is_who_the_session_acts_as(aws_env):
    session = aws_session({"role_arn": ROLE, "session_name": "billing-worker", "external_id": "ext-123"}, REGION)
    credentials = session.get_credentials().get_frozen_credentials()
    assert credentials.access_key.startswith("ASIA") and credentials.token
    identity = session.client("sts", endpoint_url=aws_env).get_caller_identity()
    assert identity["Arn"] == "arn:aws:sts::123456789012:assumed-role/order-consumer/billing-worker"


@pytest.mark.parametrize(("block", "expected"), [
    ({"role_arn": "order-consumer"}, "sqs_sns.security.role_arn: expected an IAM role ARN"),
    ({"external_id": "x"}, "sqs_sns.security.external_id: only used with role_arn"),
    ({"role_arn": ROLE, "duration_seconds": 60}, "sqs_sns.security.duration_seconds: expected 900 to 43200"),
    ({"access_key": "AKIA"}, "sqs_sns.security.access_key: unknown key"),
])
def test_bad_aws_settings_name_the_key(aws_env, block, expected):
    with pytest.raises(SecurityConfigError, match=expected.replace(".", r"\.")):
        aws_session(block, REGION)


def test_publish_and_consume_through_kms_encrypted_topic_and_queues_as_an_assumed_role(aws_env):
    """What the aws-sns-sqs-fanout module creates (a customer managed key on the topic, queue and DLQ; the queue
    subscribed with raw delivery), used by the kit's adapter with the credentials of an assumed role; the topic is
    addressed by its ARN, so publishing needs no sns:CreateTopic."""
    admin = boto3.Session(region_name=REGION)
    kms = admin.client("kms", endpoint_url=aws_env)
    key = kms.create_key(Description="orders")["KeyMetadata"]["Arn"]
    topic, group = f"orders-{uuid.uuid4().hex[:8]}", "billing"
    sns, sqs = admin.client("sns", endpoint_url=aws_env), admin.client("sqs", endpoint_url=aws_env)
    topic_arn = sns.create_topic(Name=f"{topic}-prod", Attributes={"KmsMasterKeyId": key})["TopicArn"]
    encrypted = {"KmsMasterKeyId": key, "KmsDataKeyReusePeriodSeconds": "300"}
    dlq_url = sqs.create_queue(QueueName=dead_letter_queue_name(topic, group), Attributes=encrypted)["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    queue_url = sqs.create_queue(QueueName=queue_name(topic, group), Attributes={
        **encrypted, "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 3})})["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn, Attributes={"RawMessageDelivery": "true"})

    broker = SqsSnsBroker(aws_session({"role_arn": ROLE}, REGION), endpoint_url=aws_env,
                          topic_arns={topic: topic_arn})
    sent = Message.new("order.placed", b'{"id": 7}', source="orders")
    broker.publisher().publish(topic, [sent])
    subscriber = broker.subscriber(topic, group)
    deliveries = subscriber.receive(max_messages=10, timeout=2)
    assert [(d.message.id, d.message.payload) for d in deliveries] == [(sent.id, b'{"id": 7}')]
    deliveries[0].ack()
    attributes = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["All"])["Attributes"]
    assert attributes["KmsMasterKeyId"] == key
    assert sns.get_topic_attributes(TopicArn=topic_arn)["Attributes"]["KmsMasterKeyId"] == key
    # The name alone would have made (CreateTopic) and published to a second topic, `<topic>`, not the module's.
    assert [t["TopicArn"] for t in sns.list_topics()["Topics"] if t["TopicArn"].endswith(f":{topic}")] == []


def test_assumed_role_credentials_are_assumed_again_when_they_expire(aws_env):
    from datetime import datetime, timedelta, timezone

    credentials = aws_session({"role_arn": ROLE, "duration_seconds": 900}, REGION).get_credentials()
    first = credentials.get_frozen_credentials().access_key
    assert credentials._expiry_time <= datetime.now(timezone.utc) + timedelta(seconds=900)  # noqa: SLF001
    credentials._expiry_time = datetime.now(timezone.utc) - timedelta(seconds=1)  # noqa: SLF001 - as if 15 min passed
    assert credentials.get_frozen_credentials().access_key not in (first, None)
