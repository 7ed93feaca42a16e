"""The OpenTelemetry SDK with an in-memory exporter, installed once for the test process (the global provider can be
set only once): tests read the spans their own code ended, by trace id."""

from __future__ import annotations

from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

EXPORTER = InMemorySpanExporter()
_installed = False


def install() -> InMemorySpanExporter:
    """Install an SDK provider exporting to EXPORTER (or add EXPORTER to the SDK provider already installed)."""
    global _installed
    if not _installed:
        provider = trace.get_tracer_provider()
        if not isinstance(provider, TracerProvider):
            provider = TracerProvider()
            trace.set_tracer_provider(provider)
        provider = trace.get_tracer_provider()
        assert isinstance(provider, TracerProvider), "another provider than the SDK's is installed"
        provider.add_span_processor(SimpleSpanProcessor(EXPORTER))
        _installed = True
    return EXPORTER


def spans_of(trace_id: int) -> list[ReadableSpan]:
    return [s for s in EXPORTER.get_finished_spans() if s.context.trace_id == trace_id]


def by_name(spans: list[ReadableSpan], name: str) -> list[ReadableSpan]:
    return [s for s in spans if s.name == name]
