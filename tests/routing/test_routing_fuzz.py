"""The four filter parsers never crash: whatever the input (near-valid filters, arbitrary JSON, text, deep nesting,
huge numbers, lone surrogates), validation raises the broker's InvalidFilterError or accepts, and an accepted filter
evaluates against any JSON event. A filter comes from a spec in a pull request: untrusted input."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edakit.routing import (
    InvalidFilterError,
    explain_event_pattern,
    explain_eventgrid,
    explain_pubsub,
    explain_sns,
    format_pubsub_filter,
    parse_pubsub_filter,
    validate_event_pattern,
    validate_eventgrid_filter,
    validate_pubsub_filter,
    validate_sns_filter_policy,
)
from edakit.routing.eventgrid import OPERATOR_TYPES
from edakit.routing.ruler import MATCH_TYPES

FUZZ = settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Generators stay cheap (a few choices per example) so 500 examples take about a second: words from a vocabulary of
# what filters contain, plus the values people and attackers write (lone surrogates, digits int() refuses,
# numbers past every limit, escapes), plus short arbitrary text.
words = st.sampled_from(["a", "b", "v", "OrderPlaced", "10.0.0.0/8", "ab*", "*", "**", "\\", "a\\", "\\*", "",
                         " ", "\ud800", "\udfff", "²", "٣", "1e400", "-0", "NaN", "1" * 4400, "\x00", "é", "$or",
                         "prefix", "numeric", ">", "<=", "x" * 600])
scalar = st.one_of(st.none(), st.booleans(), st.integers(-(10**12), 10**12), st.floats(), words,
                   st.text(max_size=4))
json_value = st.recursive(scalar, lambda inner: st.lists(inner, max_size=3)
                          | st.dictionaries(words, inner, max_size=3), max_leaves=5)
json_object = st.dictionaries(words, json_value, max_size=4)
tricky = words


def deep_json_text(depth: int) -> str:
    return '{"a": ' * depth + "[1]" + "}" * depth


def deep_object(depth: int) -> dict[str, Any]:
    pattern: dict[str, Any] = {"a": [1]}
    for _ in range(depth):
        pattern = {"a": pattern}
    return pattern


# --- SNS filter policies and EventBridge patterns (one JSON pattern language, two dialects) ----------------

cidr = st.one_of(
    st.tuples(st.sampled_from(["10.0.0.0", "::1", "fe80::1%eth0", "1.2.3", "300.1.1.1", ""]),
              st.text(alphabet="0123456789²٣/ ", max_size=5)).map("/".join),
    st.text(alphabet="0123456789./:%", max_size=12), json_value)
numeric = st.lists(st.one_of(st.sampled_from(["=", "<", "<=", ">", ">=", "!"]), st.integers(-10**10, 10**10),
                             st.floats(), scalar), max_size=5)
wildcard = st.text(alphabet="ab*\\", max_size=12)
match = st.one_of(
    st.builds(lambda kind, arg: {kind: arg}, st.sampled_from(sorted(MATCH_TYPES)),
              st.one_of(json_value, numeric, wildcard)),
    st.builds(lambda arg: {"cidr": arg}, cidr),
    st.builds(lambda arg: {"numeric": arg}, numeric),
    st.builds(lambda arg: {"wildcard": arg}, wildcard),
    st.builds(lambda form, arg: {"anything-but": {form: arg}},
              st.sampled_from(["prefix", "suffix", "wildcard", "equals-ignore-case", "numeric", "x"]),
              st.one_of(json_value, wildcard, st.lists(wildcard, max_size=3))),
    st.builds(lambda arg: {"anything-but": arg}, json_value),
    st.dictionaries(st.sampled_from(sorted(MATCH_TYPES)), json_value, min_size=2, max_size=3),
)
conditions = st.lists(st.one_of(scalar, match), max_size=3)
pattern = st.recursive(
    st.dictionaries(st.sampled_from(["a", "b", "detail", "$or"]), conditions, max_size=3),
    lambda inner: st.dictionaries(st.sampled_from(["a", "detail", "$or"]),
                                  st.one_of(inner, st.lists(inner, min_size=2, max_size=3), conditions), max_size=3),
    max_leaves=4,
)
pattern_input = st.one_of(
    pattern, pattern.map(json.dumps), json_value, json_value.map(json.dumps), st.text(max_size=40),
    st.integers(50, 3000).map(deep_json_text), st.integers(50, 120).map(deep_object),
    st.integers(50, 3000).map(lambda n: "[" * n + "]" * n),
    st.just('{"a": [' + "1" * 4400 + "]}"),  # json.loads refuses integers of more than 4300 digits
)
sns_attribute = st.fixed_dictionaries({
    "DataType": st.sampled_from(["String", "String.Array", "Number", "Binary", "String.custom"]),
    "StringValue": st.one_of(st.text(max_size=6), tricky, json_value.map(json.dumps),
                             st.integers(50, 3000).map(lambda n: "[" * n + "]" * n)),
})


@FUZZ
@given(pattern_input, st.sampled_from(["MessageAttributes", "MessageBody"]),
       st.dictionaries(st.sampled_from(["a", "b", "detail"]), sns_attribute, max_size=3), json_object,
       st.one_of(st.none(), st.text(max_size=8), st.integers(50, 3000).map(lambda n: "[" * n + "]" * n)))
def test_sns_policies_and_eventbridge_patterns_never_crash(pattern: Any, scope: Any, attributes: dict[str, Any],
                                                           event: dict[str, Any], body: str | None) -> None:
    """Both parsers of the JSON pattern language get every input (SNS in one of its two scopes); SNS sees the
    event as its body or a text body (an example event's `body` may be a string)."""
    try:
        validate_sns_filter_policy(pattern, scope=scope)
    except InvalidFilterError:
        pass
    else:
        message = json.dumps(event) if body is None else body
        explain_sns(pattern, scope=scope, message_attributes=attributes, message=message)
    try:
        validate_event_pattern(pattern)
    except InvalidFilterError:
        return
    explain_event_pattern(pattern, event)


# --- Pub/Sub filter expressions ----------------------------------------------------------------------------

pubsub_token = st.sampled_from([
    "attributes", ".", ":", "a", "event_type", '"x"', '"', "\\", '\\"', "\\u", "(", ")", " AND ", " OR ", "NOT ",
    "-", "hasPrefix", ",", " = ", "!=", " ", "\t", "é", "\ud800", "\x00", "attributes.a = \"v\"", "attributes:a",
])
pubsub_text = st.one_of(
    st.lists(pubsub_token, max_size=40).map("".join), st.text(max_size=60),
    st.integers(1, 300).map(lambda n: "(" * n + "attributes:a" + ")" * n),
    st.integers(1, 300).map(lambda n: "NOT " * n + "attributes:a"),
    st.integers(1, 300).map(lambda n: "-" * n + "attributes:a"),
)


@FUZZ
@given(pubsub_text, st.dictionaries(st.sampled_from(["a", "b", "event_type", "x"]), st.text(max_size=3), max_size=3))
def test_pubsub_filters_never_crash(text: str, attributes: dict[str, str]) -> None:
    try:
        expr = parse_pubsub_filter(text)
    except InvalidFilterError:
        return
    explain_pubsub(text, attributes)
    if expr is not None:
        format_pubsub_filter(expr)


# --- Event Grid advanced filters ---------------------------------------------------------------------------

values = st.lists(st.one_of(scalar, st.lists(scalar, max_size=3)), max_size=4)
advanced_filter = st.fixed_dictionaries(
    {"operatorType": st.one_of(st.sampled_from([*OPERATOR_TYPES, "Bogus"]), scalar),
     "key": st.one_of(st.sampled_from(["data.a", "subject", "type", "data..a", "", "data.a.b", "."]), scalar)},
    optional={"value": scalar, "values": st.one_of(values, scalar)},
)
eventgrid_filter = st.fixed_dictionaries({}, optional={
    "includedEventTypes": st.one_of(st.lists(scalar, max_size=3), scalar),
    "subjectBeginsWith": scalar,
    "subjectEndsWith": scalar,
    "isSubjectCaseSensitive": scalar,
    "enableAdvancedFilteringOnArrays": scalar,
    "advancedFilters": st.one_of(st.lists(st.one_of(advanced_filter, scalar), max_size=4), scalar),
})


@FUZZ
@given(st.one_of(eventgrid_filter, json_value), json_object)
def test_eventgrid_filters_never_crash(subscription_filter: Any, event: dict[str, Any]) -> None:
    try:
        validate_eventgrid_filter(subscription_filter)
    except InvalidFilterError:
        return
    explain_eventgrid(subscription_filter, event)


# --- what fuzzing found, pinned ----------------------------------------------------------------------------


@pytest.mark.parametrize(("validate", "value", "reason"), [
    # str.isdigit() accepts "²", which int() refuses; more than 4300 digits int() refuses too
    (validate_event_pattern, {"ip": [{"cidr": "10.0.0.0/²"}]}, "Malformed CIDR, mask bits must be an integer"),
    (validate_event_pattern, {"ip": [{"cidr": "10.0.0.0/" + "9" * 5000}]}, "mask bits must be between 0 and 32"),
    (validate_event_pattern, {"ip": [{"cidr": "10.0.0.0/008"}]}, None),
    # json.loads and the compiler recurse once per level
    (validate_event_pattern, '{"a": ' * 2000 + "[1]" + "}" * 2000, "Filter is nested more than 100 levels deep"),
    (validate_event_pattern, deep_object(2000), "Filter is nested more than 100 levels deep"),
    (lambda p: validate_sns_filter_policy(p, scope="MessageBody"), "[" * 5000, "nested more than 100 levels deep"),
    (validate_event_pattern, '{"a": [' + "1" * 4400 + "]}", "Filter is not valid JSON: Exceeds the limit"),
    # a lone surrogate (JSON "\ud800") cannot be encoded to measure the size
    (validate_sns_filter_policy, '{"a": ["\ud800"]}', None),
    (validate_pubsub_filter, 'attributes.a = "\ud800"', None),
])
def test_inputs_that_crashed_the_parsers_are_answered(validate: Any, value: Any, reason: str | None) -> None:
    if reason is None:
        validate(value)
        return
    with pytest.raises(InvalidFilterError) as raised:
        validate(value)
    assert reason in str(raised.value)


def test_deep_json_in_an_sns_message_or_string_array_attribute_matches_nothing() -> None:
    deep = "[" * 3000 + "]" * 3000
    array = {"a": {"DataType": "String.Array", "StringValue": deep}}
    assert explain_sns({"a": ["x"]}, scope="MessageAttributes", message_attributes=array, message="") == [
        'a: [] does not match ["x"]'
    ]
    assert explain_sns({"a": ["x"]}, scope="MessageBody", message_attributes={}, message=deep) == [
        "message body is nested more than 100 levels deep, so a MessageBody policy cannot match"
    ]
    with pytest.raises(ValueError, match="nested more than 100 levels"):
        explain_event_pattern({"a": ["x"]}, deep)


@pytest.mark.parametrize(("validate", "value"), [
    (validate_event_pattern, {"a": [{"x" * 100_000: 1}]}),
    (validate_event_pattern, {"a": [{"numeric": ["x" * 100_000, 1]}]}),
    (validate_event_pattern, {"a": [{"cidr": "x" * 100_000 + "/8"}]}),
    (validate_event_pattern, {"x" * 100_000: 1}),
    (validate_eventgrid_filter, {"x" * 100_000: 1}),
    (validate_eventgrid_filter, {"advancedFilters": [{"operatorType": "x" * 100_000, "key": "data.a"}]}),
])
def test_an_error_quotes_a_huge_bad_value_by_its_start(validate: Any, value: Any) -> None:
    with pytest.raises(InvalidFilterError) as raised:
        validate(value)
    assert len(str(raised.value)) < 600 and "xxxxxxxx... (" in str(raised.value)  # the list of operators is long
