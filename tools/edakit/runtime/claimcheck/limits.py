"""Message size limits of the brokers and the default claim-check thresholds below them.

A broker counts more than the payload: the attributes, and on the JSON bindings (SNS/SQS structured mode, Event Grid,
EventBridge) the CloudEvents envelope, where a binary payload is base64-encoded to 4/3 of its size. A default
threshold leaves room for that: threshold x expansion + ATTRIBUTE_ROOM stays within the limit (a test checks each).
Limits, as documented:

- sqs-sns: SNS accepts 256 KiB per message, attributes included ("Amazon SNS message quotas"); SQS accepts 1 MiB
  since August 2025, but the kit publishes through SNS, so SNS's limit bounds every fan-out.
- kafka: the topic's `max.message.bytes`, default 1 MiB + 12 bytes (1048588, the broker's `message.max.bytes`),
  and the producer's `max.request.size`, default 1 MiB. Record values are bytes: no base64.
- pubsub: 10 MB per message, data and attributes ("Pub/Sub quotas and limits"). Data is bytes.
- event-grid: 1 MB per event and per published array (a larger one is refused with 413).
- eventbridge: 1 MB per event since January 2026 (256 KB before).
- embedded: no limit of its own; it takes SNS's, so a local run offloads what the strictest cloud broker would.
"""

from __future__ import annotations

from dataclasses import dataclass

KIB = 1024
MIB = 1024 * KIB
ATTRIBUTE_ROOM = 16 * KIB  # attributes and envelope: ten SQS attributes of a few hundred bytes fit many times over


@dataclass(frozen=True)
class SizeLimit:
    limit_bytes: int  # the largest message the broker accepts
    base64: bool  # a binary payload may travel base64-encoded in a JSON body
    default_threshold: int  # payloads above this many bytes are offloaded by default


LIMITS: dict[str, SizeLimit] = {
    "sqs-sns": SizeLimit(256 * KIB, base64=True, default_threshold=176 * KIB),
    "kafka": SizeLimit(1 * MIB, base64=False, default_threshold=768 * KIB),
    "pubsub": SizeLimit(10_000_000, base64=False, default_threshold=7_500_000),
    "event-grid": SizeLimit(1_000_000, base64=True, default_threshold=704 * KIB),  # "1 MB": the smaller reading
    "eventbridge": SizeLimit(1_000_000, base64=True, default_threshold=704 * KIB),
    "embedded": SizeLimit(256 * KIB, base64=True, default_threshold=176 * KIB),
}
MESSAGE_LIMIT_BYTES = {broker: limit.limit_bytes for broker, limit in LIMITS.items()}


def default_threshold(broker: str) -> int:
    """Payloads above this many bytes are offloaded on `broker` unless the spec sets `threshold_bytes`."""
    try:
        return LIMITS[broker].default_threshold
    except KeyError:
        raise ValueError(f"claim-check: no message size limit known for broker {broker!r}; expected one of "
                         f"{', '.join(sorted(LIMITS))}") from None
