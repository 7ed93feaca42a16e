"""Kafka publish timeout (issue 11 item 3): a publish the broker does not acknowledge fails within its timeout and
leaves nothing queued in librdkafka, so no copy of a failed batch reaches the broker behind the relay's back.

The broker is cut off by a TcpProxy in front of a Tansu that advertises the proxy (devservers.tansu_behind_proxy):
"drop" makes the broker unreachable, "lose_replies" lets requests through but loses their acknowledgements.
"""

from __future__ import annotations

import json
import sqlite3
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition

from edakit.devservers import TcpProxy, free_port, tansu_behind_proxy
from edakit.runtime.adapters.base import PublishError
from edakit.runtime.adapters.kafka import KafkaBroker, KafkaPublisher, encode
from edakit.runtime.message import Message
from edakit.runtime.outbox import OutboxEvent, Relay, SqliteOutbox, append, create_schema

TIMEOUT = 2.0  # the publish timeout under test
SLACK = 1.5  # seconds a loaded 2-core machine may add to it
# A client reconnects at most this long after the broker is back (librdkafka's default backs off up to 10 s).
QUICK_RECONNECT = {"reconnect.backoff.max.ms": 500, "log_level": 0}


def messages(count: int, tag: str) -> list[Message]:
    return [Message.new("OrderPlaced", json.dumps({"n": f"{tag}{n}"}).encode(), source="/tests", key=f"o{n % 4}")
            for n in range(count)]


def fail_publish(publisher: KafkaPublisher, how: str, batch: list[Message]) -> tuple[PublishError, float]:
    started = time.monotonic()
    with pytest.raises(PublishError) as failure:
        if how == "publish":
            publisher.publish("orders", batch)
        else:
            publisher.produce_all("orders", [encode(m) for m in batch])
    return failure.value, time.monotonic() - started


@pytest.mark.parametrize("how", ["publish", "produce_all"])
def test_a_publish_to_an_unreachable_broker_fails_within_its_timeout_and_keeps_nothing_queued(how: str) -> None:
    dead = KafkaBroker(f"127.0.0.1:{free_port()}", publish_timeout=1.0, producer_config={"log_level": 0})
    publisher = dead.publisher()
    error, elapsed = fail_publish(publisher, how, messages(50, "a"))
    assert elapsed < 1.0 + SLACK
    assert "within the publish timeout (1s)" in str(error)
    assert len(publisher) == 0  # nothing left for librdkafka to send later
    started = time.monotonic()
    publisher.close()  # nothing to wait for
    assert time.monotonic() - started < 1.0


def test_the_delivery_timeout_is_bounded_by_the_publish_timeout() -> None:
    config = KafkaBroker("127.0.0.1:9092", publish_timeout=2.5).producer_config
    assert config["message.timeout.ms"] == 2500 and config["request.timeout.ms"] == 2500
    default = KafkaBroker("127.0.0.1:9092").producer_config
    assert default["message.timeout.ms"] == 30_000 and default["request.timeout.ms"] == 30_000
    with pytest.raises(ValueError, match="publish_timeout"):
        KafkaBroker("127.0.0.1:9092", publish_timeout=0)


def test_a_publish_timeout_above_the_transaction_timeout_still_makes_a_transactional_publisher(
        tansu_bootstrap: str) -> None:
    # librdkafka refuses message.timeout.ms > transaction.timeout.ms (60 s by default) when creating the producer.
    publisher = KafkaBroker(tansu_bootstrap, publish_timeout=90).transactional_publisher(f"tx-{uuid.uuid4().hex[:8]}")
    publisher.close()


@pytest.fixture(scope="module")
def proxy() -> Iterator[TcpProxy]:
    with tansu_behind_proxy() as proxy:
        yield proxy


def read_all(bootstrap: str, topic: str) -> list[str]:
    """Every record of `topic` up to its high watermarks, as the payload's "n"."""
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"check-{uuid.uuid4().hex[:8]}",
                         "enable.auto.commit": False, "log_level": 0})
    try:
        partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
        ends = {p: consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1] for p in partitions}
        consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in partitions])
        seen, read, deadline = [], dict.fromkeys(partitions, 0), time.monotonic() + 20
        while any(read[p] < ends[p] for p in partitions) and time.monotonic() < deadline:
            for record in consumer.consume(500, timeout=0.5):
                if not record.error():
                    read[record.partition()] = record.offset() + 1
                    seen.append(json.loads(record.value())["n"])
        assert all(read[p] >= ends[p] for p in partitions), f"{topic}: read {read}, expected up to {ends}"
        return seen
    finally:
        consumer.close()


def write_rows(path: Path, tag: str, count: int) -> set[str]:
    with sqlite3.connect(path) as conn:
        append(conn, [OutboxEvent(aggregate_type="Order", aggregate_id=f"o{n % 4}", event_type="OrderPlaced",
                                  payload=json.dumps({"n": f"{tag}{n}"}).encode(), topic="orders.timeout",
                                  source="/orders") for n in range(count)])
    return {f"{tag}{n}" for n in range(count)}


def drain_until_empty(relay: Relay, store: SqliteOutbox, within: float = 20.0) -> None:
    """Drain until the outbox is empty (failed rows may first wait out their retry backoff)."""
    deadline = time.monotonic() + within
    while store.lag().rows:
        assert time.monotonic() < deadline, f"outbox not empty after {within}s: {store.lag()}"
        try:
            relay.drain()
        except PublishError:
            pass
        time.sleep(0.1)


def test_after_the_broker_is_back_no_row_is_lost_and_only_rows_whose_ack_was_lost_are_duplicated(
        proxy: TcpProxy, tmp_path: Path) -> None:
    broker = KafkaBroker(proxy.address, publish_timeout=TIMEOUT, producer_config=QUICK_RECONNECT)
    broker.create_topics(["orders.timeout"])
    path = tmp_path / "app.sqlite3"
    with sqlite3.connect(path) as conn:
        create_schema(conn)
    store, publisher = SqliteOutbox(path), broker.publisher()
    relay = Relay(store, publisher, batch_size=50, poll_interval=0.1)
    try:
        before = write_rows(path, "a", 20)
        assert relay.drain() == 20  # connected

        proxy.set_mode("drop")  # unreachable: nothing of this batch reaches the broker
        unreachable = write_rows(path, "b", 20)
        started = time.monotonic()
        with pytest.raises(PublishError, match="publish timeout"):
            relay.drain()
        assert time.monotonic() - started < TIMEOUT + SLACK
        assert len(publisher) == 0 and store.lag().rows == 20
        proxy.set_mode("forward")
        drain_until_empty(relay, store)

        proxy.set_mode("lose_replies")  # the broker writes the batch, its acknowledgement never arrives
        unacknowledged = write_rows(path, "c", 20)
        started = time.monotonic()
        with pytest.raises(PublishError, match="publish timeout"):
            relay.drain()
        assert time.monotonic() - started < TIMEOUT + SLACK
        assert len(publisher) == 0 and store.lag().rows == 20
        proxy.set_mode("forward")
        drain_until_empty(relay, store)
    finally:
        proxy.set_mode("forward")
        publisher.close()
        store.close()

    copies = Counter(read_all(proxy.address, "orders.timeout"))
    assert set(copies) == before | unreachable | unacknowledged  # nothing lost
    duplicated = {n for n, count in copies.items() if count > 1}
    assert duplicated == unacknowledged  # exactly the rows whose acknowledgement was lost
    assert all(copies[n] == 2 for n in unacknowledged)  # one copy per lost ack, none per retry
