"""Consume loop and middleware chain: tracing -> retry -> idempotency -> handler; retry's last step is the DLQ."""

from edakit.runtime.middleware.chain import Handler, Middleware, compose
from edakit.runtime.middleware.metrics import metrics
from edakit.runtime.middleware.retry import RetryPolicy, dead_letter_reason, retry
from edakit.runtime.middleware.router import Router, TrackedDelivery, handle
from edakit.runtime.middleware.tracing import batch_span, extract, trace_headers, tracer, tracing

__all__ = ["Handler", "Middleware", "RetryPolicy", "Router", "TrackedDelivery", "batch_span", "compose",
           "dead_letter_reason", "extract", "handle", "metrics", "retry", "trace_headers", "tracer", "tracing"]
