"""Schemas in the message path end to end, against the local registry: a producer appends through the outbox's
serialize hook, the relay publishes, a consumer decodes through serialization() inside retry(); a poison message
goes straight to the DLQ with its reason (schema, version, path) after one attempt. On Kafka (Tansu, Confluent's
Avro wire format) and SNS/SQS (moto, JSON with the schema version in a header)."""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import orjson

from edakit.runtime.adapters.base import DLQ_REASON_KEY, DeadLetterReason
from edakit.runtime.adapters.kafka import KafkaBroker
from edakit.runtime.adapters.sqs_sns import SqsSnsBroker
from edakit.runtime.adapters.urls import KAFKA_TOOL_CONSUMER
from edakit.runtime.message import Message
from edakit.runtime.middleware import RetryPolicy, Router, compose, retry
from edakit.runtime.middleware.serialization import DecodedDelivery, serialization
from edakit.runtime.outbox import OutboxEvent, Relay, SqliteOutbox, append, create_schema
from edakit.runtime.serde import ChannelCodec, channel_codec, event_schema, serializer

Example = Callable[[str], dict[str, Any]]
RETRY = RetryPolicy(max_attempts=3, base_delay=0.05, max_delay=0.1)


def _outbox(tmp_path: Path, topic: str, documents: list[dict[str, Any]], serialize: Callable) -> SqliteOutbox:
    path = tmp_path / "orders.sqlite3"
    with sqlite3.connect(path) as conn:
        create_schema(conn)
        append(conn, [OutboxEvent(aggregate_type="order", aggregate_id=d["order_id"], event_type="OrderPlaced",
                                  payload=json.dumps(d).encode(), topic=topic, source="/services/order")
                      for d in documents], serialize=serialize)
    return SqliteOutbox(path)


def _consume(router: Router, deliveries: int, rounds: int = 20) -> None:
    """Run the router until it handled `deliveries` (the good ones and the poison)."""
    handled = 0
    for _ in range(rounds):
        handled += router.run_once()
        if handled >= deliveries:
            return


def _dead(dlq: Any, rounds: int = 20) -> list:
    found: list = []
    for _ in range(rounds):
        found += dlq.receive(10, timeout=0.5)
        if found:
            return found
    return found


def test_kafka_avro_through_outbox_relay_and_consumer(tansu_bootstrap: str, kafka_spec, registry_url: str,
                                                     repo_root: Path, tmp_path: Path, example: Example) -> None:
    broker = KafkaBroker(tansu_bootstrap, consumer_config=KAFKA_TOOL_CONSUMER, create_missing_topics=True,
                         partitions=1, retry_topic_count=2)
    topic = f"orders-{uuid.uuid4().hex[:8]}"
    codec = channel_codec(kafka_spec, "order-placed", registry_url=registry_url)
    codec = ChannelCodec(topic, codec.schemas, wire="confluent", registry=codec.registry)  # a topic of its own
    consumer_v2 = ChannelCodec(topic, {"OrderPlaced": event_schema(
        "OrderPlaced", repo_root / "schemas/order-events/v2/order-placed.avsc", 2, topic)}, wire="confluent",
        registry=codec.registry)
    sub = broker.subscriber(topic, "billing")
    dlq = broker.dead_letter_subscriber(topic, "billing")
    assert dlq.receive(1, timeout=0.1) == []  # its group joins while the consumer works (each join takes seconds)
    publisher = broker.publisher()
    Relay(_outbox(tmp_path, topic, [example("v1")], serializer_of(codec)), publisher).drain()
    # a producer that bypasses the kit (no magic byte): poison, whatever the retry policy says
    publisher.publish(topic, [Message.new("OrderPlaced", b'{"order_id": "x"}', source="/elsewhere")])
    seen: list[tuple[str, int]] = []

    def handler(delivery: DecodedDelivery) -> None:
        seen.append((delivery.value["order_id"], delivery.attempt))
        assert delivery.value["sales_channel"] == "web"  # the v2 consumer reads v1 records, defaults filled in

    router = Router(sub, compose(handler, retry(RETRY), serialization(consumer_v2)), receive_timeout=1)
    _consume(router, 2, rounds=10)
    [letter] = _dead(dlq)
    reason = DeadLetterReason.from_json(letter.metadata[DLQ_REASON_KEY])
    assert seen == [("ord-1001", 1)]
    assert (reason.error_type, reason.attempts, reason.original_source) == ("PoisonMessage", 1, topic)
    assert "v2/order-placed.avsc" in reason.error_message and "version 2" in reason.error_message
    assert "magic byte" in reason.error_message
    dlq.close()
    sub.close()
    publisher.close()
    codec.close()


def serializer_of(codec: ChannelCodec) -> Callable[[OutboxEvent], OutboxEvent]:
    from edakit.runtime.serde import Serializer
    return Serializer({codec.topic: codec})


def test_sqs_json_v2_producer_v1_consumer_and_poison(moto_url: str, sns_spec, repo_root: Path, tmp_path: Path,
                                                    example: Example) -> None:
    session = boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1")
    broker = SqsSnsBroker(session, endpoint_url=moto_url, create_missing=True, visibility_timeout=1)
    topic = f"orders-{uuid.uuid4().hex[:8]}"
    v1 = channel_codec(sns_spec, "order-placed")
    consumer_v1 = ChannelCodec(topic, v1.schemas, wire="json")
    producer_v2 = ChannelCodec(topic, {"OrderPlaced": event_schema(
        "OrderPlaced", repo_root / "schemas/order-events/v2/order-placed.avsc", 2, topic)}, wire="json")
    sub = broker.subscriber(topic, "email")
    publisher = broker.publisher()
    Relay(_outbox(tmp_path, topic, [example("v2-digital-goods")], serializer_of(producer_v2)), publisher).drain()
    invalid = example("v1")
    invalid["total_amount"] = "lots"
    publisher.publish(topic, [Message.new("OrderPlaced", orjson.dumps(invalid), source="/elsewhere")])
    seen: list[tuple[str, str]] = []

    def handler(delivery: DecodedDelivery) -> None:
        seen.append((delivery.value["order_id"], delivery.message.headers["schemaversion"]))

    router = Router(sub, compose(handler, retry(RETRY), serialization(consumer_v1)), receive_timeout=1)
    _consume(router, 2, rounds=10)
    dlq = broker.dead_letter_subscriber(topic, "email")
    [letter] = _dead(dlq)
    reason = DeadLetterReason.from_json(letter.metadata[DLQ_REASON_KEY])
    # v2's JSON still matches v1 (added fields are extra keys): read, with the writer's version in the header
    assert seen == [(example("v2-digital-goods")["order_id"], "2")]
    assert (reason.error_type, reason.attempts) == ("PoisonMessage", 1)
    assert "$.total_amount" in reason.error_message and "version 1" in reason.error_message
    assert letter.message.payload == orjson.dumps(invalid)
    sub.close()
    dlq.close()
    publisher.close()
