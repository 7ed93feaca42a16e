"""SNS/SQS adapter against moto's server: standard and FIFO topics, native redrive, visibility heartbeat."""

from __future__ import annotations

import json
import time
import uuid

import boto3
import pytest
from adapter_conformance import AdapterConformance, drain, event

from edakit.runtime.adapters.base import BrokerError
from edakit.runtime.adapters.sqs_sns import SqsSnsBroker, dead_letter_queue_name, queue_name
from edakit.runtime.middleware import Router
from edakit.runtime.message import Message


def sqs_sns_broker(endpoint: str, **settings: object) -> SqsSnsBroker:
    session = boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1")
    return SqsSnsBroker(session, endpoint_url=endpoint, create_missing=True, **settings)


class TestSqsSnsStandard(AdapterConformance):
    features = SqsSnsBroker.features

    @pytest.fixture
    def broker(self, moto_endpoint: str) -> SqsSnsBroker:
        return sqs_sns_broker(moto_endpoint)


class TestSqsSnsFifo(AdapterConformance):
    features = SqsSnsBroker.features | {"ordering"}

    def topic_name(self, unique: str) -> str:
        return f"t{unique}.fifo"

    @pytest.fixture
    def broker(self, moto_endpoint: str) -> SqsSnsBroker:
        return sqs_sns_broker(moto_endpoint)


@pytest.fixture
def broker(moto_endpoint: str) -> SqsSnsBroker:
    return sqs_sns_broker(moto_endpoint, max_receive_count=2, visibility_timeout=1)


def names() -> tuple[str, str]:
    return f"t{uuid.uuid4().hex[:12]}", f"g{uuid.uuid4().hex[:6]}"


def raw_receive(broker: SqsSnsBroker, queue: str) -> dict:
    url = broker.queue_url(queue)
    response = broker.sqs.receive_message(QueueUrl=url, WaitTimeSeconds=5, MessageAttributeNames=["All"])
    [message] = response["Messages"]
    return message


def test_text_payloads_travel_in_binary_mode_and_bytes_in_structured_mode(broker: SqsSnsBroker) -> None:
    topic, group = names()
    broker.subscriber(topic, group).close()
    publisher = broker.publisher()
    publisher.publish(topic, [text := event(1, traceparent="00-ab-cd-01")])
    sqs_message = raw_receive(broker, queue_name(topic, group))
    attributes = {k: v["StringValue"] for k, v in sqs_message["MessageAttributes"].items()}
    assert sqs_message["Body"] == text.payload.decode()
    assert attributes["ce_id"] == text.id and attributes["ce_traceparent"] == "00-ab-cd-01"
    assert attributes["content-type"] == "application/json"

    publisher.publish(topic, [binary := event(2, payload=b"\x00\xff")])
    sqs_message = raw_receive(broker, queue_name(topic, group))
    assert sqs_message["MessageAttributes"]["content-type"]["StringValue"] == "application/cloudevents+json"
    assert json.loads(sqs_message["Body"])["id"] == binary.id


def test_native_redrive_moves_a_message_after_max_receive_count(broker: SqsSnsBroker) -> None:
    topic, group = names()
    subscriber = broker.subscriber(topic, group)
    dlq = broker.dead_letter_subscriber(topic, group)
    broker.publisher().publish(topic, [sent := event(1)])
    attempts = []
    for _ in range(2):
        [delivery] = drain(subscriber, 1)
        attempts.append(delivery.attempt)
        delivery.nack()
    # SQS moves it on the receive that would exceed maxReceiveCount: that receive returns nothing.
    assert drain(subscriber, 1, timeout=1.0) == []
    [dead] = drain(dlq, 1)
    assert attempts == [1, 2]
    assert dead.message == sent
    assert "dlq_reason" not in dead.metadata  # SQS's own redrive records no reason; dead_letter() does


def test_keep_alive_holds_a_slow_handlers_message(broker: SqsSnsBroker) -> None:
    topic, group = names()
    slow, other = broker.subscriber(topic, group), broker.subscriber(topic, group)
    broker.publisher().publish(topic, [event(1)])
    [delivery] = drain(slow, 1)
    # The queue's visibility timeout is 1 s; the heartbeat keeps pushing it out while the handler works.
    with slow.keep_alive([delivery], visibility_timeout=2, interval=0.5):
        time.sleep(1.5)
        assert other.receive(timeout=1) == []  # 2.5 s after receipt: long past the queue's 1 s
    # SQS holds a message at most 12 h: the first beat asks for more, its entry is refused, and that is raised.
    with pytest.raises(BrokerError, match="1 message\\(s\\) refused, first: InvalidParameterValue"):
        with slow.keep_alive([delivery], visibility_timeout=43_201):
            pass
    with pytest.raises(ValueError, match="visibility_timeout: expected at least 1 second, got 0"):
        slow.keep_alive([delivery], visibility_timeout=0)
    delivery.ack()
    assert other.receive(timeout=1) == []


def test_keep_alive_goes_on_when_a_message_in_its_snapshot_was_deleted_meanwhile(broker: SqsSnsBroker) -> None:
    topic, group = names()
    subscriber = broker.subscriber(topic, group)
    broker.publisher().publish(topic, [event(1), event(2)])
    settled, slow = drain(subscriber, 2)
    settled.ack()  # what a Router does while the heartbeat still holds the delivery in its snapshot
    with subscriber.keep_alive([settled, slow], visibility_timeout=2, interval=0.3):
        time.sleep(1.5)  # past the queue's 1 s: only the heartbeat keeps `slow` in flight
        assert subscriber.receive(timeout=0) == []
    slow.ack()


def test_the_router_keeps_a_batch_leased_while_a_slow_handler_works_through_it(broker: SqsSnsBroker) -> None:
    topic, group = names()
    subscriber, other = broker.subscriber(topic, group), broker.subscriber(topic, group)
    sent = [event(n) for n in range(3)]
    broker.publisher().publish(topic, sent)
    handled, stolen = [], []

    def slow(delivery) -> None:  # noqa: ANN001 - a router delivery
        for competing in other.receive(timeout=0):  # a competing consumer gets what lost its lease
            stolen.append(competing.message.id)
            competing.ack()
        time.sleep(0.7)
        handled.append(delivery.message.id)

    # The queue's visibility timeout is 1 s; a batch of 3 takes 2.1 s to work through.
    Router(subscriber, slow, max_messages=3, lease_seconds=2).run_until_idle(1)
    assert sorted(handled + stolen) == sorted(m.id for m in sent)  # each message handled once, by someone


def test_subscriber_reads_sns_envelopes_when_raw_delivery_is_off(broker: SqsSnsBroker) -> None:
    topic, group = names()
    subscriber = broker.subscriber(topic, group)
    arn = broker.topic_arn(topic)
    [subscription] = broker.sns.list_subscriptions_by_topic(TopicArn=arn)["Subscriptions"]
    broker.sns.set_subscription_attributes(SubscriptionArn=subscription["SubscriptionArn"],
                                           AttributeName="RawMessageDelivery", AttributeValue="false")
    sent = Message.new("OrderPlaced", b'{"order":1}', source="/orders", subject="orders/1")
    broker.publisher().publish(topic, [sent])
    [delivery] = drain(subscriber, 1)
    assert delivery.message == sent


def test_queue_names_follow_the_terraform_module() -> None:
    assert queue_name("orders", "billing") == "orders-billing"
    assert dead_letter_queue_name("orders.fifo", "billing") == "orders-billing-dlq.fifo"
