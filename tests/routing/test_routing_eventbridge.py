"""EventBridge event patterns: matcher properties against plain-Python references, array semantics, validation."""

from __future__ import annotations

import ipaddress
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from edakit.routing import InvalidEventPattern, event_pattern_matches, explain_event_pattern, validate_event_pattern
from edakit.routing.ruler import wildcard_complexity

short_text = st.text(alphabet="abAB-/*.", max_size=6)
scalars = st.one_of(short_text, st.integers(-5, 5), st.floats(-5, 5, allow_nan=False), st.booleans(), st.none())


def matches(condition: Any, value: Any) -> bool:
    return event_pattern_matches({"detail": {"k": [condition]}}, {"detail": {"k": value}})


def glob(pattern: str, text: str) -> bool:
    """Reference wildcard matcher: `*` spans any run of characters (no escapes in generated patterns)."""
    if not pattern:
        return not text
    if pattern[0] == "*":
        return any(glob(pattern[1:], text[i:]) for i in range(len(text) + 1))
    return bool(text) and text[0] == pattern[0] and glob(pattern[1:], text[1:])


@given(st.text(alphabet="ab", max_size=4), scalars)
def test_string_matchers_follow_python_semantics(pattern: str, value: Any) -> None:
    is_text = isinstance(value, str)
    assert matches({"prefix": pattern}, value) == (is_text and value.startswith(pattern))
    assert matches({"suffix": pattern}, value) == (is_text and value.endswith(pattern))
    assert matches({"equals-ignore-case": pattern.upper()}, value) == (is_text and value.casefold() == pattern)
    assert matches({"prefix": {"equals-ignore-case": pattern.upper()}}, value) == (
        is_text and value.casefold().startswith(pattern))


@given(st.text(alphabet="ab*", max_size=5).filter(lambda p: "**" not in p), st.text(alphabet="ab", max_size=6))
def test_wildcard_matches_like_a_glob(pattern: str, text: str) -> None:
    assert matches({"wildcard": pattern}, text) == glob(pattern, text)
    assert matches({"anything-but": {"wildcard": pattern}}, text) == (not glob(pattern, text))


@given(st.sampled_from([">", ">=", "<", "<=", "="]), st.integers(-5, 5), st.one_of(st.integers(-9, 9), short_text))
def test_numeric_compares_numbers_only(op: str, bound: int, value: Any) -> None:
    reference = {">": int.__gt__, ">=": int.__ge__, "<": int.__lt__, "<=": int.__le__, "=": int.__eq__}[op]
    assert matches({"numeric": [op, bound]}, value) == (isinstance(value, int) and reference(value, bound))


@given(st.integers(-5, 4), st.integers(1, 5), st.floats(-9, 9, allow_nan=False))
def test_numeric_ranges(low: int, width: int, value: float) -> None:
    high = low + width
    assert matches({"numeric": [">", low, "<=", high]}, value) == (low < value <= high)
    assert matches({"numeric": [">=", low, "<", high]}, value) == (low <= value < high)


@given(st.lists(st.sampled_from(["a", "b", 1, 2]), min_size=1, max_size=3), scalars)
def test_anything_but_values(excluded: list[Any], value: Any) -> None:
    # "anything but" still needs the field: null counts as a value, a missing field does not
    assert matches({"anything-but": excluded}, value) == (value not in excluded or isinstance(value, bool))
    assert not event_pattern_matches({"k": [{"anything-but": excluded}]}, {})


@given(st.ip_addresses(v=4), st.integers(8, 32))
def test_cidr(address: ipaddress.IPv4Address, bits: int) -> None:
    network = ipaddress.ip_network(f"10.1.2.3/{bits}", strict=False)
    assert matches({"cidr": f"10.1.2.3/{bits}"}, str(address)) == (address in network)


condition = st.one_of(scalars, st.sampled_from([{"prefix": "a"}, {"exists": True}, {"numeric": [">", 0]},
                                                 {"anything-but": ["a"]}, {"wildcard": "*b"}]))


@given(condition, st.lists(scalars, max_size=4))
def test_array_values_match_when_any_element_matches(cond: Any, elements: list[Any]) -> None:
    expected = any(matches(cond, e) for e in elements) if cond != {"exists": True} else bool(elements)
    assert matches(cond, elements) == expected


@given(st.dictionaries(st.sampled_from(["a", "b"]), st.one_of(scalars, st.lists(scalars, max_size=2)), max_size=2))
def test_exists_false_is_the_complement_of_exists_true(detail: dict[str, Any]) -> None:
    event = {"detail": detail}
    assert event_pattern_matches({"detail": {"a": [{"exists": False}]}}, event) != event_pattern_matches(
        {"detail": {"a": [{"exists": True}]}}, event)


@given(st.dictionaries(st.sampled_from(["a", "b"]), st.lists(condition, min_size=1, max_size=2), min_size=1),
       st.dictionaries(st.sampled_from(["a", "b"]), st.lists(condition, min_size=1, max_size=2), min_size=1),
       st.dictionaries(st.sampled_from(["a", "b", "c"]), scalars))
def test_or_is_any_alternative(left: dict[str, Any], right: dict[str, Any], detail: dict[str, Any]) -> None:
    event = {"detail": detail}
    combined = event_pattern_matches({"detail": {"$or": [left, right]}}, event)
    assert combined == (event_pattern_matches({"detail": left}, event)
                        or event_pattern_matches({"detail": right}, event))


def test_exists_false_on_empty_arrays_and_missing_parents() -> None:
    assert event_pattern_matches({"resources": [{"exists": False}]}, {"resources": []})
    assert not event_pattern_matches({"resources": [{"exists": True}]}, {"resources": []})
    assert event_pattern_matches({"detail": {"a": {"b": [{"exists": False}]}}}, {"detail": {}})
    # an object is not a leaf: exists looks at leaves only
    assert not event_pattern_matches({"detail": {"a": [{"exists": True}]}}, {"detail": {"a": {"b": 1}}})


def test_wildcard_escapes() -> None:
    assert matches({"wildcard": "a\\*b*"}, "a*bc")
    assert not matches({"wildcard": "a\\*b*"}, "axbc")
    assert matches({"wildcard": "a\\\\b"}, "a\\b")


@pytest.mark.parametrize(("pattern", "reason"), [
    ({"k": [{"wildcard": "a\\b"}]}, "Invalid escape character at pos 1"),
    ({"k": [{"wildcard": "a**"}]}, "Consecutive wildcard characters at pos 2"),
    ({"k": [{"prefix": "a", "suffix": "b"}]}, "Only one key allowed in match expression"),
    ({"k": [{"cidr": "10.0.0.0/33"}]}, "Malformed CIDR, mask bits must be between 0 and 32"),
    ({"k": [{"anything-but": []}]}, "Inside anything but list, start|null|boolean is not supported."),
    ({"k": [{"anything-but": {"cidr": "10.0.0.0/8"}}]},
     "Value of anything-but must be an array or single string/number value."),
    ({"k": [{"anything-but": {"foo": "x"}}]}, "Unsupported anything-but pattern: foo"),
    ({"k": [{"numeric": [">", 5_000_000_001]}]}, "Value of > must be numeric"),
    ('{"k": [1]', "Filter is not valid JSON"),
    ("[]", "Filter is not an object"),
])
def test_invalid_patterns(pattern: Any, reason: str) -> None:
    with pytest.raises(InvalidEventPattern) as raised:
        validate_event_pattern(pattern)
    assert str(raised.value).startswith(f"Event pattern is not valid. Reason: {reason}")


def test_wildcard_complexity_counts_simultaneous_positions() -> None:
    assert wildcard_complexity("literal") == 1
    assert wildcard_complexity("a*") == 2
    assert wildcard_complexity("*:*:*:*:*:event-bus/*") > wildcard_complexity("/Users/*/dir/dir/dir/dir/dir/doc.txt")


def test_patterns_and_events_as_json_text() -> None:
    pattern = json.dumps({"source": ["orders"], "detail": {"total": [{"numeric": [">", 10]}]}})
    assert event_pattern_matches(pattern, json.dumps({"source": "orders", "detail": {"total": 11}}))


def test_explanation() -> None:
    pattern = {"source": ["orders"], "detail-type": [{"prefix": "Order"}],
               "detail": {"total": [{"numeric": [">", 10]}]}}
    event = {"source": "orders", "detail-type": "RefundIssued", "detail": {"total": 3.5}}
    assert explain_event_pattern(pattern, event) == [
        'detail-type: ["RefundIssued"] does not match [{"prefix": "Order"}]',
        'detail.total: [3.5] does not match [{"numeric": [">", 10]}]',
    ]
