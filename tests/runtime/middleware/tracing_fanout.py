"""One order through outbox -> relay -> broker -> three consumer groups, with the SDK's in-memory exporter: the
shared scenario of the tracing tests (one per adapter)."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.semconv._incubating.attributes import messaging_attributes as msg
from opentelemetry.trace import SpanKind

from edakit.runtime.adapters.base import Delivery, Publisher, Subscriber
from edakit.runtime.middleware import Router, compose, tracer, tracing
from edakit.runtime.outbox import OutboxEvent, Relay, SqliteOutbox, append, create_schema
from otel_spans import install, spans_of

GROUPS = ("email", "billing", "audit")


@dataclass
class Fanout:
    root: ReadableSpan | None = None
    event_id: str = ""
    handled: dict[str, list[Delivery]] = field(default_factory=dict)
    spans: list[ReadableSpan] = field(default_factory=list)

    def one(self, name: str) -> ReadableSpan:
        found = [s for s in self.spans if s.name == name]
        assert len(found) == 1, f"expected one span {name!r}, got {[s.name for s in self.spans]}"
        return found[0]


def place_order(db: Path, topic: str) -> tuple[int, str]:
    """The business transaction in a span of its own; returns (its trace id, the event id)."""
    conn = sqlite3.connect(db)
    create_schema(conn)
    event = OutboxEvent(aggregate_type="order", aggregate_id="ord-1", event_type="OrderPlaced",
                        payload=json.dumps({"order_id": "ord-1"}).encode(), topic=topic, source="/orders")
    with tracer().start_as_current_span("place order") as root, conn:
        append(conn, [event])
    conn.close()
    return root.get_span_context().trace_id, event.event_id


def consume(subscriber: Subscriber, handler: Callable[[Delivery], None], want: int, deadline: float = 30.0,
            **router: object) -> None:
    """Run the router until `want` deliveries were handled (or fail after `deadline` seconds)."""
    r = Router(subscriber, handler, receive_timeout=0.5, **router)
    handled, end = 0, time.monotonic() + deadline
    while handled < want:
        assert time.monotonic() < end, f"handled {handled} of {want} deliveries in {deadline}s"
        handled += r.run_once()


def run_fanout(tmp_path: Path, topic: str, publisher: Publisher, subscribers: Mapping[str, Subscriber],
               deadline: float = 30.0) -> Fanout:
    install()
    out = Fanout()
    trace_id, out.event_id = place_order(tmp_path / "orders.sqlite3", topic)
    outbox = SqliteOutbox(tmp_path / "orders.sqlite3")
    assert Relay(outbox, publisher).drain() == 1
    outbox.close()
    for group, subscriber in subscribers.items():
        seen = out.handled.setdefault(group, [])
        consume(subscriber, compose(seen.append, tracing()), 1, deadline)
    out.spans = spans_of(trace_id)
    out.root = out.one("place order")
    return out


def check_fanout(out: Fanout, topic: str, system: str, send_system: str, destinations: Mapping[str, str],
                 groups: Mapping[str, str]) -> dict[str, ReadableSpan]:
    """The conventions' shape: create (PRODUCER, child of the business span) -> send (PRODUCER, child of create) and
    one process span (CONSUMER, child of create) per group; all in the one trace. Returns the process spans."""
    assert out.root is not None
    create, send = out.one(f"create {topic}"), out.one(f"send {topic}")
    assert create.kind == SpanKind.PRODUCER and create.parent.span_id == out.root.context.span_id
    assert create.attributes[msg.MESSAGING_OPERATION_TYPE] == "create"
    assert create.attributes[msg.MESSAGING_MESSAGE_ID] == out.event_id
    assert send.kind == SpanKind.PRODUCER and send.parent.span_id == create.context.span_id
    assert dict(send.attributes) == {
        msg.MESSAGING_SYSTEM: send_system, msg.MESSAGING_DESTINATION_NAME: topic,
        msg.MESSAGING_OPERATION_TYPE: "send", msg.MESSAGING_OPERATION_NAME: "send",
        msg.MESSAGING_MESSAGE_ID: out.event_id}
    processes = {}
    for group, destination in destinations.items():
        [delivery] = out.handled[group]
        assert delivery.message.id == out.event_id
        [span] = [s for s in out.spans if s.name == f"process {destination}"
                  and s.attributes[msg.MESSAGING_CONSUMER_GROUP_NAME] == groups[group]]
        assert span.kind == SpanKind.CONSUMER and span.parent.span_id == create.context.span_id
        assert span.parent.is_remote  # extracted from the message's headers, not the ambient context
        assert span.attributes[msg.MESSAGING_SYSTEM] == system
        assert span.attributes[msg.MESSAGING_DESTINATION_NAME] == destination
        assert span.attributes[msg.MESSAGING_OPERATION_TYPE] == "process"
        assert span.attributes[msg.MESSAGING_MESSAGE_ID] == out.event_id
        assert span.attributes[msg.MESSAGING_MESSAGE_BODY_SIZE] == len(delivery.message.payload)
        processes[group] = span
    return processes
