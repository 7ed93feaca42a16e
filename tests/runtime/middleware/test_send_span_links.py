"""The relay's send span links each message's stored context; a message without `traceparent` is skipped before the
propagator runs (most relayed rows): the links must be what extracting every message's headers gives."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from opentelemetry import trace

from edakit.runtime.middleware.tracing import _link, extract

TRACEPARENTS = st.sampled_from(["00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",  # valid
                                "00-00000000000000000000000000000000-b7ad6b7169203331-01",  # invalid trace id
                                "garbage", ""])
headers = st.dictionaries(st.sampled_from(["traceparent", "tracestate", "tenant"]), st.text(max_size=20), max_size=3)


def reference(h: dict[str, str]) -> trace.SpanContext | None:
    context = trace.get_current_span(extract(h)).get_span_context()
    return context if context.is_valid else None


@given(headers, st.none() | TRACEPARENTS)
def test_a_link_is_made_exactly_when_the_headers_carry_a_valid_context(h, traceparent):
    if traceparent is not None:
        h = {**h, "traceparent": traceparent}
    link = _link(h)
    expected = reference(h)
    assert (link.context if link is not None else None) == expected
    if "traceparent" not in h:
        assert link is None
