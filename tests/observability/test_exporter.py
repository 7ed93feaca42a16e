"""`edakit lag serve`: the figures scraped over HTTP in Prometheus's text format; a target that hangs (accepts TCP,
never answers) reports scrape_success 0 within the scrape timeout while the others still report."""

from __future__ import annotations

import json
import sqlite3
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic
from prometheus_client.parser import text_string_to_metric_families

from edakit.observability import metrics_names as m
from edakit.observability.exporter import LagExporter, serve
from edakit.observability.lag import open_target
from edakit.runtime.outbox import OutboxEvent, append, open_outbox

SCRAPE_TIMEOUT = 2.0


def scrape(port: int) -> tuple[dict[tuple[str, frozenset], float], float]:
    started = time.monotonic()
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=30) as response:
        text = response.read().decode()
    seconds = time.monotonic() - started
    samples = {(s.name, frozenset(s.labels.items())): s.value
               for family in text_string_to_metric_families(text) for s in family.samples}
    return samples, seconds


def value(samples: dict, name: str, **labels: str) -> float:
    found = [v for (n, ls), v in samples.items() if n == name and set(labels.items()) <= ls]
    assert len(found) == 1, (name, labels, found)
    return found[0]


@pytest.fixture
def kafka_group(tansu_bootstrap: str) -> tuple[str, str]:
    topic, group = f"orders-{uuid.uuid4().hex[:6]}", f"billing-{uuid.uuid4().hex[:6]}"
    admin = AdminClient({"bootstrap.servers": tansu_bootstrap})
    dlq = f"{topic}.{group}.dlq"  # read by no group: its end offset must be exported all the same
    for future in admin.create_topics([NewTopic(topic, 2, 1), NewTopic(dlq, 1, 1)], operation_timeout=10).values():
        future.result()
    producer = Producer({"bootstrap.servers": tansu_bootstrap, "linger.ms": 20})
    for n in range(6):
        producer.produce(topic, b"x", partition=n % 2)
    assert producer.flush(15) == 0
    for _ in range(2):  # one record per request, as the kit's dead-lettering sends them
        producer.produce(dlq, b"poison", partition=0)
        assert producer.flush(15) == 0
    committer = Consumer({"bootstrap.servers": tansu_bootstrap, "group.id": group})
    committer.commit(offsets=[TopicPartition(topic, 0, 1), TopicPartition(topic, 1, 3)], asynchronous=False)
    committer.close()
    return topic, group


@pytest.fixture
def outbox_url(tmp_path: Path) -> str:
    url = f"sqlite:{tmp_path / 'outbox.db'}"
    open_outbox(url, create=True).close()
    with sqlite3.connect(tmp_path / "outbox.db") as conn:
        append(conn, [OutboxEvent(aggregate_type="Order", aggregate_id="o1", event_type="OrderPlaced",
                                  payload=json.dumps({}).encode(), topic="orders", source="/orders")] * 1)
    return url


@pytest.fixture
def exporter(tansu_bootstrap: str, kafka_group: tuple[str, str], outbox_url: str,
             hung_port: int) -> Iterator[tuple[int, str]]:
    hung = f"kafka://127.0.0.1:{hung_port}"
    collectors = [open_target(f"kafka://{tansu_bootstrap}", groups=[kafka_group[1]]), open_target(outbox_url),
                  open_target(hung)]
    # each request inside may wait 8 s: only the scrape timeout can keep the scrape at 2 s
    lag = LagExporter(collectors, scrape_timeout=SCRAPE_TIMEOUT, target_timeout=8.0)
    server, port = serve(lag, "127.0.0.1", 0)
    yield port, hung
    server.shutdown()  # type: ignore[attr-defined]
    server.server_close()  # type: ignore[attr-defined]


def test_a_hung_target_reports_failure_within_the_scrape_timeout(exporter: tuple[int, str], tansu_bootstrap: str,
                                                                 kafka_group: tuple[str, str],
                                                                 outbox_url: str) -> None:
    port, hung = exporter
    topic, group = kafka_group
    kafka = f"kafka://{tansu_bootstrap}"
    for attempt in range(2):  # the second scrape finds the hung collection still running: not asked again
        samples, seconds = scrape(port)
        assert seconds < SCRAPE_TIMEOUT + 1.5, (attempt, seconds)
        assert value(samples, m.LAG_SCRAPE_SUCCESS, target=hung) == 0
        assert value(samples, m.LAG_SCRAPE_SUCCESS, target=kafka) == 1
        assert value(samples, m.LAG_SCRAPE_SUCCESS, target=outbox_url) == 1
        assert value(samples, m.LAG_SCRAPE_DURATION_SECONDS, target=hung) >= SCRAPE_TIMEOUT - 0.1
        assert value(samples, m.CONSUMER_LAG_MESSAGES, broker="kafka", target=kafka, topic=topic, group=group,
                     partition="0") == 2
        assert value(samples, m.CONSUMER_LAG_MESSAGES, group=group, partition="1") == 0
        assert value(samples, m.CONSUMER_LAG_SECONDS, group=group, partition="1") == 0
        assert value(samples, m.CONSUMER_LAG_SECONDS, group=group, partition="0") >= 0
        assert value(samples, m.CONSUMER_COMMITTED_OFFSET, group=group, partition="0") == 1
        assert value(samples, m.PARTITION_END_OFFSET, topic=topic, partition="0") == 3
        assert value(samples, m.PARTITION_END_OFFSET, topic=f"{topic}.{group}.dlq", partition="0") == 2
        assert value(samples, m.CONSUMER_GROUP_ADVICE, group=group, advice="add_consumers") == 1  # empty group
        assert value(samples, m.CONSUMER_GROUP_MEMBERS, group=group) == 0
        assert value(samples, m.OUTBOX_ROWS, broker="outbox", target=outbox_url) == 1
        assert value(samples, m.OUTBOX_OLDEST_AGE_SECONDS, target=outbox_url) >= 0
        assert not [k for k in samples if dict(k[1]).get("target") == hung and k[0] != m.LAG_SCRAPE_SUCCESS
                    and k[0] != m.LAG_SCRAPE_DURATION_SECONDS]


def test_every_exported_name_is_a_declared_name() -> None:
    from edakit.observability.exporter import families
    declared = set(m.ALL_METRICS)
    assert {f.name for f in families([])} <= declared
    assert all(name.startswith("edakit_") and name == name.lower() for name in declared)


def test_queue_subscription_and_dead_letter_figures_map_to_their_gauges() -> None:
    from datetime import datetime, timezone

    from edakit.observability.exporter import Outcome, families
    from edakit.observability.lag import DeadLetterBlobs, QueueDepth, Report, SubscriptionBacklog
    sqs = Report("sqs", "sqs:http://127.0.0.1:5000", queues=[
        QueueDepth("orders-billing", 3, 2, 0, "orders-billing-dlq", 4, 61.0), QueueDepth("orders-audit", 1, 0, 0,
                                                                                        None, None, None)])
    pubsub = Report("pubsub", "pubsub:shop", subscriptions=[SubscriptionBacklog("orders-billing", "orders", None, 9,
                                                                                 12.5)])
    grid = Report("eventgrid", "azblob:dl", dead_letters=[DeadLetterBlobs("ORDERS-BILLING", 2, 3,
                                                                          datetime.now(timezone.utc))])
    samples = {(s.name, frozenset(s.labels.items())): s.value
               for family in families([Outcome(r.target, r, 0.1, None) for r in (sqs, pubsub, grid)])
               for s in family.samples}
    assert value(samples, m.QUEUE_MESSAGES, queue="orders-billing", state="visible") == 3
    assert value(samples, m.QUEUE_MESSAGES, queue="orders-billing", state="in_flight") == 2
    assert value(samples, m.QUEUE_MESSAGES, queue="orders-billing", state="dlq") == 4
    assert not [k for k in samples if dict(k[1]).get("queue") == "orders-audit" and dict(k[1]).get("state") == "dlq"]
    assert value(samples, m.QUEUE_OLDEST_MESSAGE_AGE_SECONDS, queue="orders-billing") == 61
    assert not [k for k in samples if k[0] == m.QUEUE_OLDEST_MESSAGE_AGE_SECONDS and ("queue", "orders-audit") in k[1]]
    assert value(samples, m.SUBSCRIPTION_BACKLOG_MESSAGES, broker="pubsub", subscription="orders-billing") == 9
    assert value(samples, m.SUBSCRIPTION_OLDEST_UNACKED_AGE_SECONDS, subscription="orders-billing") == 12.5
    assert value(samples, m.DEAD_LETTERED_EVENTS, broker="eventgrid", target="azblob:dl",
                 subscription="ORDERS-BILLING") == 3
    assert value(samples, m.DEAD_LETTER_BLOBS, subscription="ORDERS-BILLING") == 2
