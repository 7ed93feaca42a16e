"""Consumer settings from the spec agree with what the renderers give Terraform for the same subscriber."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import boto3
import pytest

from edakit.render import render_spec
from edakit.runtime.adapters.base import DLQ_REASON_KEY, DeadLetterReason
from edakit.runtime.adapters.pubsub import subscription_name
from edakit.runtime.adapters.sqs_sns import SqsSnsBroker, queue_name
from edakit.runtime.message import Message
from edakit.runtime.middleware import Router, compose, retry
from edakit.runtime.settings import SettingsError, consumer_settings
from edakit.spec import load_spec

ROOT = Path(__file__).resolve().parents[2]


def rendered(spec_file: str, env: str, module: str, tmp_path: Path) -> dict:
    spec = load_spec(ROOT / "configs" / spec_file, env)
    files = {path.name: path for path in render_spec(spec, tmp_path)}
    return json.loads(files[f"{module}.auto.tfvars.json"].read_text())


@pytest.mark.parametrize("env", ["staging", "prod"])
def test_sqs_subscribers_give_up_where_their_redrive_policy_does(env: str, tmp_path: Path) -> None:
    spec = load_spec(ROOT / "configs/order-events-sns.yaml", env)
    tfvars = rendered("order-events-sns.yaml", env, "aws-sns-sqs-fanout", tmp_path)
    for name, rendered_sub in tfvars["subscribers"].items():
        settings = consumer_settings(spec, name)
        assert settings.topic == tfvars["name"]
        assert queue_name(settings.topic, settings.group) == f"{tfvars['name']}-{name}"  # the module's queue name
        assert settings.retry.max_attempts == rendered_sub["max_receive_count"]
        assert settings.retry_topic_count is None
        assert (settings.idempotency_window_hours, settings.lease_seconds) == (336, 10)  # the spec's consumer block


def test_kafka_subscribers_use_their_consumer_group_and_its_retry_topics(tmp_path: Path) -> None:
    spec = load_spec(ROOT / "configs/order-events-kafka.yaml", "staging")
    tfvars = rendered("order-events-kafka.yaml", "staging", "kafka-topics", tmp_path)
    for name in spec.subscribers:
        settings = consumer_settings(spec, name)
        group = tfvars["consumer_groups"][settings.group]
        assert group["topics"] == [settings.topic]
        assert group["retry_topic_count"] == settings.retry_topic_count == settings.retry.max_attempts - 1
    billing = consumer_settings(spec, "billing")
    assert (billing.group, billing.retry.base_delay, billing.retry.max_delay) == ("billing", 30.0, 600.0)
    assert consumer_settings(spec, "email").group == "orders-kafka-staging-email"


def test_pubsub_subscribers_read_the_subscription_terraform_creates(tmp_path: Path) -> None:
    spec = load_spec(ROOT / "configs/order-events-pubsub.yaml", "staging")
    tfvars = rendered("order-events-pubsub.yaml", "staging", "gcp-pubsub", tmp_path)
    for name in spec.subscribers:
        settings = consumer_settings(spec, name)
        subscription = tfvars["subscriptions"][subscription_name(settings.topic, settings.group)]
        assert settings.retry.max_attempts == subscription["dead_letter_policy"]["max_delivery_attempts"]


def test_an_unknown_subscriber_is_named_with_the_ones_there_are() -> None:
    spec = load_spec(ROOT / "configs/order-events-sns.yaml", "staging")
    with pytest.raises(SettingsError, match=r"no subscriber 'biling'; the spec has audit, billing, email"):
        consumer_settings(spec, "biling")


def test_a_subscriber_the_runtime_does_not_consume_is_refused_at_its_place() -> None:
    spec = load_spec(ROOT / "configs/order-events-eventgrid.yaml", "staging")
    name = next(iter(spec.subscribers))
    with pytest.raises(SettingsError, match=rf"order-events-eventgrid.yaml:\d+:\d+ subscribers.{name}: .*event-grid"):
        consumer_settings(spec, name)


def test_a_service_configured_from_the_spec_dead_letters_where_its_queue_would(moto_url: str, tmp_path: Path) -> None:
    """The worked example of the runtime guide, end to end on moto's SQS: the queue as Terraform would create it
    from the rendered tfvars, the consumer from `consumer_settings`."""
    spec = load_spec(ROOT / "configs/order-events-sns.yaml", "staging")
    settings = consumer_settings(spec, "billing")
    redrive = rendered("order-events-sns.yaml", "staging", "aws-sns-sqs-fanout", tmp_path)["subscribers"]["billing"]
    session = boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name="eu-west-1")
    broker = SqsSnsBroker(session, endpoint_url=moto_url, create_missing=True,
                          max_receive_count=redrive["max_receive_count"], visibility_timeout=30)
    subscriber = broker.subscriber(settings.topic, settings.group)
    broker.publisher().publish(settings.topic, [sent := Message.new("OrderPlaced", b'{"total_amount": 5}',
                                                                    source="/orders")])
    attempts: list[int] = []

    def charge(delivery) -> None:  # noqa: ANN001 - a router delivery
        attempts.append(delivery.attempt)
        raise ConnectionError("payment provider down")

    fast = replace(settings.retry, base_delay=0.0, max_delay=0.0)  # the spec's 10-600 s backoff, without the wait
    Router(subscriber, compose(charge, retry(fast)), max_messages=settings.max_messages,
           lease_seconds=settings.lease_seconds).run_until_idle(1)
    dlq = broker.dead_letter_subscriber(settings.topic, settings.group)
    [dead] = dlq.receive(10, timeout=5)
    reason = DeadLetterReason.from_json(dead.metadata[DLQ_REASON_KEY])
    assert attempts == [1, 2, 3] and redrive["max_receive_count"] == 3
    assert (dead.message.id, reason.attempts, reason.error_type) == (sent.id, 3, "ConnectionError")
    dead.ack()
