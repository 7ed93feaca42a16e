"""JSON-lines logs for the worker: every record one JSON object, and the records written while a message is handled
carry its `message_id`, `trace_id`, `topic` and `subscriber` (log aggregators index these fields; a line of text
would have to be parsed back).

The context comes from `log_context(subscriber, topic)`, a middleware the worker puts inside `tracing()` (so the
trace id is the one of the `process` span when an SDK records spans, else the one the message's `traceparent`
carries); any logger the handler or the kit's middlewares use gets the fields, no logger needs to be changed.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime, timezone
from typing import IO

import orjson
from opentelemetry import trace

from edakit.redact import redact
from edakit.runtime.adapters.base import Delivery
from edakit.runtime.middleware.chain import Handler, Middleware

CONTEXT_FIELDS = ("message_id", "trace_id", "topic", "subscriber")
_TRACEPARENT = re.compile(r"^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$")
_context: ContextVar[Mapping[str, str] | None] = ContextVar("edakit_worker_log_context", default=None)


def trace_id_of(delivery: Delivery) -> str | None:
    """The trace id the handling runs in: the current span's when one records, else the message's traceparent's."""
    span_context = trace.get_current_span().get_span_context()
    if span_context.is_valid:
        return trace.format_trace_id(span_context.trace_id)
    match = _TRACEPARENT.match(delivery.message.headers.get("traceparent", ""))
    if match is None or match.group(1) == "0" * 32:
        return None
    return match.group(1)


@contextmanager
def context(**fields: str | None) -> Iterator[None]:
    """Add `fields` (None values left out) to every record logged in the block, on this thread or task."""
    token = _context.set({**(_context.get() or {}), **{k: v for k, v in fields.items() if v is not None}})
    try:
        yield
    finally:
        _context.reset(token)


def log_context(subscriber: str, topic: str) -> Middleware:
    """Records logged while a delivery is handled carry its message id, trace id, topic and subscriber."""

    def middleware(next_handler: Handler) -> Handler:
        def handle(delivery: Delivery) -> None:
            with context(message_id=delivery.message.id, trace_id=trace_id_of(delivery), topic=topic,
                         subscriber=subscriber):
                next_handler(delivery)

        return handle

    return middleware


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time (UTC, RFC 3339), level, logger, message, the handling context, `error` with
    the traceback for exceptions, and whatever `extra={...}` passed. Messages and errors are redacted
    (edakit.redact): a driver's error may quote its DSN."""

    _STANDARD = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "taskName"}

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname, "logger": record.name, "message": redact(record.getMessage())}
        line.update(_context.get() or {})
        for name, value in record.__dict__.items():
            if name not in self._STANDARD and not name.startswith("_"):
                line.setdefault(name, value)
        if record.exc_info:
            line["error"] = redact(self.formatException(record.exc_info))
        try:
            return orjson.dumps(line, default=str).decode()
        except TypeError:  # what orjson cannot encode natively (an int beyond 64 bits): the stdlib can
            return json.dumps(line, default=str, ensure_ascii=False)


def configure(level: str = "INFO", stream: IO[str] | None = None) -> logging.Handler:
    """Send every logger's records to `stream` (stderr) as JSON lines, at `level` and above; returns the handler."""
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    for existing in list(root.handlers):
        root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(level.upper())
    return handler
