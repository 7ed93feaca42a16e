"""Tracing by the OpenTelemetry messaging conventions on the embedded broker: one trace from the outbox write to
every consumer group, through retries and a DLQ replay; batch sends link; the API alone records nothing but
propagates. (The other adapters: test_tracing_adapters.py.)"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from opentelemetry import trace
from opentelemetry.semconv._incubating.attributes import messaging_attributes as msg
from opentelemetry.semconv.attributes import error_attributes
from opentelemetry.trace import SpanKind, StatusCode
from otel_spans import install, spans_of
from tracing_fanout import GROUPS, check_fanout, consume, place_order, run_fanout

from edakit.runtime.dlq import DeadLetterQueue, Selection
from edakit.runtime.message import Message
from edakit.runtime.middleware import (RetryPolicy, batch_span, compose, extract, retry, trace_headers, tracer,
                                       tracing)
from edakit.runtime.outbox import OutboxEvent, Relay, SqliteOutbox, append, create_schema

TOPIC = "order-placed"
HEX = "0123456789abcdef"


def test_one_trace_from_the_outbox_write_to_each_consumer_group(embedded, tmp_path):
    for group in GROUPS:
        embedded.create_group(TOPIC, group)
    subscribers = {group: embedded.subscriber(TOPIC, group) for group in GROUPS}
    out = run_fanout(tmp_path, TOPIC, embedded.publisher(), subscribers)
    processes = check_fanout(out, TOPIC, "edakit_embedded", "edakit_embedded", {g: TOPIC for g in GROUPS},
                             {g: g for g in GROUPS})
    assert {s.status.status_code for s in processes.values()} == {StatusCode.UNSET}
    # the stored row carries the create span's context, so the relay never needed the writer's process
    create = out.one(f"create {TOPIC}")
    [delivery] = out.handled["audit"]
    assert extract(delivery.message.headers) is not None
    assert trace_headers(trace.set_span_in_context(trace.NonRecordingSpan(create.context)))["traceparent"] == \
        delivery.message.headers["traceparent"]


def test_a_retry_and_a_dlq_replay_stay_in_the_original_trace(embedded, tmp_path):
    install()
    embedded.create_group(TOPIC, "billing")
    subscriber = embedded.subscriber(TOPIC, "billing")
    trace_id, event_id = place_order(tmp_path / "orders.sqlite3", TOPIC)
    outbox = SqliteOutbox(tmp_path / "orders.sqlite3")
    Relay(outbox, embedded.publisher()).drain()
    outbox.close()
    fixed = False

    def handler(delivery):
        if not fixed:
            raise (TimeoutError("slow") if delivery.attempt == 1 else KeyError("currency"))

    policy = RetryPolicy(max_attempts=2, base_delay=0, max_delay=0)
    chain = compose(handler, tracing(), retry(policy))
    consume(subscriber, chain, 2)  # attempt 1 fails and is retried, attempt 2 fails and is dead-lettered
    outcome = DeadLetterQueue(embedded, TOPIC, "billing", wait=0.2).replay(Selection(error_type="KeyError"))
    assert len(outcome.done) == 1
    fixed = True
    consume(subscriber, chain, 1)
    create = [s for s in spans_of(trace_id) if s.name == f"create {TOPIC}"][0]
    runs = [s for s in spans_of(trace_id) if s.name == f"process {TOPIC}"]
    assert len(runs) == 3 and {s.parent.span_id for s in runs} == {create.context.span_id}
    assert all(s.attributes[msg.MESSAGING_MESSAGE_ID] == event_id for s in runs)
    first, second, replayed = sorted(runs, key=lambda s: s.start_time)
    assert first.status.status_code == StatusCode.ERROR and first.attributes[error_attributes.ERROR_TYPE] == "nacked"
    assert second.attributes[error_attributes.ERROR_TYPE] == "dead_lettered"
    assert replayed.status.status_code == StatusCode.UNSET and error_attributes.ERROR_TYPE not in replayed.attributes


def test_a_handler_that_raises_marks_its_span_with_the_error_type(embedded):
    install()
    embedded.create_group("t", "g")
    subscriber = embedded.subscriber("t", "g")
    with tracer().start_as_current_span("request") as request:
        message = Message.new("A", b"{}", source="/o", headers=trace_headers())
    embedded.publisher().publish("t", [message])

    def boom(delivery):
        raise LookupError("no such order")

    consume(subscriber, compose(boom, tracing(consumer_group="billing-v2")), 1)
    [span] = [s for s in spans_of(request.get_span_context().trace_id) if s.name == "process t"]
    assert span.status.status_code == StatusCode.ERROR and span.attributes[error_attributes.ERROR_TYPE] == "LookupError"
    assert span.attributes[msg.MESSAGING_CONSUMER_GROUP_NAME] == "billing-v2"
    assert [e.name for e in span.events] == ["exception"]


def test_a_batch_send_links_every_messages_creation_context(embedded, tmp_path):
    install()
    embedded.create_group(TOPIC, "audit")
    conn = sqlite3.connect(tmp_path / "orders.sqlite3")
    create_schema(conn)
    roots = []
    for n in range(3):  # three business transactions, three traces
        with tracer().start_as_current_span(f"place order {n}") as root, conn:
            append(conn, [OutboxEvent(aggregate_type="order", aggregate_id=f"o{n}", event_type="OrderPlaced",
                                      payload=b"{}", topic=TOPIC, source="/orders")])
        roots.append(root.get_span_context().trace_id)
    with tracer().start_as_current_span("relay round") as relay_round:
        Relay(SqliteOutbox(tmp_path / "orders.sqlite3"), embedded.publisher()).drain()
    [send] = [s for s in spans_of(relay_round.get_span_context().trace_id) if s.name == f"send {TOPIC}"]
    assert send.attributes[msg.MESSAGING_BATCH_MESSAGE_COUNT] == 3 and msg.MESSAGING_MESSAGE_ID not in send.attributes
    creates = [next(s for s in spans_of(t) if s.name == f"create {TOPIC}") for t in roots]
    assert [link.context.span_id for link in send.links] == [c.context.span_id for c in creates]
    assert send.kind == SpanKind.PRODUCER


def test_an_event_with_its_own_traceparent_keeps_it(tmp_path):
    install()
    own = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    conn = sqlite3.connect(tmp_path / "orders.sqlite3")
    create_schema(conn)
    with tracer().start_as_current_span("elsewhere"), conn:
        append(conn, [OutboxEvent(aggregate_type="o", aggregate_id="1", event_type="E", payload=b"{}", topic="t",
                                  source="/o", headers={"traceparent": own})])
    [(headers,)] = conn.execute("SELECT headers FROM outbox").fetchall()
    assert json.loads(headers) == {"traceparent": own}


@settings(max_examples=40, deadline=None)
@given(trace_id=st.text(HEX, min_size=32, max_size=32), span_id=st.text(HEX, min_size=16, max_size=16),
       flags=st.sampled_from(["00", "01"]), state=st.sampled_from([None, "vendor=1", "a=1,b=2"]))
def test_headers_round_trip_through_the_propagator(trace_id, span_id, flags, state):
    headers = {"traceparent": f"00-{trace_id}-{span_id}-{flags}", **({"tracestate": state} if state else {})}
    context = trace.get_current_span(extract(headers)).get_span_context()
    if set(trace_id) == {"0"} or set(span_id) == {"0"}:  # invalid ids: no context, a new trace starts
        assert not context.is_valid and trace_headers(extract(headers)) == {}
    else:
        assert trace_headers(extract(headers)) == headers


@given(st.text(max_size=60))
@settings(max_examples=50, deadline=None)
def test_a_garbage_traceparent_starts_a_new_trace_instead_of_failing(value):
    assert trace_headers(extract({"traceparent": value})) in ({}, {"traceparent": value})


API_ONLY = """
import sqlite3, json
from opentelemetry import context, trace
from edakit.runtime.adapters.embedded import EmbeddedBroker
from edakit.runtime.middleware import Router, compose, tracing
from edakit.runtime.outbox import OutboxEvent, Relay, SqliteOutbox, append, create_schema
import sys
from pathlib import Path
d = sys.argv[1]
incoming = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
broker = EmbeddedBroker(d + "/b.sqlite3")
broker.create_group("t", "g")
conn = sqlite3.connect(d + "/o.sqlite3"); create_schema(conn)
with conn:
    append(conn, [OutboxEvent(aggregate_type="o", aggregate_id="0", event_type="E", payload=b"{}", topic="t",
                              source="/o")])  # no span current: nothing stored
ctx = trace.propagation.tracecontext.TraceContextTextMapPropagator().extract({"traceparent": incoming})
token = context.attach(ctx)  # e.g. a request that came in with this traceparent
with conn:
    append(conn, [OutboxEvent(aggregate_type="o", aggregate_id="1", event_type="E", payload=b"{}", topic="t",
                              source="/o")])
context.detach(token)
Relay(SqliteOutbox(d + "/o.sqlite3"), broker.publisher()).drain()
downstream = sqlite3.connect(d + "/d.sqlite3"); create_schema(downstream)
seen = []
def handler(dl):  # the consumer appends an event of its own: it carries the handled message's context
    seen.append(dict(dl.message.headers))
    with downstream:
        append(downstream, [OutboxEvent(aggregate_type="o", aggregate_id=dl.message.id, event_type="Next",
                                        payload=b"{}", topic="next", source="/o")])
Router(broker.subscriber("t", "g"), compose(handler, tracing())).run_until_idle(0.2)
stored = [json.loads(h) for (h,) in downstream.execute("SELECT headers FROM outbox ORDER BY id")]
print(json.dumps({"provider": type(trace.get_tracer_provider()).__name__, "seen": seen, "stored": stored}))
"""


def test_with_the_api_alone_nothing_is_recorded_and_the_incoming_context_still_propagates(tmp_path):
    done = subprocess.run([sys.executable, "-c", API_ONLY, str(tmp_path)], capture_output=True, text=True,
                          timeout=60, check=True)
    result = json.loads(done.stdout)
    incoming = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    assert result["provider"] == "ProxyTracerProvider"
    assert result["seen"] == [{}, {"traceparent": incoming}]
    assert result["stored"] == [{}, {"traceparent": incoming}]


DEMO = Path(__file__).parents[3] / "examples" / "demos" / "order_fanout.py"


def test_the_demo_prints_one_trace_tree_per_order(tmp_path):
    done = subprocess.run([sys.executable, DEMO, "--trace", "--db-dir", tmp_path / "db"], capture_output=True,
                          text=True, timeout=120, env={**os.environ, "OTEL_EXPORTER_OTLP_ENDPOINT": ""})
    assert done.returncode == 0, done.stderr
    trees = done.stdout.split("\nTraces ")[1].split("\n  trace ")[1:]
    assert len(trees) == 4  # one per order
    for tree in trees:
        lines = [line.strip() for line in tree.splitlines()[1:] if line.strip()]
        assert lines[:2] == ["place order [server]", "create order-placed [producer]"]
        assert any(line.startswith("~ send order-placed [producer]") for line in lines)  # the relay's batch
        for group in GROUPS:
            assert f"process order-placed [consumer] group={group}" in lines
    # the order whose event the crashed relay sent first, then again; and the order Billing failed on
    assert sum("send order-placed [producer] ERROR RelayCrash" in t for t in trees) == 1
    [poisoned] = [t for t in trees if "ERROR dead_lettered" in t]
    assert poisoned.count("group=billing ERROR nacked") == 2 and poisoned.count("group=billing\n") == 1


def test_the_demo_says_which_package_an_otlp_endpoint_needs(tmp_path):
    done = subprocess.run([sys.executable, DEMO, "--db-dir", tmp_path / "db"], capture_output=True, text=True,
                          timeout=120, env={**os.environ, "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:9"})
    assert done.returncode == 2
    assert "OTEL_EXPORTER_OTLP_ENDPOINT is set: install opentelemetry-exporter-otlp-proto-http" in done.stderr


def test_a_batch_handlers_span_links_every_message_it_processes(embedded):
    install()
    embedded.create_group("batch", "audit")
    messages, creates = [], []
    for n in range(3):
        with tracer().start_as_current_span(f"request {n}") as request:
            messages.append(Message.new("A", b"{}", source="/o", headers=trace_headers()))
        creates.append(request.get_span_context())
    embedded.publisher().publish("batch", messages)
    deliveries = embedded.subscriber("batch", "audit").receive(10, timeout=1)
    with tracer().start_as_current_span("poll") as poll, batch_span(deliveries):
        pass
    [span] = [s for s in spans_of(poll.get_span_context().trace_id) if s.name == "process batch"]
    assert span.kind == SpanKind.CONSUMER and span.parent.span_id == poll.get_span_context().span_id
    assert [link.context.span_id for link in span.links] == [c.span_id for c in creates]
    assert span.attributes[msg.MESSAGING_BATCH_MESSAGE_COUNT] == 3 and msg.MESSAGING_MESSAGE_ID not in span.attributes


def test_an_event_written_outside_any_span_carries_no_made_up_trace(tmp_path):
    install()
    conn = sqlite3.connect(tmp_path / "orders.sqlite3")
    create_schema(conn)
    with conn:
        append(conn, [OutboxEvent(aggregate_type="o", aggregate_id="1", event_type="E", payload=b"{}", topic="t",
                                  source="/o")])
    assert conn.execute("SELECT headers FROM outbox").fetchall() == [("{}",)]
