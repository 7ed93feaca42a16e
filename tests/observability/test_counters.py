"""The retried, dead-lettered and duplicates-skipped counters: counted where retry() and the idempotency middleware
decide, with the attributes of the metrics() around them, read through the SDK's in-memory reader and the
Prometheus exporter (each test has its own MeterProvider, passed to metrics(): the process-wide one is untouched)."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
import redis
from opentelemetry.exporter.prometheus import PrometheusMetricReader
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from prometheus_client import CollectorRegistry, generate_latest

from edakit.runtime.adapters.base import Delivery
from edakit.runtime.adapters.embedded import EmbeddedBroker
from edakit.runtime.idempotency import RedisIdempotencyStore, SqlIdempotencyStore, idempotent, transactional
from edakit.runtime.idempotency.middleware import begin
from edakit.runtime.message import Message
from edakit.runtime.middleware import RetryPolicy, Router, compose, metrics, retry, tracing
from edakit.runtime.middleware.metrics import DEAD_LETTERED_NAME, DUPLICATES_SKIPPED_NAME, RETRIED_NAME

TOPIC, GROUP = "orders.placed", "billing"


class Meters:
    """A MeterProvider of the test's own with an in-memory reader and a Prometheus exporter on its own registry."""

    def __init__(self) -> None:
        self.reader = InMemoryMetricReader()
        self.registry = CollectorRegistry()
        self.provider = MeterProvider(metric_readers=[self.reader, PrometheusMetricReader(registry=self.registry)])

    def points(self, name: str) -> dict[str | None, int]:
        """error.type (None: unset) -> value of `name`'s data points (a histogram's: its count)."""
        data = self.reader.get_metrics_data()
        found: dict[str | None, int] = {}
        for resource in (data.resource_metrics if data else []):
            for scope in resource.scope_metrics:
                for metric in scope.metrics:
                    if metric.name == name:
                        for point in metric.data.data_points:
                            found[point.attributes.get("error.type")] = getattr(point, "value", None) or point.count
        return found

    def attributes(self, name: str) -> list[dict[str, Any]]:
        data = self.reader.get_metrics_data()
        return [dict(p.attributes) for r in data.resource_metrics for s in r.scope_metrics for m in s.metrics
                if m.name == name for p in m.data.data_points]

    def prometheus(self) -> str:
        return generate_latest(self.registry).decode()


@pytest.fixture
def meters() -> Meters:
    meters = Meters()
    yield meters
    meters.provider.shutdown()


@pytest.fixture
def broker(tmp_path: Path) -> EmbeddedBroker:
    broker = EmbeddedBroker(tmp_path / "broker.sqlite3", visibility_timeout=30)
    broker.create_group(TOPIC, GROUP)
    return broker


def _drain(broker: EmbeddedBroker, chain: Any) -> int:
    router = Router(broker.subscriber(TOPIC, GROUP), chain, receive_timeout=0.2, lease_seconds=None)
    try:
        return router.run_until_idle(0.2)  # above the policy's max_delay of 0: retries are drained too
    finally:
        router.subscriber.close()


def test_retries_dead_letters_and_duplicates_are_counted_per_topic_and_group(broker, meters, tmp_path):
    conn = sqlite3.connect(tmp_path / "billing.sqlite3", isolation_level=None)
    store = SqlIdempotencyStore(GROUP, window_hours=1)
    with begin(conn):
        store.create_schema(conn)
    fails_once, poison, twice = (Message.new("OrderPlaced", payload, source="/shop") for payload in (b"1", b"2", b"3"))
    broker.publisher().publish(TOPIC, [Message.new("OrderPlaced", b"0", source="/shop"), fails_once, poison, twice])
    broker.publisher().publish(TOPIC, [twice])  # the same event again (same id): a duplicate for the store

    def charge(delivery: Delivery, tx: object) -> None:
        if delivery.message.id == poison.id or (delivery.message.id == fails_once.id and delivery.attempt == 1):
            raise ValueError("card declined")

    chain = compose(transactional(conn, store, charge), tracing(), metrics(meter_provider=meters.provider),
                    retry(RetryPolicy(max_attempts=2, base_delay=0, max_delay=0)))
    assert _drain(broker, chain) == 7  # 5 published + 2 redeliveries

    assert meters.points(RETRIED_NAME) == {"ValueError": 2}  # fails_once and poison, once each
    assert meters.points(DEAD_LETTERED_NAME) == {"ValueError": 1}  # poison, on its second attempt
    assert meters.points(DUPLICATES_SKIPPED_NAME) == {None: 1}  # twice's second copy
    expected = {"messaging.system": "edakit_embedded", "messaging.destination.name": TOPIC,
                "messaging.consumer.group.name": GROUP, "messaging.operation.name": "process"}
    for name in (RETRIED_NAME, DEAD_LETTERED_NAME, DUPLICATES_SKIPPED_NAME):
        assert [{k: a[k] for k in expected} for a in meters.attributes(name)] == [expected], name
    # The duplicate is a handled delivery too (acked, no error); the settled failures carry their outcome.
    assert meters.points("messaging.process.duration") == {None: 4, "nacked": 2, "dead_lettered": 1}
    assert [d.message.id for d in broker.dead_letters(TOPIC, GROUP).receive(10, 0.5)] == [poison.id]

    text = meters.prometheus()
    labels = f'messaging_consumer_group_name="{GROUP}",messaging_destination_name="{TOPIC}"'
    lines = [line for line in text.splitlines() if labels in line]
    assert any(line.startswith("edakit_messages_retried_total{") and 'error_type="ValueError"' in line
               and line.endswith(" 2.0") for line in lines), text
    assert any(line.startswith("edakit_messages_dead_lettered_total{") and line.endswith(" 1.0") for line in lines)
    assert any(line.startswith("edakit_messages_duplicates_skipped_total{") and line.endswith(" 1.0")
               for line in lines)


def test_the_counters_follow_the_attributes_and_provider_of_the_metrics_around_them(broker, meters):
    broker.publisher().publish(TOPIC, [Message.new("OrderPlaced", b"x", source="/shop")])

    def fatal(delivery: Delivery) -> None:
        raise KeyError("no such customer")

    policy = RetryPolicy(max_attempts=5, base_delay=0, max_delay=0, non_retryable=(KeyError,))
    chain = compose(fatal, metrics(meter_provider=meters.provider, system="kafka", consumer_group="billing-v2"),
                    retry(policy))
    assert _drain(broker, chain) == 1

    assert meters.points(RETRIED_NAME) == {}  # a non-retryable error is dead-lettered at once
    [counted] = meters.attributes(DEAD_LETTERED_NAME)
    assert counted["messaging.system"] == "kafka" and counted["messaging.consumer.group.name"] == "billing-v2"
    assert counted["error.type"] == "KeyError"


def test_a_lease_store_s_skipped_duplicate_is_counted(broker, meters, redis_url, tmp_path):
    client = redis.Redis.from_url(redis_url)
    store = RedisIdempotencyStore(client, consumer=f"billing-{tmp_path.name}", window_hours=1)
    event = Message.new("OrderPlaced", b"x", source="/shop")
    broker.publisher().publish(TOPIC, [event])
    broker.publisher().publish(TOPIC, [event])  # redelivered by the broker's at-least-once: the same id
    handled: list[str] = []
    chain = compose(lambda d: handled.append(d.message.id), metrics(meter_provider=meters.provider),
                    retry(RetryPolicy(max_attempts=2, base_delay=0, max_delay=0)), idempotent(store))
    try:
        assert _drain(broker, chain) == 2
    finally:
        client.close()
    assert handled == [event.id]
    assert meters.points(DUPLICATES_SKIPPED_NAME) == {None: 1}
