"""The W3C trace headers in the publish contract: every channel allows `traceparent`/`tracestate` undeclared, and
`traceparent` counts against the attribute budget (spec check, lint EDA030, the publishers)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edakit.brokers.attributes import RESERVED_HEADERS, AttributeContract, AttributeContractError
from edakit.lint import lint_paths
from edakit.runtime.adapters import pubsub as pubsub_adapter
from edakit.runtime.adapters import sqs_sns as sns_adapter
from edakit.runtime.message import Message

LINT_FIXTURES = Path(__file__).parents[1] / "lint" / "fixtures"
TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


def message(headers: dict[str, str]) -> Message:
    return Message(id="m-1", type="OrderPlaced", source="urn:shop", payload=b"{}",
                   time=datetime(2026, 1, 1, tzinfo=UTC), key="k", subject="s", headers=headers)


def test_a_contract_that_declares_no_headers_still_carries_the_trace_headers() -> None:
    found = AttributeContract("orders", "ce-", frozenset(), (), 100)
    traced = message({"traceparent": TRACEPARENT, "tracestate": "vendor=1"})
    _, attributes = pubsub_adapter.encode(traced, None, found)
    assert attributes["ce-traceparent"] == TRACEPARENT and attributes["ce-tracestate"] == "vendor=1"
    assert {"ce-traceparent", "ce-tracestate"} <= found.names()
    with pytest.raises(AttributeContractError, match=r"sets header\(s\) baggage, which the spec does not declare"):
        pubsub_adapter.encode(message({"traceparent": TRACEPARENT, "baggage": "x"}), None, found)


@settings(max_examples=30, deadline=None)
@given(declared=st.sets(st.sampled_from(["traceparent", "tracestate", "payable", "tenant"])))
def test_traceparent_counts_once_whether_declared_or_not(declared: set[str]) -> None:
    found = AttributeContract("orders", "ce_", frozenset(declared), (), None)
    # 5 context attributes + subject + partitionkey + content-type, the declared headers, traceparent once
    assert found.most_attributes() == 8 + len(declared | {"traceparent"})
    assert RESERVED_HEADERS == {"traceparent", "tracestate"}


def test_the_sns_publisher_counts_the_trace_headers_it_sends() -> None:
    found = AttributeContract("orders", "ce_", frozenset(), (), 9)
    sns_adapter.encode(message({"traceparent": TRACEPARENT}), contract=found, topic="orders")  # 8 + 1 = 9
    with pytest.raises(AttributeContractError, match="would carry 10 message attributes"):
        sns_adapter.encode(message({"traceparent": TRACEPARENT, "tracestate": "v=1"}), contract=found, topic="orders")


def test_eda030_counts_traceparent_against_the_raw_delivery_budget(tmp_path: Path) -> None:
    """8 CloudEvents attributes + 2 native = 10 fit SQS raw delivery, but not with the traceparent every traced
    message carries."""
    spec = (LINT_FIXTURES / "EDA030" / "pass" / "spec.yaml").read_text()
    assert "      headers: [traceparent]\n" in spec
    spec = spec.replace("      headers: [traceparent]\n", "").replace(
        "        event_type: type\n", "        event_type: type\n        event_subject: subject\n")
    (tmp_path / "schemas").symlink_to(Path(__file__).parents[2] / "schemas")  # schema paths: from the root
    (tmp_path / "spec.yaml").write_text(spec)
    findings = [f for f in lint_paths([tmp_path / "spec.yaml"], None) if f.rule_id == "EDA030"]
    assert len(findings) == 1 and "carries 11, more than the 10" in findings[0].message
    assert "traceparent" in findings[0].message
