"""SNS filter policies beyond the conformance file: SNS's limits and error texts, attribute data types, scopes."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from edakit.routing import InvalidSnsFilterPolicy, explain_sns, sns_filter_matches, validate_sns_filter_policy


def string(value: str) -> dict[str, str]:
    return {"DataType": "String", "StringValue": value}


def attributes_match(policy: dict[str, Any], attributes: dict[str, Any]) -> bool:
    return sns_filter_matches(policy, scope="MessageAttributes", message_attributes=attributes, message="")


def body_match(policy: dict[str, Any], body: Any) -> bool:
    return sns_filter_matches(policy, scope="MessageBody", message_attributes={}, message=json.dumps(body))


def values(n: int) -> list[str]:
    return [f"v{i}" for i in range(n)]


@pytest.mark.parametrize(("scope", "policy", "error"), [
    ("MessageAttributes", {f"k{i}": ["v"] for i in range(6)}, "Filter policy can not have more than 5 keys"),
    ("MessageBody", {f"k{i}": {"x": ["v"]} for i in range(6)}, "Filter policy can not have more than 5 keys"),
    ("MessageAttributes", {"a": ["v"], "$or": [{"b": ["v"]}, {k: ["v"] for k in "cdefg"}]},
     "Filter policy can not have more than 5 keys"),
    ("MessageAttributes", {"a": values(10), "b": values(10), "c": values(2)}, "Filter policy is too complex"),
    ("MessageAttributes", {"a": values(8), "$or": [{"b": values(10)}, {"c": values(10)}]},
     "Filter policy is too complex"),
    ("MessageAttributes", {"a": {"b": ["v"]}}, "Filter policy scope MessageAttributes does not support nested"),
    ("MessageAttributes", {"a": "v"}, '"a" must be an object or an array'),
    ("MessageAttributes", {"a": []}, "Empty arrays are not allowed"),
    ("MessageAttributes", {"a": [["v"]]}, "Match value must be String, number, true, false, or null"),
    ("MessageAttributes", {"a": [{"wildcard": "v*"}]}, "Unrecognized match type wildcard"),
    ("MessageAttributes", {"a": [{"exists": "yes"}]}, "exists match pattern must be either true or false."),
    ("MessageAttributes", {"a": [{"numeric": [">", 1, ">", 5]}]}, "Bad numeric range operator: >"),
    ("MessageAttributes", {"a": [{"numeric": ["<", 5, ">", 1]}]}, "Too many elements in numeric expression"),
    ("MessageAttributes", {"a": [{"numeric": [">", 1, "<", 5, "<", 6]}]}, "Too many elements in numeric expression"),
    ("MessageAttributes", {"a": [{"numeric": [">", 1, "<"]}]}, "Value of < must be numeric"),
    ("MessageAttributes", {"a": [{"numeric": [">", True]}]}, "Value of > must be numeric"),
    ("MessageAttributes", {"a": [{"numeric": [">", 5, "<", 1]}]}, "Bottom must be less than top"),
    ("MessageAttributes", {"a": [{"numeric": ["=", 1, "<", 2]}]}, "Too many elements in numeric expression"),
    ("MessageAttributes", {"a": [{"numeric": ["!", 1]}]}, "Unrecognized numeric range operator: !"),
    ("MessageAttributes", {"a": [{"numeric": [">", 1_000_000_001]}]}, "Value of > must be numeric"),
    ("MessageAttributes", {"a": [{"anything-but": {"prefix": ""}}]}, "Null prefix/suffix not allowed"),
    ("MessageAttributes", {"$or": [{"b": ["v"]}]}, "Unrecognized match type b"),  # one object: not an $or
    ("MessageAttributes", {"a": ["x" * 262_144]}, "Filter policy is larger than 256 KB"),
    ("MessageAttributes", '{"a": ["v"]', "Filter is not valid JSON"),
])
def test_invalid_policies_fail_with_the_sns_reason(scope: str, policy: Any, error: str) -> None:
    with pytest.raises(InvalidSnsFilterPolicy) as raised:
        validate_sns_filter_policy(policy, scope=scope)  # type: ignore[arg-type]
    assert str(raised.value).startswith("Invalid parameter: FilterPolicy: ")
    assert error in str(raised.value)


@pytest.mark.parametrize(("scope", "policy"), [
    ("MessageAttributes", {f"k{i}": ["v"] for i in range(5)}),
    ("MessageBody", {f"k{i}": {"x": ["v"], "y": ["v"], "z": ["v"]} for i in range(5)}),  # nested keys don't count
    ("MessageAttributes", {"a": values(15), "b": values(10)}),  # exactly 150 combinations
    ("MessageAttributes", {"a": values(7), "$or": [{"b": values(10)}, {"c": values(10)}]}),  # 70 + 70
    ("MessageAttributes", {"a": [{"numeric": [">=", -1_000_000_000, "<", 1_000_000_000]}]}),
    ("MessageAttributes", json.dumps({"a": ["v"]})),
    ("MessageAttributes", {}),
])
def test_policies_within_limits_are_accepted(scope: str, policy: Any) -> None:
    validate_sns_filter_policy(policy, scope=scope)  # type: ignore[arg-type]


def test_unknown_scope_is_rejected() -> None:
    with pytest.raises(InvalidSnsFilterPolicy, match=r"FilterPolicyScope: Invalid value \[Body\]"):
        sns_filter_matches({}, scope="Body", message_attributes={}, message="")  # type: ignore[arg-type]


def test_attribute_data_types() -> None:
    number = {"n": {"DataType": "Number", "StringValue": "5.0"}}
    assert attributes_match({"n": [5]}, number)
    assert attributes_match({"n": [{"numeric": [">", 4.99999]}]}, number)
    assert not attributes_match({"n": ["5"]}, number)  # string policy values compare only with strings
    assert not attributes_match({"n": [5]}, {"n": string("5")})
    array = {"tags": {"DataType": "String.Array", "StringValue": '["a", 7, true, null]'}}
    assert attributes_match({"tags": [{"numeric": ["=", 7]}]}, array)
    assert attributes_match({"tags": [None]}, array)
    assert attributes_match({"tags": [{"anything-but": ["a"]}]}, array)  # any element that is not "a"
    # SNS filters only String, String.Array and Number: a Binary attribute is invisible to the policy
    binary = {"blob": {"DataType": "Binary", "BinaryValue": b"\x00"}}
    assert not attributes_match({"blob": [{"exists": True}]}, binary)
    assert attributes_match({"blob": [{"exists": False}]}, binary)
    assert attributes_match({"t": ["x"]}, {"t": {"DataType": "String.custom", "StringValue": "x"}})


def test_malformed_message_attributes_are_reported_by_name() -> None:
    with pytest.raises(ValueError, match=r"message_attributes\['a'\]"):
        attributes_match({"a": ["v"]}, {"a": "v"})


def test_message_body_scope() -> None:
    policy = {"order": {"total": [{"numeric": [">", 100]}], "lines": {"sku": [{"prefix": "BK-"}]}}}
    body = {"order": {"total": 120, "lines": [{"sku": "CD-1"}, {"sku": "BK-2"}]}}
    assert body_match(policy, body)
    assert not body_match(policy, {"order": {"total": 120, "lines": []}})
    assert not sns_filter_matches(policy, scope="MessageBody", message_attributes={}, message="not json")
    assert not body_match(policy, ["order"])
    assert sns_filter_matches({}, scope="MessageBody", message_attributes={}, message="not json")
    # attributes are not the body: a MessageBody policy ignores them
    assert not sns_filter_matches({"a": ["v"]}, scope="MessageBody", message_attributes={"a": string("v")},
                                  message="{}")


def test_explanation_names_the_failing_keys() -> None:
    policy = {"kind": ["OrderPlaced"], "total": [{"numeric": [">", 100]}], "region": [{"exists": True}],
              "$or": [{"tier": ["gold"]}, {"vip": [True]}]}
    reasons = explain_sns(policy, scope="MessageBody", message_attributes={},
                          message=json.dumps({"kind": "OrderPlaced", "total": 50, "tier": "silver"}))
    assert reasons == [
        'total: [50] does not match [{"numeric": [">", 100]}]',
        'region: absent does not match [{"exists": true}]',
        '$or: no alternative matched (tier: ["silver"] does not match ["gold"]; vip: absent does not match [true])',
    ]
    assert explain_sns(policy, scope="MessageBody", message_attributes={}, message=json.dumps(
        {"kind": "OrderPlaced", "total": 101, "region": "eu", "vip": True})) == []


scalars = st.one_of(st.sampled_from(["red", "Red", "green", "10.0.0.7"]), st.integers(-3, 3))
conditions = st.one_of(
    scalars,
    st.sampled_from([{"prefix": "r"}, {"suffix": "en"}, {"equals-ignore-case": "RED"}, {"exists": True},
                     {"exists": False}, {"anything-but": ["red", 2]}, {"anything-but": {"suffix": "d"}},
                     {"numeric": [">", 0, "<=", 2]}, {"cidr": "10.0.0.0/29"}]),
)
flat_policies = st.dictionaries(st.sampled_from(["a", "b", "c"]), st.lists(conditions, min_size=1, max_size=3),
                                min_size=1, max_size=3)
messages = st.dictionaries(st.sampled_from(["a", "b", "c"]), scalars)


@given(flat_policies, messages)
def test_both_scopes_agree_on_flat_messages(policy: dict[str, Any], message: dict[str, Any]) -> None:
    """A String/Number attribute and the same JSON string/number in the body are filtered alike."""
    attributes = {k: string(v) if isinstance(v, str) else {"DataType": "Number", "StringValue": str(v)}
                  for k, v in message.items()}
    assert attributes_match(policy, attributes) == body_match(policy, message)


@given(flat_policies, flat_policies, messages)
def test_or_matches_when_any_alternative_matches(left: dict[str, Any], right: dict[str, Any],
                                                 message: dict[str, Any]) -> None:
    assert body_match({"$or": [left, right]}, message) == (body_match(left, message) or body_match(right, message))
