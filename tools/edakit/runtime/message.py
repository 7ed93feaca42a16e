"""The one message type every adapter carries: a CloudEvents 1.0 event with bytes payload."""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from types import MappingProxyType

# CloudEvents 1.0 context attributes; extensions may not reuse these names.
CONTEXT_ATTRIBUTES = frozenset(
    {"id", "type", "source", "specversion", "time", "subject", "datacontenttype", "dataschema", "data", "data_base64"}
)
# CloudEvents 1.0: attribute names are lower-case ASCII letters and digits.
EXTENSION_NAME = re.compile(r"[a-z0-9]+")


NO_HEADERS: Mapping[str, str] = MappingProxyType({})


class MessageError(ValueError):
    """A message that cannot be represented as a CloudEvent."""


def check_headers(headers: Mapping[str, str]) -> None:
    """Raise MessageError unless every header is a CloudEvents extension attribute with a str value."""
    for name, value in headers.items():
        if not EXTENSION_NAME.fullmatch(name) or name in CONTEXT_ATTRIBUTES or name == "partitionkey":
            raise MessageError(
                f"header {name!r}: expected a CloudEvents extension name (lower-case a-z, 0-9), "
                f"not one of the context attributes"
            )
        if not isinstance(value, str):
            raise MessageError(f"header {name!r}: value must be str, got {type(value).__name__}")


@dataclass(frozen=True, slots=True)
class Message:
    """One event.

    `id` is the CloudEvents id: stable across retries and replays, so it is the idempotency key.
    `headers` are CloudEvents extension attributes (e.g. W3C `traceparent`, `tracestate`): names follow the
    CloudEvents naming rule (lower-case letters and digits) so every broker binding can carry them.
    """

    id: str
    type: str
    source: str
    payload: bytes
    time: datetime
    content_type: str = "application/json"
    key: str | None = None
    subject: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in ("id", "type", "source", "content_type"):
            if not getattr(self, name):
                raise MessageError(f"Message.{name} must be a non-empty string")
        if not isinstance(self.payload, bytes):
            raise MessageError(f"Message.payload must be bytes, got {type(self.payload).__name__}")
        if self.time.tzinfo is None:
            raise MessageError("Message.time must be timezone-aware")
        check_headers(self.headers)
        # Normalise: UTC time, immutable header mapping (the dataclass is frozen, its headers should be too).
        object.__setattr__(self, "time", self.time.astimezone(timezone.utc))
        object.__setattr__(self, "headers", MappingProxyType(dict(self.headers)))

    @classmethod
    def new(
        cls,
        type: str,
        payload: bytes,
        *,
        source: str,
        key: str | None = None,
        subject: str | None = None,
        headers: Mapping[str, str] | None = None,
        content_type: str = "application/json",
    ) -> Message:
        """A fresh event: random uuid4 id, current UTC time."""
        return cls(
            id=str(uuid.uuid4()),
            type=type,
            source=source,
            payload=payload,
            time=datetime.now(timezone.utc),
            content_type=content_type,
            key=key,
            subject=subject,
            headers=dict(headers or {}),
        )

    @classmethod
    def trusted(cls, id: str, type: str, source: str, payload: bytes, time: datetime, content_type: str,
                key: str | None, headers: Mapping[str, str]) -> Message:
        """A Message from data checked when it was written (outbox rows): no re-validation, as the relay builds one
        per row on its hot path. `time` must be timezone-aware."""
        message = object.__new__(cls)
        set_field = object.__setattr__  # what the frozen dataclass's own __init__ does, minus __post_init__
        set_field(message, "id", id)
        set_field(message, "type", type)
        set_field(message, "source", source)
        set_field(message, "payload", payload)
        set_field(message, "time", time.astimezone(timezone.utc))
        set_field(message, "content_type", content_type)
        set_field(message, "key", key)
        set_field(message, "subject", None)
        set_field(message, "headers", MappingProxyType(headers) if headers else NO_HEADERS)
        return message

    def __hash__(self) -> int:
        # headers is a mapping (unhashable); the id identifies the event.
        return hash(self.id)
