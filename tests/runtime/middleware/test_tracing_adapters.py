"""One trace from the outbox write to each of the fan-out's three consumer groups, per adapter: Kafka on Tansu,
SNS/SQS on moto, Pub/Sub on pstest, and the Event Grid webhook (the embedded broker: test_tracing.py). Span kinds
and attributes as the OpenTelemetry messaging conventions say (checked by tracing_fanout.check_fanout)."""

from __future__ import annotations

import json
import uuid

import boto3
from opentelemetry.semconv._incubating.attributes import messaging_attributes as msg
from opentelemetry.trace import SpanKind
from otel_spans import install, spans_of
from tracing_fanout import GROUPS, check_fanout, place_order, run_fanout

from edakit.runtime.adapters.eventgrid import BATCH as BATCH_CONTENT_TYPE
from edakit.runtime.adapters.eventgrid import EventGridWebhook
from edakit.runtime.adapters.kafka import KafkaBroker
from edakit.runtime.adapters.pubsub import PubSubBroker
from edakit.runtime.adapters.sqs_sns import SqsSnsBroker, queue_name
from edakit.runtime.cloudevents import to_structured
from edakit.runtime.middleware import compose, tracing
from edakit.runtime.outbox import SqliteOutbox

CONSUMER_CONFIG = {"session.timeout.ms": 6000, "heartbeat.interval.ms": 500, "topic.metadata.refresh.interval.ms": 1000}


def unique(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:10]}"


def test_kafka_on_tansu(tansu_bootstrap, tmp_path):
    broker = KafkaBroker(tansu_bootstrap, consumer_config=CONSUMER_CONFIG, create_missing_topics=True)
    topic = unique("orders-")
    subscribers = {group: broker.subscriber(topic, group) for group in GROUPS}
    try:
        out = run_fanout(tmp_path, topic, broker.publisher(), subscribers, deadline=60)
    finally:
        for subscriber in subscribers.values():
            subscriber.close()
    processes = check_fanout(out, topic, "kafka", "kafka", {g: topic for g in GROUPS}, {g: g for g in GROUPS})
    for group, span in processes.items():
        [delivery] = out.handled[group]
        assert span.attributes[msg.MESSAGING_DESTINATION_PARTITION_ID] == delivery.metadata["partition"]
        assert span.attributes[msg.MESSAGING_KAFKA_OFFSET] == int(delivery.metadata["offset"])
        assert span.attributes[msg.MESSAGING_KAFKA_MESSAGE_KEY] == "ord-1"  # the aggregate id


def test_sns_sqs_on_moto(moto_url, tmp_path):
    session = boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1")
    broker = SqsSnsBroker(session, endpoint_url=moto_url, create_missing=True)
    topic = unique("orders-")
    subscribers = {group: broker.subscriber(topic, group) for group in GROUPS}
    queues = {group: queue_name(topic, group) for group in GROUPS}
    out = run_fanout(tmp_path, topic, broker.publisher(), subscribers)
    check_fanout(out, topic, "aws_sqs", "aws.sns", queues, queues)



def test_pubsub_on_pstest(pstest_host, tmp_path):
    broker = PubSubBroker("edakit-test", create_missing=True, emulator_host=pstest_host)
    topic = unique("orders-")
    subscribers = {group: broker.subscriber(topic, group) for group in GROUPS}
    sources = {group: subscribers[group].subscription.rpartition("/")[2] for group in GROUPS}
    try:
        out = run_fanout(tmp_path, topic, broker.publisher(), subscribers)
    finally:
        for subscriber in subscribers.values():
            subscriber.close()
    processes = check_fanout(out, topic, "gcp_pubsub", "gcp_pubsub", sources, sources)
    for group, span in processes.items():
        assert span.attributes[msg.MESSAGING_DESTINATION_SUBSCRIPTION_NAME] == sources[group]
        assert span.attributes[msg.MESSAGING_GCP_PUBSUB_MESSAGE_DELIVERY_ATTEMPT] == 1


def test_event_grid_webhook(tmp_path):
    """Event Grid itself cannot run here: its delivery is the CloudEvents batch it posts to each subscription's
    webhook, built from the outbox row the relay would publish (the relay's send span: the other adapters)."""
    install()
    topic = "order-placed"
    trace_id, event_id = place_order(tmp_path / "orders.sqlite3", topic)
    outbox = SqliteOutbox(tmp_path / "orders.sqlite3")
    with outbox.claim(10) as batch:  # the Message the relay would publish, as the relay reads it
        [message] = [row.message for row in batch.rows]
    outbox.close()
    body = json.dumps([json.loads(to_structured(message))]).encode()
    subscriptions = {group: f"orders-prod-{group}" for group in GROUPS}
    for group, subscription in subscriptions.items():
        seen = []
        webhook = EventGridWebhook(compose(seen.append, tracing()), allow_unauthenticated=True)
        response = webhook("POST", {"Content-Type": BATCH_CONTENT_TYPE, "aeg-subscription-name": subscription,
                                    "aeg-delivery-count": "0"}, body)
        assert response.status == 200 and [d.message.id for d in seen] == [event_id]
    spans = spans_of(trace_id)
    [create] = [s for s in spans if s.name == f"create {topic}"]
    for group, subscription in subscriptions.items():
        [span] = [s for s in spans if s.name == f"process {subscription}"]
        assert span.kind == SpanKind.CONSUMER and span.parent.span_id == create.context.span_id
        assert span.attributes[msg.MESSAGING_SYSTEM] == "eventgrid"
        assert span.attributes[msg.MESSAGING_CONSUMER_GROUP_NAME] == subscription
        assert span.attributes[msg.MESSAGING_DESTINATION_SUBSCRIPTION_NAME] == subscription
        assert span.attributes[msg.MESSAGING_MESSAGE_ID] == event_id
