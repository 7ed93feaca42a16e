"""OpenTelemetry tracing by the messaging semantic conventions, through `opentelemetry-api` only.

Spans (names "<operation> <destination>", attributes from `opentelemetry-semantic-conventions`):
- `create <topic>` (PRODUCER, `messaging.operation.type=create`): one per outbox event, when `outbox.append` writes
  it inside the business transaction. Its context is stored with the row (`traceparent`/`tracestate` headers) and
  is the message's creation context from then on: retries, redeliveries and DLQ replays carry it unchanged.
- `send <topic>` (PRODUCER, `send`): one per publish of the relay; parent = the row's stored context for one
  message, links to every message's creation context for a batch (`messaging.batch.message_count`).
- `process <destination>` (CONSUMER, `process`): the `tracing()` middleware around the handler; parent = the
  creation context the message carries, so one trace runs from the business transaction to every consumer group.

Nothing is recorded unless the application installs an SDK TracerProvider (`opentelemetry-sdk`,
`trace.set_tracer_provider`); with the API alone the spans are non-recording and the context still propagates.
Contexts cross brokers as W3C Trace Context headers (`TraceContextTextMapPropagator`) in Message.headers.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Mapping, MutableMapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.propagators.textmap import Getter, Setter
from opentelemetry.semconv._incubating.attributes import messaging_attributes as msg
from opentelemetry.semconv.attributes import error_attributes
from opentelemetry.trace import Link, SpanKind, Status, StatusCode
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from edakit.runtime.adapters.base import Delivery
from edakit.runtime.message import Message
from edakit.runtime.middleware.chain import Handler, Middleware
from edakit.runtime.middleware.metrics import record_sent

TRACER_NAME = "edakit.runtime"
STATIC_ATTRIBUTES_LIMIT = 1024  # (destination, group) pairs remembered per tracing(); a consumer sees a handful
TRACE_HEADERS = ("traceparent", "tracestate")  # what the propagator reads and writes; every contract allows them
PROPAGATOR = TraceContextTextMapPropagator()

# adapter module -> messaging.system, from the broker profiles (edakit.brokers: OpenTelemetry's well-known values);
# the embedded SQLite broker has no profile and no well-known value, so a name of ours.
EMBEDDED_SYSTEM = "edakit_embedded"


@functools.cache
def systems(sending: bool = False) -> dict[str, str]:
    """Adapter module -> `messaging.system` of its deliveries (or, `sending`, of its publisher). Built on first use:
    the profiles import the adapters' modules, which import this one."""
    from edakit.brokers import PROFILES

    table = {"embedded": EMBEDDED_SYSTEM}
    for found in PROFILES.values():
        if found.adapter_module is not None and found.messaging_system is not None:
            table[found.adapter_module] = (found.messaging_send_system or found.messaging_system) if sending \
                else found.messaging_system
    return table


class _HeaderGetter(Getter[Mapping[str, str]]):
    def get(self, carrier: Mapping[str, str], key: str) -> list[str] | None:
        value = carrier.get(key)
        return None if value is None else [value]

    def keys(self, carrier: Mapping[str, str]) -> list[str]:
        return list(carrier)


class _HeaderSetter(Setter[MutableMapping[str, str]]):
    def set(self, carrier: MutableMapping[str, str], key: str, value: str) -> None:
        carrier[key] = value


GETTER, SETTER = _HeaderGetter(), _HeaderSetter()


# The global provider's tracer, made once: a ProxyTracer while no provider is installed, which follows the provider
# the application installs later (the SDK's get_tracer is costly per call: it edits the warnings filters).
_GLOBAL_TRACER = trace.get_tracer(TRACER_NAME)


# API only (no SDK provider): no span is made; the trace headers of the message being handled are kept here instead,
# and `created` stores them with the events the handler appends (pass-through propagation for a fraction of the
# cost of extracting and attaching a context per message).
_handled_headers: ContextVar[Mapping[str, str] | None] = ContextVar("edakit_handled_trace_headers", default=None)


def recording(provider: trace.TracerProvider | None = None) -> bool:
    """Whether spans from `provider` (by default the global one) can be recorded: False with the API alone."""
    provider = trace.get_tracer_provider() if provider is None else provider
    return not isinstance(provider, trace.ProxyTracerProvider | trace.NoOpTracerProvider)


def tracer(provider: trace.TracerProvider | None = None) -> trace.Tracer:
    """The kit's tracer from `provider`, by default the global one (a no-op until the application installs an SDK)."""
    return _GLOBAL_TRACER if provider is None else trace.get_tracer(TRACER_NAME, tracer_provider=provider)


def extract(headers: Mapping[str, str]) -> otel_context.Context:
    """The context a message's `traceparent`/`tracestate` carry (an empty one when it has none or it is invalid)."""
    return PROPAGATOR.extract(headers, getter=GETTER)


def trace_headers(ctx: otel_context.Context | None = None) -> dict[str, str]:
    """`traceparent` (and `tracestate`) of `ctx`'s span, by default the current one; {} when there is no valid span."""
    out: dict[str, str] = {}
    PROPAGATOR.inject(out, context=ctx, setter=SETTER)
    return out


def _link(headers: Mapping[str, str]) -> Link | None:
    if "traceparent" not in headers:  # no context to link (extract would return an empty one): most relayed rows
        return None
    span_context = trace.get_current_span(extract(headers)).get_span_context()
    return Link(span_context) if span_context.is_valid else None


def system_of(obj: object, table: Mapping[str, str] | None = None) -> str:
    """`messaging.system` for an adapter object (delivery, publisher): by the adapter module it comes from (a
    wrapper's `delivery` or `publisher` attribute is looked through)."""
    for inner in ("delivery", "publisher"):
        obj = getattr(obj, inner, obj)
    module = type(obj).__module__.rpartition(".")[2]
    return (systems() if table is None else table).get(module, module)


def created(topic: str, headers: Mapping[str, str], *, message_id: str, system: str | None = None) -> dict[str, str]:
    """`headers` with the creation context of a new message: a `create <topic>` span under the current span.

    Headers that already carry a `traceparent` are returned as they are (the caller chose the context), and so are
    headers written with no span current (nothing to continue: the consumer's span then starts the trace)."""
    if "traceparent" in headers:
        return dict(headers)
    if not recording():
        handled = _handled_headers.get()
        if handled is not None:  # inside tracing(): the message being handled is the parent
            return {**headers, **{name: handled[name] for name in TRACE_HEADERS if name in handled}}
        return {**headers, **trace_headers()}  # the application's own (incoming) context, if any
    if not trace.get_current_span().get_span_context().is_valid:
        return dict(headers)  # no business transaction span: no trace to continue, none is made up per row
    attributes = {msg.MESSAGING_OPERATION_TYPE: msg.MessagingOperationTypeValues.CREATE.value,
                  msg.MESSAGING_OPERATION_NAME: "create", msg.MESSAGING_DESTINATION_NAME: topic,
                  msg.MESSAGING_MESSAGE_ID: message_id}
    if system is not None:
        attributes[msg.MESSAGING_SYSTEM] = system
    span = tracer().start_span(f"create {topic}", kind=SpanKind.PRODUCER, attributes=attributes)
    try:
        return {**headers, **trace_headers(trace.set_span_in_context(span))}
    finally:
        span.end()


@contextmanager
def send_span(topic: str, messages: Sequence[Message], publisher: object) -> Iterator[trace.Span]:
    """The `send <topic>` PRODUCER span around one publish of `messages` (their headers are not changed: each keeps
    its creation context). One message: its context is the parent; a batch: a link to each message's context.
    Counts them in `messaging.client.sent.messages` (edakit.runtime.middleware.metrics)."""
    attributes: dict[str, str | int] = {
        msg.MESSAGING_SYSTEM: system_of(publisher, systems(sending=True)), msg.MESSAGING_DESTINATION_NAME: topic,
        msg.MESSAGING_OPERATION_TYPE: msg.MessagingOperationTypeValues.SEND.value,
        msg.MESSAGING_OPERATION_NAME: "send"}
    parent = None
    links: list[Link] = []
    if len(messages) == 1:
        attributes[msg.MESSAGING_MESSAGE_ID] = messages[0].id
        if "traceparent" in messages[0].headers:
            parent = extract(messages[0].headers)
    else:
        attributes[msg.MESSAGING_BATCH_MESSAGE_COUNT] = len(messages)
        links = [link for m in messages if (link := _link(m.headers)) is not None]
    with tracer().start_as_current_span(f"send {topic}", context=parent, kind=SpanKind.PRODUCER,
                                        attributes=attributes, links=links) as span:
        counted = {name: attributes[name] for name in
                   (msg.MESSAGING_SYSTEM, msg.MESSAGING_DESTINATION_NAME, msg.MESSAGING_OPERATION_NAME)}
        try:
            yield span
        except Exception as exc:  # recorded (and the status set) by the span itself; the conventions add error.type
            span.set_attribute(error_attributes.ERROR_TYPE, type(exc).__qualname__)
            record_sent(counted, len(messages), exc)
            raise
        record_sent(counted, len(messages), None)


def _static_process_attributes(delivery: Delivery, system: str | None, group: str | None) -> dict[str, str | int]:
    """The process span's attributes every delivery from the same destination and group shares."""
    metadata = delivery.metadata
    system = system or system_of(delivery)
    destination = delivery.source
    if "queue_url" in metadata:  # SQS: the queue is what the consumer reads, and its group
        destination = metadata["queue_url"].rstrip("/").rpartition("/")[2]
    attributes: dict[str, str | int] = {
        msg.MESSAGING_SYSTEM: system, msg.MESSAGING_DESTINATION_NAME: destination,
        msg.MESSAGING_OPERATION_TYPE: msg.MessagingOperationTypeValues.PROCESS.value,
        msg.MESSAGING_OPERATION_NAME: "process"}
    attributes[msg.MESSAGING_CONSUMER_GROUP_NAME] = (group or metadata.get("group") or metadata.get("subscription")
                                                     or destination)
    if system in (msg.MessagingSystemValues.GCP_PUBSUB.value, msg.MessagingSystemValues.EVENTGRID.value):
        attributes[msg.MESSAGING_DESTINATION_SUBSCRIPTION_NAME] = delivery.source
    return attributes


def _static_key(delivery: Delivery) -> tuple[object, ...]:
    """What _static_process_attributes reads of a delivery: equal keys give equal attributes."""
    metadata = delivery.metadata
    return (type(delivery), delivery.source, metadata.get("queue_url"), metadata.get("group"),
            metadata.get("subscription"))


def _message_attributes(delivery: Delivery, static: Mapping[str, str | int]) -> dict[str, str | int]:
    """`static` plus what is this delivery's own: message id and size, Kafka position and key, Pub/Sub attempt."""
    metadata = delivery.metadata
    message = delivery.message
    attributes = {**static, msg.MESSAGING_MESSAGE_ID: message.id, msg.MESSAGING_MESSAGE_BODY_SIZE: len(message.payload)}
    if "partition" in metadata:
        attributes[msg.MESSAGING_DESTINATION_PARTITION_ID] = metadata["partition"]
    if metadata.get("offset", "").isdigit():
        attributes[msg.MESSAGING_KAFKA_OFFSET] = int(metadata["offset"])
    system = static[msg.MESSAGING_SYSTEM]
    if system == msg.MessagingSystemValues.KAFKA.value and message.key is not None:
        attributes[msg.MESSAGING_KAFKA_MESSAGE_KEY] = message.key
    if system == msg.MessagingSystemValues.GCP_PUBSUB.value:
        attributes[msg.MESSAGING_GCP_PUBSUB_MESSAGE_DELIVERY_ATTEMPT] = delivery.attempt
    return attributes


def _process_attributes(delivery: Delivery, system: str | None, group: str | None) -> dict[str, str | int]:
    return _message_attributes(delivery, _static_process_attributes(delivery, system, group))


@contextmanager
def batch_span(deliveries: Sequence[Delivery], *, system: str | None = None,
               consumer_group: str | None = None) -> Iterator[trace.Span]:
    """For a handler that processes several deliveries at once: one `process <destination>` CONSUMER span under the
    current context, linked to each message's creation context, with `messaging.batch.message_count` (the
    conventions' batch shape; `tracing()` covers the one-message handler)."""
    if not deliveries:
        raise ValueError("batch_span: expected at least one delivery")
    attributes = _process_attributes(deliveries[0], system, consumer_group)
    for single in (msg.MESSAGING_MESSAGE_ID, msg.MESSAGING_MESSAGE_BODY_SIZE, msg.MESSAGING_KAFKA_OFFSET,
                   msg.MESSAGING_KAFKA_MESSAGE_KEY, msg.MESSAGING_GCP_PUBSUB_MESSAGE_DELIVERY_ATTEMPT):
        attributes.pop(single, None)
    attributes[msg.MESSAGING_BATCH_MESSAGE_COUNT] = len(deliveries)
    links = [link for d in deliveries if (link := _link(d.message.headers)) is not None]
    with tracer().start_as_current_span(f"process {attributes[msg.MESSAGING_DESTINATION_NAME]}",
                                        kind=SpanKind.CONSUMER, attributes=attributes, links=links) as span:
        yield span


def tracing(*, system: str | None = None, consumer_group: str | None = None,
            tracer_provider: trace.TracerProvider | None = None) -> Middleware:
    """Run each delivery's handler in a `process <destination>` CONSUMER span whose parent is the context the
    message carries (a message without a valid `traceparent` starts a new trace). Outermost middleware: the span
    covers retries' bookkeeping and the idempotency check; a handler that raises marks it ERROR with `error.type`.

    `system` and `consumer_group` default to what the delivery tells (its adapter; the group, Pub/Sub or Event Grid
    subscription, or SQS queue); `tracer_provider` to the global provider (also one installed after the chain
    was built)."""
    tr = tracer(tracer_provider)
    # The attributes shared by each (destination, group) seen: built once, not per message.
    static: dict[tuple[object, ...], dict[str, str | int]] = {}

    def middleware(next_handler: Handler) -> Handler:
        def handle(delivery: Delivery) -> None:
            if not recording(tracer_provider):
                token = _handled_headers.set(delivery.message.headers)
                try:
                    return next_handler(delivery)
                finally:
                    _handled_headers.reset(token)
            parent = extract(delivery.message.headers)
            key = _static_key(delivery)
            shared = static.get(key)
            if shared is None:
                if len(static) >= STATIC_ATTRIBUTES_LIMIT:
                    static.clear()
                shared = static[key] = _static_process_attributes(delivery, system, consumer_group)
            attributes = _message_attributes(delivery, shared)
            with tr.start_as_current_span(f"process {attributes[msg.MESSAGING_DESTINATION_NAME]}", context=parent,
                                          kind=SpanKind.CONSUMER, attributes=attributes, record_exception=False,
                                          set_status_on_exception=False) as span:
                try:
                    next_handler(delivery)
                except Exception as exc:
                    if span.is_recording():
                        span.record_exception(exc)
                        span.set_attribute(error_attributes.ERROR_TYPE, type(exc).__qualname__)
                        span.set_status(Status(StatusCode.ERROR, f"{type(exc).__name__}: {exc}"[:200]))
                    raise
                if span.is_recording():
                    # retry() settles failures itself: a nack (redelivery later) or a dead-letter
                    settled = getattr(delivery, "settled", None)
                    if settled in ("nacked", "dead-lettered"):
                        span.set_attribute(error_attributes.ERROR_TYPE, settled.replace("-", "_"))
                        span.set_status(Status(StatusCode.ERROR, settled))

        return handle

    return middleware
