"""Kafka retry topics and DLQ replay keep the message's trace (Tansu): the copy on `<topic>.<group>.retry.1` and the
replay out of `<topic>.<group>.dlq` are processed in spans of the original trace, each a child of the span that
created the message. Spans go to a TracerProvider of the test's own (the process-wide one is untouched)."""

from __future__ import annotations

import time
import uuid

from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from edakit.runtime.adapters.kafka import KafkaBroker
from edakit.runtime.adapters.urls import KAFKA_TOOL_CONSUMER
from edakit.runtime.message import Message
from edakit.runtime.middleware import RetryPolicy, Router, compose, retry, trace_headers, tracer, tracing

GROUP = "billing"


def test_a_retried_and_a_replayed_message_keep_their_trace(tansu_bootstrap):
    spans = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(spans))
    topic = f"payments-{uuid.uuid4().hex[:8]}"
    broker = KafkaBroker(tansu_bootstrap, consumer_config=KAFKA_TOOL_CONSUMER, create_missing_topics=True,
                         partitions=1, retry_topic_count=1)
    with tracer(provider).start_as_current_span("place order", kind=SpanKind.SERVER) as request:
        created = request.get_span_context()
        headers = trace_headers()
    healed = Message.new("Healed", b"{}", source="/p", headers=headers)
    poison = Message.new("Poison", b"{}", source="/p", headers=headers)
    broker.publisher().publish(topic, [healed, poison])

    fixed: list[bool] = []
    seen: list[tuple[str, int, str]] = []

    def handler(delivery):
        seen.append((delivery.message.type, delivery.attempt, delivery.metadata["topic"]))
        if not fixed and (delivery.attempt == 1 or delivery.message.type == "Poison"):
            raise ConnectionError("payment provider down")  # Healed fails once, Poison until the fix

    subscriber = broker.subscriber(topic, GROUP)
    router = Router(subscriber, compose(handler, tracing(tracer_provider=provider),
                                        retry(RetryPolicy(max_attempts=2, base_delay=0.05, max_delay=0.1))),
                    receive_timeout=1)
    _run_until(router, lambda: len(seen) >= 4)
    retry_topic = f"{topic}.{GROUP}.retry.1"
    assert sorted(seen) == sorted([("Healed", 1, topic), ("Healed", 2, retry_topic),
                                   ("Poison", 1, topic), ("Poison", 2, retry_topic)])

    dead_letters = broker.dead_letters(topic, GROUP)
    try:
        letters = []
        deadline = time.monotonic() + 30
        while not letters and time.monotonic() < deadline:
            letters = dead_letters.receive(1, timeout=1)
        [letter] = letters
        assert letter.message.id == poison.id
        fixed.append(True)  # the provider is back: replay the dead letter
        dead_letters.replay(letter)
        dead_letters.settle([letter], [])
    finally:
        dead_letters.close()
    _run_until(router, lambda: len(seen) >= 5)
    subscriber.close()
    assert seen[-1] == ("Poison", 1, retry_topic)  # a replay starts again at attempt 1, for this group alone

    processed = [s for s in spans.get_finished_spans() if s.kind == SpanKind.CONSUMER]
    assert len(processed) == 5
    for span in processed:  # first try, retry copy and replay: children of the span that created the message
        assert span.context.trace_id == created.trace_id, span.name
        assert span.parent is not None and span.parent.span_id == created.span_id, span.name
    by_attempt = {(s.attributes["messaging.message.id"], s.attributes.get("error.type")) for s in processed}
    assert by_attempt == {(healed.id, "nacked"), (healed.id, None), (poison.id, "nacked"),
                          (poison.id, "dead_lettered"), (poison.id, None)}
    provider.shutdown()


def _run_until(router: Router, done, deadline: float = 60.0) -> None:
    end = time.monotonic() + deadline
    while not done():
        assert time.monotonic() < end, "the deliveries did not arrive in time"
        router.run_once()
