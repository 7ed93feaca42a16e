"""SQS (moto server), Pub/Sub (pstest), Event Grid dead letters (Azurite) and outbox (SQLite, PostgreSQL) figures on
real servers; what a server cannot tell is a note, and reading the figures never receives a message."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import psycopg
import pytest
from azure.storage.blob import BlobServiceClient
from click.testing import CliRunner
from google.auth.credentials import AnonymousCredentials

from edakit.cli import main
from edakit.observability.lag import PubSubCollector, open_target
from edakit.runtime.adapters.pubsub import PubSubBroker
from edakit.runtime.adapters.sqs_sns import SqsSnsBroker
from edakit.runtime.cloudevents import to_structured
from edakit.runtime.message import Message
from edakit.runtime.outbox import OutboxEvent, append, open_outbox

AWS = {"AWS_DEFAULT_REGION": "eu-west-1", "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}


@pytest.fixture(autouse=True)
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in AWS.items():
        monkeypatch.setenv(key, value)


def message(n: int) -> Message:
    return Message(id=f"e{n}", type="com.example.order.placed", source="/orders", payload=b'{"n": 1}',
                   time=dt.datetime.now(dt.timezone.utc))


def test_sqs_visible_in_flight_and_dlq_without_receiving(moto_url: str) -> None:
    topic = f"orders{uuid.uuid4().hex[:6]}"
    broker = SqsSnsBroker(endpoint_url=moto_url, create_missing=True, visibility_timeout=60)
    subscriber = broker.subscriber(topic, "billing")
    broker.publisher().publish(topic, [message(n) for n in range(5)])
    taken = []
    while len(taken) < 2:
        taken += subscriber.receive(2 - len(taken), timeout=1)  # in flight for 60 s, never settled here
    dlq_url = broker.queue_url(f"{topic}-billing-dlq")
    for n in range(3):
        broker.sqs.send_message(QueueUrl=dlq_url, MessageBody=f"poison {n}")
    collector = open_target(f"sqs:{moto_url}", groups=[f"{topic}-*"])
    collector.check(5)
    for _ in range(2):  # asking twice changes nothing: no receive moved a message to in flight
        report = collector.collect(5)
        [queue] = report.queues
        assert (queue.queue, queue.visible, queue.in_flight, queue.delayed, queue.dlq, queue.dlq_visible) == (
            f"{topic}-billing", 3, 2, 0, f"{topic}-billing-dlq", 3)
        assert queue.oldest_age_seconds is None
    assert any("CloudWatch has no ApproximateAgeOfOldestMessage" in n and "moto" in n for n in report.notes)
    result = CliRunner().invoke(main, ["lag", "--broker", f"sqs:{moto_url}", "--group", f"{topic}-*"])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[2].split() == [f"{topic}-billing", "3", "2", "0", f"{topic}-billing-dlq", "3",
                                                     "-"]
    assert "note: age of the oldest message unknown for 1 queue(s)" in result.stdout


def test_sqs_age_of_the_oldest_message_comes_from_cloudwatch_where_it_has_a_datapoint(moto_url: str) -> None:
    topic = f"paid{uuid.uuid4().hex[:6]}"
    broker = SqsSnsBroker(endpoint_url=moto_url, create_missing=True)
    broker.subscriber(topic, "billing").close()
    broker.subscriber(topic, "shipping").close()
    # moto's CloudWatch stores what it is given: the datapoints AWS would emit for one of the two queues
    cloudwatch = broker._session.client("cloudwatch", endpoint_url=moto_url)
    now = dt.datetime.now(dt.timezone.utc)
    for minutes_ago, age in ((3, 40.0), (1, 95.0)):
        cloudwatch.put_metric_data(Namespace="AWS/SQS", MetricData=[{
            "MetricName": "ApproximateAgeOfOldestMessage", "Dimensions": [{"Name": "QueueName",
                                                                          "Value": f"{topic}-billing"}],
            "Timestamp": now - dt.timedelta(minutes=minutes_ago), "Value": age, "Unit": "Seconds"}])
    report = open_target(f"sqs:{moto_url}", groups=[f"{topic}-*"]).collect(5)
    ages = {q.queue: q.oldest_age_seconds for q in report.queues}
    assert ages == {f"{topic}-billing": 95.0, f"{topic}-shipping": None}  # the newest datapoint; none: unknown
    assert [n for n in report.notes if "unknown for 1 queue(s)" in n]


def test_pubsub_lists_subscriptions_and_says_the_emulator_has_no_monitoring(pstest_host: str) -> None:
    topic = f"orders{uuid.uuid4().hex[:6]}"
    broker = PubSubBroker("edakit-test", create_missing=True, emulator_host=pstest_host)
    broker.subscriber(topic, "billing").close()
    report = open_target(f"pubsub://{pstest_host}/edakit-test", groups=[f"{topic}-billing"]).collect(5)
    [sub] = report.subscriptions
    assert (sub.subscription, sub.topic, sub.dead_letter_topic) == (f"{topic}-billing", topic, f"{topic}-billing-dlq")
    assert sub.backlog_messages is None and sub.oldest_unacked_age_seconds is None
    assert any("emulator (pstest" in n and "no Cloud Monitoring" in n for n in report.notes)


class MonitoringStandIn(BaseHTTPRequestHandler):
    """Cloud Monitoring's timeSeries.list as documented (REST v3): a stand-in for the service, which cannot run here.
    Backlog comes in two pages; points are newest first."""

    requests: list[dict[str, list[str]]] = []
    subscription = ""

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        url = urlsplit(self.path)
        query = parse_qs(url.query)
        type(self).requests.append(query)
        assert url.path == "/v3/projects/edakit-test/timeSeries"
        series = lambda sub, *values: {"resource": {"type": "pubsub_subscription", "labels": {  # noqa: E731
            "project_id": "edakit-test", "subscription_id": sub}}, "points": [
            {"interval": {"endTime": "2026-01-01T00:0%d:00Z" % (9 - n)}, "value": v} for n, v in enumerate(values)]}
        if "num_undelivered_messages" in query["filter"][0]:
            if "pageToken" not in query:
                body = {"timeSeries": [series("other", {"int64Value": "1"})], "nextPageToken": "p2"}
            else:
                body = {"timeSeries": [series(self.subscription, {"int64Value": "42"}, {"int64Value": "7"})]}
        else:
            body = {"timeSeries": [series(self.subscription, {"int64Value": "310"})]}
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


def test_pubsub_backlog_and_oldest_unacked_age_from_cloud_monitoring_where_configured(pstest_host: str) -> None:
    topic = f"paid{uuid.uuid4().hex[:6]}"
    broker = PubSubBroker("edakit-test", create_missing=True, emulator_host=pstest_host)
    broker.subscriber(topic, "billing").close()
    broker.subscriber(topic, "shipping").close()
    MonitoringStandIn.subscription, MonitoringStandIn.requests = f"{topic}-billing", []
    server = ThreadingHTTPServer(("127.0.0.1", 0), MonitoringStandIn)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        collector = PubSubCollector(broker, "pubsub", [f"{topic}-billing", f"{topic}-shipping"],
                                    monitoring=f"http://127.0.0.1:{server.server_port}",
                                    credentials=AnonymousCredentials())
        report = collector.collect(5)
    finally:
        server.shutdown()
        server.server_close()
    got = {s.subscription: (s.backlog_messages, s.oldest_unacked_age_seconds) for s in report.subscriptions}
    assert got == {f"{topic}-billing": (42, 310.0), f"{topic}-shipping": (None, None)}
    assert [n for n in report.notes if "backlog unknown for 1 subscription(s)" in n]
    filters = [q["filter"][0] for q in MonitoringStandIn.requests]
    assert filters == ['metric.type = "pubsub.googleapis.com/subscription/num_undelivered_messages" AND '
                       'resource.type = "pubsub_subscription"'] * 2 + [
                       'metric.type = "pubsub.googleapis.com/subscription/oldest_unacked_message_age" AND '
                       'resource.type = "pubsub_subscription"']
    start, end = (dt.datetime.fromisoformat(MonitoringStandIn.requests[0][k][0]) for k in ("interval.startTime",
                                                                                             "interval.endTime"))
    assert end - start == dt.timedelta(minutes=5)


def test_eventgrid_dead_letter_blobs_per_subscription(azurite_blob: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", azurite_blob)
    name = f"dl{uuid.uuid4().hex[:8]}"
    entry = {**json.loads(to_structured(message(1))), "deadLetterReason": "MaxDeliveryAttemptsExceeded",
             "deliveryAttempts": 30, "lastDeliveryOutcome": "Busy", "publishTime": "2024-03-01T10:00:00Z"}
    with BlobServiceClient.from_connection_string(azurite_blob) as service:
        container = service.get_container_client(name)
        container.create_container()
        for sub, events in (("ORDERS-BILLING", 2), ("ORDERS-BILLING", 1), ("ORDERS-SHIPPING", 1)):
            container.upload_blob(f"{sub}/2024/3/1/10/{uuid.uuid4()}.json", json.dumps([entry] * events))
    collector = open_target(f"azblob:{name}")
    collector.check(5)
    report = collector.collect(5)
    assert [(d.subscription, d.blobs, d.events) for d in report.dead_letters] == [
        ("ORDERS-BILLING", 2, 3), ("ORDERS-SHIPPING", 1, 1)]
    assert all(isinstance(d.oldest_blob, dt.datetime) for d in report.dead_letters)


def events(count: int) -> list[OutboxEvent]:
    return [OutboxEvent(aggregate_type="Order", aggregate_id=f"o{n}", event_type="OrderPlaced",
                        payload=json.dumps({"n": n}).encode(), topic="orders", source="/orders") for n in range(count)]


def test_outbox_rows_and_age_on_sqlite_and_postgresql(tmp_path: Path, pg_url: str) -> None:
    sqlite_url = f"sqlite:{tmp_path / 'outbox.db'}"
    for url in (sqlite_url, pg_url):
        open_outbox(url, create=True).close()
    with sqlite3.connect(tmp_path / "outbox.db") as conn:
        append(conn, events(3))
    with psycopg.connect(pg_url) as conn:
        append(conn, events(2))
    result = CliRunner().invoke(main, ["lag", "--db", sqlite_url, "--db", pg_url, "--format", "json"])
    assert result.exit_code == 0, result.output
    reports = json.loads(result.stdout)
    assert [(r["kind"], r["outboxes"][0]["rows"]) for r in reports] == [("outbox", 3), ("outbox", 2)]
    assert all(r["outboxes"][0]["oldest_age_seconds"] >= 0 for r in reports)
    assert reports[1]["target"].startswith("postgresql://") and reports[1]["outboxes"][0]["relay"].endswith("#outbox")
