"""`Router.run_until_idle` on the embedded broker, and the span helpers `new_trace` / `child_of`."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edakit.runtime.adapters.embedded import EmbeddedBroker
from edakit.runtime.message import Message
from edakit.runtime.middleware import (RetryPolicy, Router, SpanContext, child_of, compose, current_span, new_trace,
                                       parse_traceparent, retry, tracing)

HEX = "0123456789abcdef"


@settings(max_examples=8, deadline=None)
@given(failures=st.lists(st.integers(0, 2), min_size=0, max_size=5))
def test_run_until_idle_handles_every_delivery_and_its_retries(tmp_path_factory, failures: list[int]):
    """`failures[i]`: how many times message i fails before it succeeds; the count includes the redeliveries."""
    broker = EmbeddedBroker(tmp_path_factory.mktemp("b") / "broker.sqlite3")
    router_sub = broker.subscriber("orders", "billing")
    messages = [Message.new("OrderPlaced", str(n).encode(), source="/o") for n in failures]
    if messages:
        broker.publisher().publish("orders", messages)
    done: list[str] = []

    def handler(delivery):
        if delivery.attempt <= int(delivery.message.payload):
            raise ConnectionError("try again")
        done.append(delivery.message.id)

    policy = RetryPolicy(max_attempts=3, base_delay=0.0, max_delay=0.02)
    router = Router(router_sub, compose(handler, retry(policy)), max_messages=2)
    assert router.run_until_idle(idle_timeout=0.1) == sum(n + 1 for n in failures)
    assert sorted(done) == sorted(m.id for m in messages)
    assert router.run_until_idle(idle_timeout=0.05) == 0  # idle: nothing left, not even a pending retry


def test_a_negative_idle_timeout_is_refused(embedded):
    router = Router(embedded.subscriber("orders", "billing"), lambda d: None)
    with pytest.raises(ValueError, match="idle_timeout must be >= 0 seconds, got -1"):
        router.run_until_idle(-1)


def test_new_trace_starts_a_valid_trace_each_time():
    first, second = new_trace(), new_trace("vendor=1")
    assert parse_traceparent(first.traceparent) == first
    assert first.trace_id != second.trace_id and first.headers() == {"traceparent": first.traceparent}
    assert second.headers() == {"traceparent": second.traceparent, "tracestate": "vendor=1"}


@given(trace=st.text(HEX, min_size=32, max_size=32).filter(lambda t: set(t) != {"0"}),
       span=st.text(HEX, min_size=16, max_size=16).filter(lambda s: set(s) != {"0"}),
       flags=st.sampled_from(["00", "01"]), tracestate=st.sampled_from([None, "a=1", "b=2,c=3"]))
def test_child_of_stays_in_the_parents_trace(trace: str, span: str, flags: str, tracestate: str | None):
    parent = SpanContext(trace_id=trace, span_id=span, flags=flags, tracestate=tracestate)
    child = child_of(parent)
    assert (child.trace_id, child.flags, child.tracestate) == (trace, flags, tracestate)
    assert child.span_id != span and parse_traceparent(child.traceparent) == SpanContext(trace, child.span_id, flags)
    assert child_of(parent, "z=9").tracestate == "z=9"


def test_a_trace_started_by_a_request_reaches_the_consumer(embedded):
    subscriber = embedded.subscriber("orders", "billing")
    request = new_trace()
    embedded.publisher().publish("orders", [Message.new("OrderPlaced", b"{}", source="/o", headers=request.headers())])
    seen: list[SpanContext | None] = []
    Router(subscriber, compose(lambda d: seen.append(current_span.get()), tracing())).run_until_idle(0.1)
    [span] = seen
    assert span is not None and span.trace_id == request.trace_id and span.span_id != request.span_id


@pytest.mark.parametrize("lease_seconds", [0, -5])
def test_a_lease_under_a_second_is_refused(embedded, lease_seconds: int):
    with pytest.raises(ValueError, match=f"lease_seconds must be >= 1 \\(or None\\), got {lease_seconds}"):
        Router(embedded.subscriber("orders", "billing"), lambda d: None, lease_seconds=lease_seconds)
