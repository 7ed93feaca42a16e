"""Every case of the three third-party conformance files (../shared/conformance), checked against the evaluators.

No case contradicts the services' documentation as far as we can tell, so no case is exempted: SNS cases marked
`policy_is_aws_valid: false` (a bare string as a policy value) must be rejected the way real SNS rejects them, and
EventBridge `_EXC` cases must fail with AWS's exact error text.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from edakit.routing import (
    InvalidEventPattern,
    InvalidSnsFilterPolicy,
    event_pattern_matches,
    pubsub_filter_matches,
    sns_filter_matches,
)

# the `conformance_dir` fixture's location; parametrization needs it at collection time, before fixtures exist
CONFORMANCE = Path(__file__).resolve().parents[3] / "shared" / "conformance"


def _cases(name: str, key: str) -> list[Any]:
    path = CONFORMANCE / name
    if not path.is_file():
        return []  # test_conformance_files_are_complete fails with the reason
    return [pytest.param(case, id=case["id"]) for case in json.loads(path.read_text())[key]]


@pytest.mark.parametrize("case", _cases("sns_filter_policy_localstack_unit.json", "match_cases"))
def test_sns_filter_policy_case(case: dict[str, Any]) -> None:
    def evaluate() -> bool:
        return sns_filter_matches(case["policy"], scope=case["scope"],
                                  message_attributes=case["message_attributes"], message=case["message"])

    if not case["policy_is_aws_valid"]:
        with pytest.raises(InvalidSnsFilterPolicy, match="must be an object or an array"):
            evaluate()
    else:
        assert evaluate() is case["expected_match"]


@pytest.mark.parametrize("case", _cases("eventbridge_patterns_localstack.json", "cases"))
def test_eventbridge_pattern_case(case: dict[str, Any]) -> None:
    if case.get("expected_error"):
        with pytest.raises(InvalidEventPattern) as raised:
            event_pattern_matches(case["pattern"], case["event"])
        assert str(raised.value) == case["aws_error_message"]
    else:
        assert event_pattern_matches(case["pattern"], case["event"]) is case["expected_match"]


@pytest.mark.parametrize("case", _cases("pubsub_filter_pstest.json", "cases"))
def test_pubsub_filter_case(case: dict[str, Any]) -> None:
    assert pubsub_filter_matches(case["filter"], case["attributes"]) is case["expected_match"]


@pytest.mark.parametrize(("name", "key", "count"), [
    ("sns_filter_policy_localstack_unit.json", "match_cases", 116),
    ("eventbridge_patterns_localstack.json", "cases", 155),
    ("pubsub_filter_pstest.json", "cases", 108),
])
def test_conformance_files_are_complete(conformance_dir: Path, name: str, key: str, count: int) -> None:
    """A missing, truncated or swapped file would silently shrink the parametrized tests above."""
    assert conformance_dir == CONFORMANCE
    assert len(json.loads((conformance_dir / name).read_text())[key]) == count
