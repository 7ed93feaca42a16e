"""End to end over real brokers: store -> relay -> Kafka (Tansu) or SNS/SQS (moto) -> Router with idempotency ->
read model, which then equals the one the log builds directly."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import boto3

from edakit.es.orders import Orders, OrderSummaries, order_rows
from edakit.es.projection import Projector, broker_handler, open_view
from edakit.es.relay import EventStoreRelay
from edakit.runtime.adapters.kafka import KafkaBroker
from edakit.runtime.adapters.sqs_sns import SqsSnsBroker
from edakit.runtime.idempotency.sql import SqlIdempotencyStore
from edakit.runtime.middleware.router import Router

ITEMS = [{"product_id": "p-1", "quantity": 2, "unit_price": 4.0}]
CONSUMER_CONFIG = {"session.timeout.ms": 6000, "heartbeat.interval.ms": 500, "topic.metadata.refresh.interval.ms": 1000}


def _orders(app: Orders) -> int:
    ids = [app.place_order(f"c-{i}", ITEMS) for i in range(3)]
    app.pay_order(ids[0], "pay-0")
    app.pay_order(ids[1], "pay-1")
    app.ship_order(ids[1], "s-1", "dhl")
    app.cancel_order(ids[2], "duplicate order")
    return 7


def _end_to_end(app: Orders, broker: Any, topic: str, tmp_path: Path, idle: float) -> None:
    subscriber = broker.subscriber(topic, "order-summaries")
    try:
        events = _orders(app)
        relay = EventStoreRelay(app, broker.publisher(), topic_of=lambda _: topic)
        assert relay.drain() == events and relay.lag().events_behind == 0
        view = open_view(OrderSummaries, f"sqlite:{tmp_path / 'query.db'}")
        handler = broker_handler(app, view, SqlIdempotencyStore("order-summaries", window_hours=1))
        router = Router(subscriber, handler, max_messages=10, receive_timeout=1.0)
        handled = 0
        for _ in range(30):  # bounded: the group join may take a few receives
            handled += router.run_once()
            if handled >= events:
                break
        assert handled == events
        assert router.run_until_idle(idle) == 0  # nothing more, nothing twice
    finally:
        subscriber.close()
    direct = open_view(OrderSummaries, f"sqlite:{tmp_path / 'direct.db'}")
    Projector(app, direct).drain()
    with view.connection() as via_broker, direct.connection() as via_log:
        assert order_rows(via_broker) == order_rows(via_log)
        assert {r["status"] for r in order_rows(via_broker)} == {"paid", "shipped", "cancelled"}


def test_kafka_on_tansu(tansu_bootstrap, sqlite_env, tmp_path: Path) -> None:
    broker = KafkaBroker(tansu_bootstrap, consumer_config=CONSUMER_CONFIG, create_missing_topics=True,
                         partitions=3)
    _end_to_end(Orders(env=sqlite_env), broker, f"orders-es-{uuid.uuid4().hex[:8]}", tmp_path, 0.5)


def test_sns_sqs_on_moto(moto_url, sqlite_env, tmp_path: Path) -> None:
    session = boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1")
    broker = SqsSnsBroker(session, endpoint_url=moto_url, create_missing=True)
    _end_to_end(Orders(env=sqlite_env), broker, f"orders-es-{uuid.uuid4().hex[:8]}", tmp_path, 0.5)
