"""The outbox row: an event written in the business transaction, published later by the relay."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone

from edakit.runtime.message import check_headers


def _now() -> datetime:
    return datetime.now(timezone.utc)


@dataclass(frozen=True, slots=True)
class OutboxEvent:
    """One event to publish to `topic`; `event_id` becomes the CloudEvents id (the consumers' idempotency key).

    The broker key defaults to the aggregate id so partitioned brokers keep per-aggregate order too
    (see `schema.to_message`, which builds the published Message from the stored row).
    """

    aggregate_type: str
    aggregate_id: str
    event_type: str
    payload: bytes
    topic: str
    source: str
    event_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    created_at: datetime = field(default_factory=_now)
    key: str | None = None
    content_type: str = "application/json"
    headers: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # Everything Message checks is checked here, once: the relay builds Messages from rows without re-checking.
        for name in ("aggregate_type", "aggregate_id", "event_type", "topic", "source", "event_id", "content_type"):
            if not getattr(self, name):
                raise ValueError(f"OutboxEvent.{name} must be a non-empty string")
        if not isinstance(self.payload, bytes):
            raise ValueError(f"OutboxEvent.payload must be bytes, got {type(self.payload).__name__}")
        if self.created_at.tzinfo is None:
            raise ValueError("OutboxEvent.created_at must be timezone-aware")
        check_headers(self.headers)
