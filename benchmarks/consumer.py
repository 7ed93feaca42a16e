"""The consume path on the embedded broker: what the Router's middleware costs per message.

- instrumentation_overhead_ratio: seconds per message of a Router whose chain starts with `tracing()`, with the
  OpenTelemetry SDK installed (BatchSpanProcessor, in-memory exporter), / the same Router and handler without
  `tracing()` (target <= 1.15). instrumentation_overhead_ratio_api_only: the same with the API alone, no SDK
  provider (target <= 1.02). `metrics()` is not in these figures (its instruments follow the process-wide
  MeterProvider, which a benchmark run leaves unset).
- otel_sdk_bare_span_us: the SDK's own cost of one empty span with the same processor, the floor of the traced
  Router's extra time.
- router_chain_cost_ratio: seconds per message of a Router with the whole chain a service runs (tracing with the
  SDK -> retry -> idempotency on Redis -> handler) / a bare loop over the same kind of subscriber: receive a batch,
  call the handler, ack each delivery.

Every side call consumes INSTRUMENT_MESSAGES fresh messages from a topic and group of its own (published before the
clock starts), so no side reads what another left.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from tempfile import TemporaryDirectory

import redis
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import NoOpTracerProvider

from benchmarks.harness import Figure, Group, Sides
from edakit.devservers import redis_server
from edakit.runtime.adapters.embedded import EmbeddedBroker
from edakit.runtime.idempotency import RedisIdempotencyStore, idempotent
from edakit.runtime.message import Message
from edakit.runtime.middleware import Handler, RetryPolicy, Router, compose, retry, trace_headers, tracer, tracing

INSTRUMENT_MESSAGES = 1_000
BATCH = 100


@dataclass
class Context:
    broker: EmbeddedBroker
    sdk: TracerProvider
    exported: InMemorySpanExporter
    headers: dict[str, str]
    redis_url: str | None
    topics: Iterator[int]


@contextmanager
def embedded(redis_needed: bool = False) -> Iterator[Context]:
    with ExitStack() as stack:
        workdir = Path(stack.enter_context(TemporaryDirectory(prefix="edakit-bench-consumer-")))
        redis_url = stack.enter_context(redis_server()) if redis_needed else None
        sdk, exported = TracerProvider(), InMemorySpanExporter()
        sdk.add_span_processor(BatchSpanProcessor(exported))
        stack.callback(sdk.shutdown)
        with tracer(sdk).start_as_current_span("bench request"):  # messages carry a context, as traced ones do
            headers = trace_headers()
        yield Context(EmbeddedBroker(workdir / "consumer.sqlite3", visibility_timeout=600), sdk, exported, headers,
                      redis_url, itertools.count())


def fresh_subscriber(ctx: Context, messages: int):  # noqa: ANN201 - an EmbeddedSubscriber
    """A new topic and group holding `messages` messages (set-up, not timed)."""
    topic = f"bench.consumer.{next(ctx.topics)}"
    subscriber = ctx.broker.subscriber(topic, "bench")
    publisher = ctx.broker.publisher()
    publisher.publish(topic, [Message.new("OrderPlaced", b'{"n": 1}', source="/bench", headers=ctx.headers)
                              for _ in range(messages)])
    publisher.close()
    return subscriber


def routed(ctx: Context, chain: Callable[[Handler], Handler], messages: int = INSTRUMENT_MESSAGES
           ) -> Callable[[], float]:
    """One side: a Router over a fresh subscriber with `chain` around a counting handler; seconds per message."""
    def side() -> float:
        subscriber = fresh_subscriber(ctx, messages)
        handled: list[int] = []
        router = Router(subscriber, chain(lambda d: handled.append(1)), max_messages=BATCH, lease_seconds=None)
        start = time.perf_counter()
        router.run_until_idle(0)
        elapsed = time.perf_counter() - start
        subscriber.close()
        ctx.exported.clear()
        if len(handled) != messages:
            raise RuntimeError(f"consumer bench: handled {len(handled)} of {messages}")
        return elapsed / messages
    return side


def bare_loop(ctx: Context, messages: int = INSTRUMENT_MESSAGES) -> Callable[[], float]:
    """The loop a service writes without the kit: receive a batch, handle each delivery, ack it."""
    def side() -> float:
        subscriber = fresh_subscriber(ctx, messages)
        handled: list[int] = []
        start = time.perf_counter()
        while deliveries := subscriber.receive(BATCH, 0):
            for delivery in deliveries:
                handled.append(1)
                delivery.ack()
        elapsed = time.perf_counter() - start
        subscriber.close()
        if len(handled) != messages:
            raise RuntimeError(f"consumer bench: handled {len(handled)} of {messages}")
        return elapsed / messages
    return side


def _traced(provider_of: Callable[[Context], object]) -> Callable[[Context], Sides]:
    def prepare(ctx: Context) -> Sides:
        provider = provider_of(ctx)
        return Sides(kit=routed(ctx, lambda h: compose(h, tracing(tracer_provider=provider))),
                     baseline=routed(ctx, lambda h: h), items=1)
    return prepare


def _bare_span(ctx: Context) -> Sides:
    bare_tracer = ctx.sdk.get_tracer("bench")

    def spans() -> float:  # what the SDK itself costs per span, without the kit's attributes and propagation
        start = time.perf_counter()
        for _ in range(INSTRUMENT_MESSAGES):
            with bare_tracer.start_as_current_span("bare"):
                pass
        elapsed = time.perf_counter() - start
        ctx.exported.clear()
        return elapsed / INSTRUMENT_MESSAGES * 1e6
    return Sides(kit=spans)


def _full_chain(ctx: Context) -> Sides:
    assert ctx.redis_url is not None
    client = redis.Redis.from_url(ctx.redis_url)
    store = RedisIdempotencyStore(client, consumer="bench", window_hours=1)
    chain = lambda h: compose(h, tracing(tracer_provider=ctx.sdk), retry(RetryPolicy()), idempotent(store))  # noqa: E731
    return Sides(kit=routed(ctx, chain), baseline=bare_loop(ctx), items=1, close=client.close)


INSTRUMENTATION = Group("instrumentation", [
    Figure("instrumentation_overhead_ratio", "the same Router and handler without tracing()",
           _traced(lambda ctx: ctx.sdk), kind="cost", target=("<=", 1.15), budget=15),
    Figure("instrumentation_overhead_ratio_api_only", "the same Router and handler without tracing()",
           _traced(lambda ctx: NoOpTracerProvider()), kind="cost", target=("<=", 1.02), budget=15),
    Figure("otel_sdk_bare_span_us", "none: one empty SDK span (BatchSpanProcessor, in-memory export), us",
           _bare_span, kind="value", unit="us/span", budget=3),
], context=embedded)

ROUTER = Group("router", [
    Figure("router_chain_cost_ratio", "a bare loop over the same kind of subscriber: receive 100, call the "
           "handler, ack each", _full_chain, kind="cost", budget=20),
], context=lambda: embedded(redis_needed=True))
