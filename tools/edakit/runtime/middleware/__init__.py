"""Consume loop and middleware chain: tracing -> retry -> idempotency -> handler; retry's last step is the DLQ."""

from edakit.runtime.middleware.chain import Handler, Middleware, compose
from edakit.runtime.middleware.retry import RetryPolicy, dead_letter_reason, retry
from edakit.runtime.middleware.router import Router, TrackedDelivery, handle
from edakit.runtime.middleware.tracing import (SpanContext, child_of, current_span, new_trace, parse_traceparent,
                                               tracing)

__all__ = ["Handler", "Middleware", "RetryPolicy", "Router", "SpanContext", "TrackedDelivery", "child_of", "compose",
           "current_span", "dead_letter_reason", "handle", "new_trace", "parse_traceparent", "retry", "tracing"]
