"""Amazon EventBridge event patterns: validation with the service's error text, matching, explanations."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from edakit.routing import ruler
from edakit.routing.errors import InvalidEventPattern
from edakit.spec.limits import MAX_DEPTH, json_too_deep

_DIALECT = ruler.Dialect(
    error=lambda reason: InvalidEventPattern(f"Event pattern is not valid. Reason: {reason}"),
    match_types=ruler.MATCH_TYPES,
    anything_but_forms=frozenset({"prefix", "suffix", "wildcard", "equals-ignore-case"}),
    numeric_limit=Decimal("5e9"),  # EventBridge numeric matching covers -5.0e9..5.0e9
)


def compile_event_pattern(pattern: dict[str, Any] | str) -> ruler.Node:
    """Validate a pattern (dict or its JSON text); raises InvalidEventPattern with the service's message."""
    if isinstance(pattern, str):
        pattern = ruler.parse_json_document(pattern, _DIALECT)
    if not isinstance(pattern, dict):
        raise _DIALECT.error("Filter is not an object")
    ruler.check_depth(pattern, _DIALECT)
    return ruler.compile_pattern(pattern, _DIALECT)


def validate_event_pattern(pattern: dict[str, Any] | str) -> None:
    compile_event_pattern(pattern)


def explain_event_pattern(pattern: dict[str, Any] | str, event: dict[str, Any] | str) -> list[str]:
    """Reasons the event does not match (one per failed field or `$or` group); empty when it matches."""
    node = compile_event_pattern(pattern)
    if isinstance(event, str) and json_too_deep(event) is not None:
        raise ValueError(f"the event is nested more than {MAX_DEPTH} levels deep")  # as json.loads fails on bad JSON
    document = json.loads(event) if isinstance(event, str) else event
    return ruler.explain(node, ruler.flatten(document))


def event_pattern_matches(pattern: dict[str, Any] | str, event: dict[str, Any] | str) -> bool:
    return not explain_event_pattern(pattern, event)
