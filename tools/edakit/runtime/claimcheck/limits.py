"""Message size limits of the brokers and the default claim-check thresholds below them.

A broker counts more than the payload (attributes, the CloudEvents envelope in structured mode, where a binary
payload is also base64-encoded: 4/3 of its size), so the default threshold is three quarters of the limit: a payload
at the threshold still fits after base64 with room for the attributes. Limits, as documented:

- sqs-sns: SNS accepts 256 KiB per message, attributes included ("Amazon SNS message quotas"); SQS accepts 1 MiB
  since August 2025, but the kit publishes through SNS, so SNS's limit bounds every fan-out.
- kafka: the topic's `max.message.bytes`, default 1 MiB + 12 bytes (1048588, the broker's `message.max.bytes`),
  and the producer's `max.request.size`, default 1 MiB.
- pubsub: 10 MB per message, data and attributes ("Pub/Sub quotas and limits").
- event-grid: 1 MB per event and per published array (a larger one is refused with 413).
- eventbridge: 1 MB per event since January 2026 (256 KB before).
- embedded: no limit of its own; it takes SNS's, so a local run offloads what the strictest cloud broker would.
"""

from __future__ import annotations

KIB = 1024
MIB = 1024 * KIB

MESSAGE_LIMIT_BYTES: dict[str, int] = {
    "sqs-sns": 256 * KIB,
    "kafka": 1 * MIB,
    "pubsub": 10_000_000,
    "event-grid": 1_000_000,  # "1 MB": taken as the smaller reading
    "eventbridge": 1_000_000,
    "embedded": 256 * KIB,
}


def default_threshold(broker: str) -> int:
    """Payloads above this many bytes are offloaded on `broker` unless the spec sets `threshold_bytes`."""
    try:
        return MESSAGE_LIMIT_BYTES[broker] * 3 // 4
    except KeyError:
        raise ValueError(f"claim-check: no message size limit known for broker {broker!r}; expected one of "
                         f"{', '.join(sorted(MESSAGE_LIMIT_BYTES))}") from None
