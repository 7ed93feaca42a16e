"""Handler and relay metrics by the OpenTelemetry messaging conventions, read through the SDK and through the
Prometheus exporter under the names the generated alert rules use (alerts/README.md)."""

from __future__ import annotations

import sqlite3

from opentelemetry import metrics as otel_metrics
from opentelemetry.exporter.prometheus import PrometheusMetricReader
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from prometheus_client import CollectorRegistry, generate_latest
from tracing_fanout import consume

from edakit.runtime.middleware import RetryPolicy, compose, metrics, retry, tracing
from edakit.runtime.outbox import OutboxEvent, Relay, SqliteOutbox, append, create_schema

READER = InMemoryMetricReader()
REGISTRY = CollectorRegistry()  # its own: the process-wide prometheus_client registry belongs to others
_installed: list[bool] = []


def install() -> None:
    if not _installed:
        provider = MeterProvider(metric_readers=[READER, PrometheusMetricReader(registry=REGISTRY)])
        otel_metrics.set_meter_provider(provider)
        assert otel_metrics.get_meter_provider() is provider, "another MeterProvider is installed"
        _installed.append(True)


def points(name: str) -> list:
    data = READER.get_metrics_data()
    return [p for rm in data.resource_metrics for sm in rm.scope_metrics for m in sm.metrics if m.name == name
            for p in m.data.data_points]


def test_processing_sending_and_failures_are_measured_and_exposed_for_prometheus(embedded, tmp_path):
    install()
    topic = f"metrics-{tmp_path.name[-12:]}"
    embedded.create_group(topic, "billing")
    subscriber = embedded.subscriber(topic, "billing")
    conn = sqlite3.connect(tmp_path / "orders.sqlite3")
    create_schema(conn)
    with conn:
        append(conn, [OutboxEvent(aggregate_type="o", aggregate_id=str(n), event_type="OrderPlaced",
                                  payload=str(n).encode(), topic=topic, source="/o") for n in range(3)])
    Relay(SqliteOutbox(tmp_path / "orders.sqlite3"), embedded.publisher()).drain()

    def handler(delivery):  # message 1 fails once, message 2 always
        if delivery.message.payload == b"2" or (delivery.message.payload == b"1" and delivery.attempt == 1):
            raise ValueError("bad order")

    chain = compose(handler, tracing(), metrics(), retry(RetryPolicy(max_attempts=2, base_delay=0, max_delay=0)))
    consume(subscriber, chain, 5)  # 0 ok; 1 nacked then ok; 2 nacked then dead-lettered

    mine = {"messaging.system": "edakit_embedded", "messaging.destination.name": topic,
            "messaging.consumer.group.name": "billing", "messaging.operation.name": "process"}
    durations = {p.attributes.get("error.type"): p.count for p in points("messaging.process.duration")
                 if {k: p.attributes.get(k) for k in mine} == mine}
    assert durations == {None: 2, "nacked": 2, "dead_lettered": 1}
    [consumed] = [p.value for p in points("messaging.client.consumed.messages") if dict(p.attributes) == mine]
    assert consumed == 5
    [sent] = [p.value for p in points("messaging.client.sent.messages")
              if p.attributes.get("messaging.destination.name") == topic]
    assert sent == 3

    text = generate_latest(REGISTRY).decode()
    labels = f'messaging_consumer_group_name="billing",messaging_destination_name="{topic}"'
    count_lines = [line for line in text.splitlines()
                   if line.startswith("messaging_process_duration_seconds_count{") and labels in line]
    assert len(count_lines) == 3 and any('error_type="dead_lettered"' in line for line in count_lines)
    assert any(line.startswith("messaging_process_duration_seconds_bucket{") and labels in line
               for line in text.splitlines())
    assert any(line.startswith("messaging_client_consumed_messages_total{") and labels in line
               and line.endswith(" 5.0") for line in text.splitlines())
    assert any(line.startswith("messaging_client_sent_messages_total{") and topic in line and line.endswith(" 3.0")
               for line in text.splitlines())
