"""OpenTelemetry metrics by the messaging semantic conventions, through `opentelemetry-api` only.

- `messaging.process.duration` (histogram, s): one per handled delivery, by the `metrics()` middleware; `error.type`
  set when the handler raised (its exception class) or `retry()` settled the delivery as `nacked`/`dead_lettered`.
- `messaging.client.consumed.messages` (counter): deliveries handed to the handler, by `metrics()`.
- `messaging.client.sent.messages` (counter): messages the relay published (`error.type` on a failed publish).

The conventions name no metric for what the kit's middleware decides, so these three are the kit's own (counters,
unit `{message}`, the same attributes as the consumer metrics above):
- `edakit.messages.retried`: deliveries `retry()` nacked for a later attempt (`error.type`: the handler's error);
- `edakit.messages.dead_lettered`: deliveries `retry()` dead-lettered (`error.type` as well);
- `edakit.messages.duplicates_skipped`: deliveries the idempotency middleware acked without calling the handler.

Attributes: `messaging.system`, `messaging.destination.name`, `messaging.consumer.group.name` (consumers),
`messaging.operation.name`, `error.type`; no per-message values (bounded cardinality). A Prometheus exporter or
the OpenTelemetry Collector writes them as `messaging_process_duration_seconds_{bucket,count,sum}`,
`messaging_client_consumed_messages_total`, `messaging_client_sent_messages_total`, `edakit_messages_retried_total`,
`edakit_messages_dead_lettered_total` and `edakit_messages_duplicates_skipped_total` with the attributes as labels
(dots become underscores): the first three are the names the generated alert rules (alerts/README.md) read.

Nothing is recorded until the application installs an SDK MeterProvider (`opentelemetry-sdk`), or passes one to
`metrics(meter_provider=...)`; the retry and idempotency counters then follow the `metrics()` around them.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from contextvars import ContextVar
from dataclasses import dataclass

from opentelemetry import metrics as otel_metrics
from opentelemetry.semconv._incubating.attributes import messaging_attributes as msg
from opentelemetry.semconv._incubating.metrics import messaging_metrics
from opentelemetry.semconv.attributes import error_attributes

from edakit.runtime.adapters.base import Delivery
from edakit.runtime.middleware.chain import Handler, Middleware

METER_NAME = "edakit.runtime"
RETRIED_NAME = "edakit.messages.retried"
DEAD_LETTERED_NAME = "edakit.messages.dead_lettered"
DUPLICATES_SKIPPED_NAME = "edakit.messages.duplicates_skipped"
# A consumer sees a handful of (destination, group) pairs; the cap only guards against a caller with unbounded ones.
ATTRIBUTE_CACHE_LIMIT = 1024


@dataclass(frozen=True)
class Instruments:
    """The kit's instruments from one meter."""

    process_duration: otel_metrics.Histogram
    consumed: otel_metrics.Counter
    sent: otel_metrics.Counter
    retried: otel_metrics.Counter
    dead_lettered: otel_metrics.Counter
    duplicates_skipped: otel_metrics.Counter

    @classmethod
    def of(cls, meter: otel_metrics.Meter) -> Instruments:
        return cls(
            process_duration=messaging_metrics.create_messaging_process_duration(meter),
            consumed=messaging_metrics.create_messaging_client_consumed_messages(meter),
            sent=messaging_metrics.create_messaging_client_sent_messages(meter),
            retried=meter.create_counter(RETRIED_NAME, unit="{message}",
                                         description="Deliveries nacked by retry() for another attempt."),
            dead_lettered=meter.create_counter(DEAD_LETTERED_NAME, unit="{message}",
                                               description="Deliveries dead-lettered by retry()."),
            duplicates_skipped=meter.create_counter(
                DUPLICATES_SKIPPED_NAME, unit="{message}",
                description="Deliveries acked by the idempotency middleware without calling the handler."),
        )


# Proxy instruments: they follow the MeterProvider the application installs, also after this import.
GLOBAL = Instruments.of(otel_metrics.get_meter(METER_NAME))
PROCESS_DURATION, CONSUMED, SENT = GLOBAL.process_duration, GLOBAL.consumed, GLOBAL.sent

# Set by metrics() while its handler runs: the instruments and attributes the retry and idempotency counters use, so
# they land beside the delivery's duration (same provider, same system and group).
_current: ContextVar[tuple[Instruments, Mapping[str, str]] | None] = ContextVar("edakit_metrics", default=None)


def consumer_attributes(delivery: Delivery, system: str | None, group: str | None) -> dict[str, str]:
    from edakit.runtime.middleware.tracing import system_of  # the one mapping of adapters to messaging.system

    metadata = delivery.metadata
    destination = delivery.source
    if "queue_url" in metadata:  # SQS: the queue, as in the spans
        destination = metadata["queue_url"].rstrip("/").rpartition("/")[2]
    return {msg.MESSAGING_SYSTEM: system or system_of(delivery), msg.MESSAGING_DESTINATION_NAME: destination,
            msg.MESSAGING_CONSUMER_GROUP_NAME: group or metadata.get("group") or metadata.get("subscription")
            or destination, msg.MESSAGING_OPERATION_NAME: "process"}


def _attribute_key(delivery: Delivery) -> tuple[object, ...]:
    """What consumer_attributes reads of a delivery: equal keys give equal attributes."""
    metadata = delivery.metadata
    return (type(delivery), delivery.source, metadata.get("queue_url"), metadata.get("group"),
            metadata.get("subscription"))


def record_sent(attributes: Mapping[str, str], count: int, error: BaseException | None) -> None:
    """Count one publish of `count` messages (the relay's; `error` when the broker did not take them)."""
    if error is not None:
        attributes = {**attributes, error_attributes.ERROR_TYPE: type(error).__qualname__}
    SENT.add(count, attributes)


def _counted(delivery: Delivery) -> tuple[Instruments, Mapping[str, str]]:
    current = _current.get()
    return current if current is not None else (GLOBAL, consumer_attributes(delivery, None, None))


def count_retried(delivery: Delivery, error: BaseException) -> None:
    """retry() nacked `delivery` after `error`: one more `edakit.messages.retried`."""
    instruments, attributes = _counted(delivery)
    instruments.retried.add(1, {**attributes, error_attributes.ERROR_TYPE: type(error).__qualname__})


def count_dead_lettered(delivery: Delivery, error: BaseException) -> None:
    """retry() dead-lettered `delivery` after `error`: one more `edakit.messages.dead_lettered`."""
    instruments, attributes = _counted(delivery)
    instruments.dead_lettered.add(1, {**attributes, error_attributes.ERROR_TYPE: type(error).__qualname__})


def count_duplicate(delivery: Delivery) -> None:
    """The idempotency middleware skipped `delivery` as processed: one more `edakit.messages.duplicates_skipped`."""
    instruments, attributes = _counted(delivery)
    instruments.duplicates_skipped.add(1, attributes)


def metrics(*, system: str | None = None, consumer_group: str | None = None,
            meter_provider: otel_metrics.MeterProvider | None = None) -> Middleware:
    """Record each delivery's processing duration and count it as consumed. Put it outside retry() (next to
    tracing()) so that the deliveries retry() settles count as failures with their outcome, and the retried,
    dead-lettered and duplicate counters of the middleware inside it use this provider and these attributes.

    `meter_provider` defaults to the global one (also one installed after the chain was built)."""
    instruments = GLOBAL if meter_provider is None else Instruments.of(meter_provider.get_meter(METER_NAME))
    cache: dict[tuple[object, ...], dict[str, str]] = {}  # the attributes of each (destination, group) seen

    def middleware(next_handler: Handler) -> Handler:
        def handle(delivery: Delivery) -> None:
            start = time.perf_counter()
            key = _attribute_key(delivery)
            attributes = cache.get(key)
            if attributes is None:
                if len(cache) >= ATTRIBUTE_CACHE_LIMIT:
                    cache.clear()
                attributes = cache[key] = consumer_attributes(delivery, system, consumer_group)
            instruments.consumed.add(1, attributes)
            token = _current.set((instruments, attributes))
            try:
                next_handler(delivery)
            except Exception as exc:
                instruments.process_duration.record(
                    time.perf_counter() - start, {**attributes, error_attributes.ERROR_TYPE: type(exc).__qualname__})
                raise
            finally:
                _current.reset(token)
            settled = getattr(delivery, "settled", None)
            if settled in ("nacked", "dead-lettered"):
                instruments.process_duration.record(
                    time.perf_counter() - start, {**attributes, error_attributes.ERROR_TYPE: settled.replace("-", "_")})
            else:
                instruments.process_duration.record(time.perf_counter() - start, attributes)

        return handle

    return middleware
