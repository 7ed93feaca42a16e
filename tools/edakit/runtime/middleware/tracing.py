"""W3C Trace Context: each handled message runs in a child span of the `traceparent` it carries; `new_trace` and
`child_of` start spans in your own code."""

from __future__ import annotations

import re
import secrets
from contextvars import ContextVar
from dataclasses import dataclass

from edakit.runtime.adapters.base import Delivery
from edakit.runtime.middleware.chain import Handler, Middleware

# version 00: trace-id (32 hex, not all zero), parent-id (16 hex, not all zero), flags (2 hex).
TRACEPARENT = re.compile(r"00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})")


@dataclass(frozen=True)
class SpanContext:
    trace_id: str
    span_id: str
    flags: str = "01"
    tracestate: str | None = None

    @property
    def traceparent(self) -> str:
        return f"00-{self.trace_id}-{self.span_id}-{self.flags}"

    def headers(self) -> dict[str, str]:
        """Headers for messages published while this span is current (propagates the trace)."""
        out = {"traceparent": self.traceparent}
        if self.tracestate:
            out["tracestate"] = self.tracestate
        return out


current_span: ContextVar[SpanContext | None] = ContextVar("edakit_current_span", default=None)


def parse_traceparent(value: str) -> SpanContext | None:
    """The sender's span, or None when `value` is not a valid version-00 traceparent (then a new trace starts)."""
    match = TRACEPARENT.fullmatch(value)
    if match is None or set(match[1]) == {"0"} or set(match[2]) == {"0"}:
        return None
    return SpanContext(trace_id=match[1], span_id=match[2], flags=match[3])


def new_trace(tracestate: str | None = None) -> SpanContext:
    """A root span: start a trace where a request enters your service (pass `span.headers()` on to its events)."""
    return SpanContext(trace_id=secrets.token_hex(16), span_id=secrets.token_hex(8), tracestate=tracestate)


def child_of(parent: SpanContext, tracestate: str | None = None) -> SpanContext:
    """A new span in `parent`'s trace (same trace id and flags, a fresh span id; `parent`'s tracestate unless one
    is given): one unit of work under it."""
    return SpanContext(trace_id=parent.trace_id, span_id=secrets.token_hex(8), flags=parent.flags,
                       tracestate=tracestate if tracestate is not None else parent.tracestate)


def tracing() -> Middleware:
    def middleware(next_handler: Handler) -> Handler:
        def handle(delivery: Delivery) -> None:
            headers = delivery.message.headers
            parent = parse_traceparent(headers.get("traceparent", ""))
            tracestate = headers.get("tracestate")
            # a message without a valid traceparent starts a new trace rather than failing
            span = child_of(parent, tracestate) if parent is not None else new_trace(tracestate)
            token = current_span.set(span)
            try:
                next_handler(delivery)
            finally:
                current_span.reset(token)

        return handle

    return middleware
