"""OpenTelemetry metrics by the messaging semantic conventions, through `opentelemetry-api` only.

- `messaging.process.duration` (histogram, s): one per handled delivery, by the `metrics()` middleware; `error.type`
  set when the handler raised (its exception class) or `retry()` settled the delivery as `nacked`/`dead_lettered`.
- `messaging.client.consumed.messages` (counter): deliveries handed to the handler, by `metrics()`.
- `messaging.client.sent.messages` (counter): messages the relay published (`error.type` on a failed publish).

Attributes: `messaging.system`, `messaging.destination.name`, `messaging.consumer.group.name` (consumers),
`messaging.operation.name`, `error.type`; no per-message values (bounded cardinality). A Prometheus exporter or
the OpenTelemetry Collector writes them as `messaging_process_duration_seconds_{bucket,count,sum}`,
`messaging_client_consumed_messages_total`, `messaging_client_sent_messages_total` with the attributes as labels
(dots become underscores): the names the generated alert rules (alerts/README.md) read.

Nothing is recorded until the application installs an SDK MeterProvider (`opentelemetry-sdk`).
"""

from __future__ import annotations

import time
from collections.abc import Mapping

from opentelemetry import metrics as otel_metrics
from opentelemetry.semconv._incubating.attributes import messaging_attributes as msg
from opentelemetry.semconv._incubating.metrics import messaging_metrics
from opentelemetry.semconv.attributes import error_attributes

from edakit.runtime.adapters.base import Delivery
from edakit.runtime.middleware.chain import Handler, Middleware

METER_NAME = "edakit.runtime"
# Proxy instruments: they follow the MeterProvider the application installs, also after this import.
_METER = otel_metrics.get_meter(METER_NAME)
PROCESS_DURATION = messaging_metrics.create_messaging_process_duration(_METER)
CONSUMED = messaging_metrics.create_messaging_client_consumed_messages(_METER)
SENT = messaging_metrics.create_messaging_client_sent_messages(_METER)


def consumer_attributes(delivery: Delivery, system: str | None, group: str | None) -> dict[str, str]:
    from edakit.runtime.middleware.tracing import system_of  # the one mapping of adapters to messaging.system

    metadata = delivery.metadata
    destination = delivery.source
    if "queue_url" in metadata:  # SQS: the queue, as in the spans
        destination = metadata["queue_url"].rstrip("/").rpartition("/")[2]
    return {msg.MESSAGING_SYSTEM: system or system_of(delivery), msg.MESSAGING_DESTINATION_NAME: destination,
            msg.MESSAGING_CONSUMER_GROUP_NAME: group or metadata.get("group") or metadata.get("subscription")
            or destination, msg.MESSAGING_OPERATION_NAME: "process"}


def record_sent(attributes: Mapping[str, str], count: int, error: BaseException | None) -> None:
    """Count one publish of `count` messages (the relay's; `error` when the broker did not take them)."""
    if error is not None:
        attributes = {**attributes, error_attributes.ERROR_TYPE: type(error).__qualname__}
    SENT.add(count, attributes)


def metrics(*, system: str | None = None, consumer_group: str | None = None) -> Middleware:
    """Record each delivery's processing duration and count it as consumed. Put it outside retry() (next to
    tracing()) so that the deliveries retry() settles count as failures with their outcome."""

    def middleware(next_handler: Handler) -> Handler:
        def handle(delivery: Delivery) -> None:
            start = time.perf_counter()
            attributes = consumer_attributes(delivery, system, consumer_group)
            CONSUMED.add(1, attributes)
            try:
                next_handler(delivery)
            except Exception as exc:
                PROCESS_DURATION.record(time.perf_counter() - start,
                                        {**attributes, error_attributes.ERROR_TYPE: type(exc).__qualname__})
                raise
            settled = getattr(delivery, "settled", None)
            if settled in ("nacked", "dead-lettered"):
                attributes = {**attributes, error_attributes.ERROR_TYPE: settled.replace("-", "_")}
            PROCESS_DURATION.record(time.perf_counter() - start, attributes)

        return handle

    return middleware
