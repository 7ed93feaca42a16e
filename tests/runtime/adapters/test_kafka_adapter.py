"""Kafka adapter against two Kafka-protocol brokers (Tansu and noida-db), so no quirk of one passes for Kafka."""

from __future__ import annotations

import time
import uuid
from datetime import datetime, timezone

import pytest
from adapter_conformance import AdapterConformance, drain, event
from confluent_kafka import OFFSET_BEGINNING, Consumer, Producer, TopicPartition

from edakit.runtime.adapters.base import DLQ_REASON_KEY, BrokerError, DeadLetterReason, PublishError
from edakit.runtime.adapters.kafka import KafkaBroker, dead_letter_topic, decode, encode, retry_topic
from edakit.runtime.message import Message

# Short group timings: with librdkafka's defaults a group join on these brokers takes ~20 s.
CONSUMER_CONFIG = {"session.timeout.ms": 6000, "heartbeat.interval.ms": 500, "topic.metadata.refresh.interval.ms": 1000}


def kafka_broker(bootstrap: str) -> KafkaBroker:
    return KafkaBroker(bootstrap, consumer_config=CONSUMER_CONFIG, create_missing_topics=True)


class TestKafkaOnTansu(AdapterConformance):
    features = KafkaBroker.features

    @pytest.fixture
    def broker(self, tansu_bootstrap: str) -> KafkaBroker:
        return kafka_broker(tansu_bootstrap)


class TestKafkaOnNoida(AdapterConformance):
    features = KafkaBroker.features

    @pytest.fixture
    def broker(self, noida_bootstrap: str) -> KafkaBroker:
        return kafka_broker(noida_bootstrap)


@pytest.fixture(params=["tansu", "noida"])
def any_kafka(request: pytest.FixtureRequest) -> KafkaBroker:
    return kafka_broker(request.getfixturevalue(f"{request.param}_bootstrap"))


def assigned_consumer(broker: KafkaBroker, topic: str) -> Consumer:
    """A plain client reading every partition from the beginning; assign() skips the group join."""
    consumer = Consumer({**broker.consumer_config, "group.id": f"raw-{uuid.uuid4().hex[:8]}"})
    partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
    consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in partitions])
    return consumer


def raw_records(broker: KafkaBroker, topic: str, count: int, timeout: float = 20.0) -> list:
    """The first `count` records of a topic, read by a plain client."""
    consumer = assigned_consumer(broker, topic)
    records, deadline = [], time.monotonic() + timeout
    while len(records) < count and time.monotonic() < deadline:
        records.extend(r for r in consumer.consume(10, timeout=0.5) if not r.error())
    consumer.close()
    return records


def raw_messages(broker: KafkaBroker, topic: str, timeout: float = 20.0) -> list[Message]:
    """What a plain read_committed client sees, bypassing the adapter: everything before an end marker published
    (outside any transaction) last into every partition, so absence can be asserted without waiting for a timeout."""
    consumer = assigned_consumer(broker, topic)
    producer = Producer(broker.producer_config)
    markers = set()
    for tp in consumer.assignment():
        key, value, headers = encode(end := Message.new("end", b"", source="/tests"))
        producer.produce(topic, value=value, headers=headers, partition=tp.partition)
        markers.add(end.id)
    assert producer.flush(10) == 0
    messages, deadline = [], time.monotonic() + timeout
    while not markers <= {m.id for m in messages} and time.monotonic() < deadline:
        messages.extend(decode(r)[0] for r in consumer.consume(10, timeout=0.5) if not r.error())
    consumer.close()
    assert markers <= {m.id for m in messages}, f"end markers not read from {topic} within {timeout}s"
    return [m for m in messages if m.id not in markers]


def test_records_carry_cloudevents_binary_headers_and_the_key(any_kafka: KafkaBroker) -> None:
    topic = f"t{uuid.uuid4().hex[:12]}"
    any_kafka.create_topics([topic])
    sent = event(1, key="order-7", traceparent="00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
    publisher = any_kafka.publisher()
    publisher.publish(topic, [sent])
    publisher.close()
    [record] = raw_records(any_kafka, topic, 1)
    headers = dict(record.headers())
    assert record.key() == b"order-7" and record.value() == sent.payload
    assert headers["ce_id"] == sent.id.encode() and headers["ce_specversion"] == b"1.0"
    assert headers["content-type"] == b"application/json"
    assert headers["ce_traceparent"].startswith(b"00-4bf9")
    assert "ce_partitionkey" not in headers  # the Kafka binding carries it as the record key


def test_nacks_climb_the_retry_topics_then_stay_on_the_last(any_kafka: KafkaBroker) -> None:
    topic, group = f"t{uuid.uuid4().hex[:12]}", f"g{uuid.uuid4().hex[:8]}"
    subscriber = any_kafka.subscriber(topic, group)
    publisher = any_kafka.publisher()
    publisher.publish(topic, [event(1)])
    seen = []
    for _ in range(5):
        [delivery] = drain(subscriber, 1)
        seen.append((delivery.metadata["topic"], delivery.attempt))
        delivery.nack()
    [last] = drain(subscriber, 1)
    last.ack()
    subscriber.close()
    publisher.close()
    retry = [retry_topic(topic, group, n) for n in (1, 2, 3)]
    assert seen == [(topic, 1), (retry[0], 2), (retry[1], 3), (retry[2], 4), (retry[2], 5)]
    assert (last.metadata["topic"], last.attempt) == (retry[2], 6)
    assert retry[0] == f"{topic}.{group}.retry.1" and dead_letter_topic(topic, group) == f"{topic}.{group}.dlq"


def test_transaction_commits_atomically_and_abort_hides_everything(any_kafka: KafkaBroker) -> None:
    topic = f"t{uuid.uuid4().hex[:12]}"
    any_kafka.create_topics([topic])
    tx_publisher = any_kafka.transactional_publisher(f"tx-{topic}")
    with pytest.raises(RuntimeError, match="handler failed"), tx_publisher.transaction() as tx:
        tx.publish(topic, [aborted := event(0)])
        raise RuntimeError("handler failed")
    with tx_publisher.transaction() as tx:
        tx.publish(topic, committed := [event(1), event(2)])
    tx_publisher.close()
    ids = [m.id for m in raw_messages(any_kafka, topic)]
    assert sorted(ids) == sorted(m.id for m in committed)
    assert aborted.id not in ids


# Broker defects seen here, declared per broker rather than skipped. Tansu: a read_committed reader intermittently
# receives the records of an aborted transaction that also carried consumer offsets (send_offsets_to_transaction):
# seen in 2 of about 10 full runs on 2026-11-29, all four aborted records delivered; noida-db never showed it, and
# the abort itself succeeded (abort_transaction raises otherwise).
ABORTED_OUTPUT_MAY_LEAK = {"tansu"}


def test_consume_transform_produce_commits_offsets_with_the_output(any_kafka: KafkaBroker,
                                                                    request: pytest.FixtureRequest) -> None:
    source, sink, group = f"t{uuid.uuid4().hex[:12]}", f"t{uuid.uuid4().hex[:12]}", f"g{uuid.uuid4().hex[:8]}"
    any_kafka.create_topics([sink])
    subscriber = any_kafka.subscriber(source, group)
    publisher = any_kafka.publisher()
    inputs = [event(n) for n in range(4)]
    publisher.publish(source, inputs)
    tx_publisher = any_kafka.transactional_publisher(f"ctp-{group}")

    def transform(deliveries: list) -> list[Message]:
        return [Message.new("com.example.order.billed", d.message.payload, source="/billing",
                            headers={"causationid": d.message.id}) for d in deliveries]

    # First attempt aborts: neither its output nor its offsets may become visible.
    first = drain(subscriber, 4)
    with pytest.raises(RuntimeError), tx_publisher.transaction() as tx:
        tx.publish(sink, transform(first))
        tx.commit_deliveries(first)
        raise RuntimeError("crash before commit")
    again = drain(subscriber, 4)
    assert sorted(d.message.id for d in again) == sorted(m.id for m in inputs)
    with tx_publisher.transaction() as tx:
        tx.publish(sink, transform(again))
        tx.commit_deliveries(again)
    tx_publisher.close()
    subscriber.close()
    publisher.close()
    outputs = raw_messages(any_kafka, sink)
    produced = sorted(m.headers["causationid"] for m in outputs)
    if request.node.callspec.params["any_kafka"] in ABORTED_OUTPUT_MAY_LEAK:
        assert set(produced) == {m.id for m in inputs}  # every committed output, nothing foreign
    else:
        assert produced == sorted(m.id for m in inputs)  # exactly the committed outputs, none of the aborted
    # The offsets went in with the transaction: the group's committed offset is past every input (the topic holds
    # nothing else), so a new consumer of the group has nothing left to read. Asked directly rather than by a fresh
    # member, whose join alone takes 3 s on Tansu (nor by high watermarks: Tansu's lagged, 1 for 2 records).
    past: dict[int, int] = {}
    for delivery in again:
        partition, offset = int(delivery.metadata["partition"]), int(delivery.metadata["offset"])
        past[partition] = max(past.get(partition, 0), offset + 1)
    probe = Consumer({**any_kafka.consumer_config, "group.id": group})
    committed = probe.committed([TopicPartition(source, p) for p in past], timeout=10)
    probe.close()
    assert {tp.partition: tp.offset for tp in committed} == past


def test_a_record_that_is_no_cloudevent_moves_to_the_dlq_unchanged(noida_bootstrap: str) -> None:
    """Adapter logic, not broker behaviour: one broker suffices."""
    broker = kafka_broker(noida_bootstrap)
    topic, group = f"t{uuid.uuid4().hex[:12]}", f"g{uuid.uuid4().hex[:8]}"
    subscriber = broker.subscriber(topic, group)
    dlq = broker.dead_letter_subscriber(topic, group)
    producer = Producer({"bootstrap.servers": noida_bootstrap})
    producer.produce(topic, key=b"k", value=b"not an event", headers=[("origin", b"legacy")])
    producer.flush(10)
    publisher = broker.publisher()
    publisher.publish(topic, [good := event(1, key="k")])
    publisher.close()
    assert [d.message for d in drain(subscriber, 1, ack=True)] == [good]
    subscriber.close()
    [record] = raw_records(broker, dead_letter_topic(topic, group), 1)
    reason = DeadLetterReason.from_json(dict(record.headers())["dlq_reason"].decode())
    assert (record.key(), record.value(), dict(record.headers())["origin"]) == (b"k", b"not an event", b"legacy")
    assert (reason.error_type, reason.original_source) == ("CloudEventError", topic)
    assert "missing CloudEvents attribute" in reason.error_message
    with pytest.raises(BrokerError, match="not a CloudEvent"):
        drain(dlq, 1)
    dlq.close()


def test_without_retry_topics_nack_is_refused_and_dead_letter_still_works(tansu_bootstrap: str) -> None:
    # dlq.max_receive_count: 1 renders no retry topics: the first failure goes straight to the DLQ.
    broker = KafkaBroker(tansu_bootstrap, retry_topic_count=0, consumer_config=CONSUMER_CONFIG,
                         create_missing_topics=True)
    topic, group = f"t{uuid.uuid4().hex[:12]}", f"g{uuid.uuid4().hex[:8]}"
    subscriber, publisher = broker.subscriber(topic, group), broker.publisher()
    dlq = broker.dead_letter_subscriber(topic, group)  # joins its group meanwhile (each join: 3 s on Tansu)
    publisher.publish(topic, [sent := event(1)])
    [delivery] = drain(subscriber, 1)
    with pytest.raises(BrokerError, match="has no retry topics; nack is not available here"):
        delivery.nack()
    now = datetime.now(timezone.utc)
    delivery.dead_letter(DeadLetterReason("ValueError", "bad", 1, now, now, topic))
    [dead] = drain(dlq, 1, ack=True)
    assert dead.message == sent
    for closing in (subscriber, dlq, publisher):
        closing.close()
    with pytest.raises(ValueError, match="retry_topic_count: expected 0 or more, got -1"):
        KafkaBroker(tansu_bootstrap, retry_topic_count=-1)


def test_a_rejected_record_raises_publish_error(any_kafka: KafkaBroker) -> None:
    # Tansu rejects the name in the delivery report, noida-db before sending: both must surface.
    publisher = any_kafka.publisher()
    with pytest.raises(PublishError, match="bad name!"):
        publisher.publish("bad name!", [event(1)])
    publisher.close()


def test_receive_returns_a_partial_batch_without_waiting_its_timeout(tansu_bootstrap: str) -> None:
    broker = kafka_broker(tansu_bootstrap)
    topic, group = f"t{uuid.uuid4().hex[:12]}", f"g{uuid.uuid4().hex[:8]}"
    subscriber = broker.subscriber(topic, group)
    publisher = broker.publisher()
    publisher.publish(topic, [event(1)])
    drain(subscriber, 1, ack=True)  # group joined and partitions assigned: later receives only wait for records
    publisher.publish(topic, [event(2)])
    started = time.monotonic()
    got = []
    while not got and time.monotonic() - started < 20:
        got = subscriber.receive(max_messages=100, timeout=30)
    waited = time.monotonic() - started
    subscriber.close()
    publisher.close()
    assert [d.message.payload for d in got] == [event(2).payload]
    assert waited < 15, f"receive held a one-record batch for {waited:.1f}s of its 30s timeout"


def test_a_dead_lettered_retry_copy_names_the_source_records_position(tansu_bootstrap: str) -> None:
    broker = KafkaBroker(tansu_bootstrap, consumer_config=CONSUMER_CONFIG, create_missing_topics=True,
                         retry_topic_count=2)
    topic, group = f"t{uuid.uuid4().hex[:12]}", f"g{uuid.uuid4().hex[:8]}"
    subscriber = broker.subscriber(topic, group)
    dlq = broker.dead_letter_subscriber(topic, group)  # joins its group meanwhile (each join: 3 s on Tansu)
    publisher = broker.publisher()
    publisher.publish(topic, [event(n, key="same") for n in range(3)])  # one partition, offsets 0..2
    first = drain(subscriber, 3)
    for delivery in first[:2]:
        delivery.ack()
    original = first[2]
    original.nack()
    for _ in range(2):  # through both retry topics, so the position must survive a copy of a copy
        [copy] = drain(subscriber, 1)
        copy.nack()
    [copy] = drain(subscriber, 1)
    assert copy.metadata["topic"] == retry_topic(topic, group, 2)
    now = datetime.now(timezone.utc)
    copy.dead_letter(DeadLetterReason("ValueError", "poison", copy.attempt, now, now, topic))
    [letter] = drain(dlq, 1, ack=True)
    reason = DeadLetterReason.from_json(letter.metadata[DLQ_REASON_KEY])
    for client in (dlq, subscriber, publisher):
        client.close()
    assert (reason.original_partition, reason.original_offset) == (
        int(original.metadata["partition"]), int(original.metadata["offset"]))
    assert reason.original_offset == 2 and letter.message == original.message
