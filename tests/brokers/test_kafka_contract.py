"""The Kafka publisher follows its channel's publish contract through the kafka profile, like SNS/SQS and Pub/Sub:
declared native attributes become record headers, undeclared headers are refused before anything is sent."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition

from edakit.brokers import AttributeContractError, contract
from edakit.brokers.kafka import PROFILE
from edakit.routing.routes import PublishRefused, broker_message, load_example
from edakit.runtime.adapters.kafka import KafkaBroker, encode
from edakit.runtime.message import Message
from edakit.runtime.settings import publisher_settings
from edakit.spec import load_spec

SPEC = """\
name: shop
broker: kafka
kafka: {bootstrap_servers: ["127.0.0.1:9092"], default_replication_factor: 1, min_insync_replicas: 1}
events:
  OrderPlaced: {schema: schemas/order-events/v1/order-placed.avsc, version: 1}
channels:
  orders:
    events: [OrderPlaced]
    attributes: {headers: [tenant], native: {event_type: type, amount: payload.total_amount}}
subscribers:
  billing: {channel: orders}
"""


@pytest.fixture()
def spec(tmp_path: Path, repo_root: Path):
    (tmp_path / "schemas").symlink_to(repo_root / "schemas")
    path = tmp_path / "shop.yaml"
    path.write_text(SPEC, encoding="utf-8")
    return load_spec(path)


def message(**headers: str) -> Message:
    return Message.new("OrderPlaced", json.dumps({"total_amount": 25.5}).encode(), source="/orders", key="o-1",
                       headers=headers)


def test_the_encoder_sets_the_native_attributes_and_refuses_undeclared_headers(spec) -> None:
    found = contract(spec, "orders")
    assert found is not None and found.budget is None  # Kafka: no header count limit
    key, _, headers = encode(message(tenant="t1"), contract=found)
    assert key == "o-1"
    assert ("event_type", "OrderPlaced") in headers and ("amount", "25.5") in headers
    assert ("ce_tenant", "t1") in headers
    with pytest.raises(AttributeContractError, match="sets header\\(s\\) region, which the spec does not declare"):
        encode(message(region="eu"), contract=found)
    assert ("event_type", "OrderPlaced") not in encode(message())[2]  # without a contract: CloudEvents only


def test_routes_refuses_a_kit_example_the_kafka_publisher_would_refuse(spec, tmp_path: Path) -> None:
    example = tmp_path / "bad.json"
    example.write_text(json.dumps({"event": "OrderPlaced", "headers": {"region": "eu"}, "payload": {}}))
    with pytest.raises(PublishRefused, match="region"):
        broker_message(PROFILE.name, load_example(example), contract(spec, "orders"))


def test_the_publisher_sends_the_contract_to_tansu(spec, tansu_bootstrap: str) -> None:
    topic = spec.channels["orders"].resource_name + "-" + uuid.uuid4().hex[:6]
    broker = KafkaBroker(tansu_bootstrap, create_missing_topics=True, partitions=1, publish_timeout=10)
    broker.create_topics([topic])
    settings = publisher_settings(spec)
    settings = type(settings)({topic: settings.contracts[spec.channels["orders"].resource_name]})
    publisher = broker.publisher(settings)
    try:
        with pytest.raises(AttributeContractError):
            publisher.publish(topic, [message(tenant="t1"), message(region="eu")])  # refused as a whole
        publisher.publish(topic, [message(tenant="t1")])
    finally:
        publisher.close()
    consumer = Consumer({"bootstrap.servers": tansu_bootstrap, "group.id": uuid.uuid4().hex,
                         "auto.offset.reset": "earliest", "session.timeout.ms": 6000})
    try:
        consumer.assign([TopicPartition(topic, 0, OFFSET_BEGINNING)])  # no group join: faster
        records = []
        for _ in range(20):
            record = consumer.poll(1)
            if record is not None and record.error() is None:
                records.append(record)
                if consumer.poll(0.5) is None:
                    break
    finally:
        consumer.close()
    assert len(records) == 1, "the refused publish sent nothing"
    headers = {name: value.decode() for name, value in records[0].headers()}
    assert headers["event_type"] == "OrderPlaced" and headers["amount"] == "25.5" and headers["ce_tenant"] == "t1"
