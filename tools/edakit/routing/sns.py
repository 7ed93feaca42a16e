"""Amazon SNS subscription filter policies, both `FilterPolicyScope`s, with SNS's validation limits."""

from __future__ import annotations

import json
from decimal import Decimal, InvalidOperation
from math import prod
from typing import Any, Literal

from edakit.routing import ruler
from edakit.routing.errors import InvalidSnsFilterPolicy
from edakit.spec.limits import MAX_DEPTH, json_too_deep

FilterPolicyScope = Literal["MessageAttributes", "MessageBody"]
SCOPES = ("MessageAttributes", "MessageBody")
MAX_KEYS = 5
MAX_COMBINATIONS = 150
MAX_POLICY_BYTES = 256 * 1024

_DIALECT = ruler.Dialect(
    error=lambda reason: InvalidSnsFilterPolicy(f"Invalid parameter: FilterPolicy: {reason}"),
    match_types=ruler.MATCH_TYPES - {"wildcard"},
    anything_but_forms=frozenset({"prefix", "suffix"}),
    numeric_limit=Decimal("1e9"),  # SNS numeric matching covers -10^9..10^9
)


def compile_sns_filter_policy(policy: dict[str, Any] | str, *, scope: FilterPolicyScope) -> ruler.Node:
    """Validate a filter policy (dict or its JSON text) as SNS does; raises InvalidSnsFilterPolicy."""
    if scope not in SCOPES:
        raise InvalidSnsFilterPolicy(f"Invalid parameter: FilterPolicyScope: Invalid value [{scope}]. "
                                     "Please use either MessageBody or MessageAttributes")
    text = policy if isinstance(policy, str) else json.dumps(policy, separators=(",", ":"), ensure_ascii=False)
    if len(text.encode("utf-8", "surrogatepass")) > MAX_POLICY_BYTES:  # a lone surrogate is 3 bytes, not a crash
        raise _DIALECT.error(f"Filter policy is larger than {MAX_POLICY_BYTES // 1024} KB")
    if isinstance(policy, str):
        policy = ruler.parse_json_document(policy, _DIALECT)
    if not isinstance(policy, dict):
        raise _DIALECT.error("Filter policy must be a JSON object")
    ruler.check_depth(policy, _DIALECT)
    node = ruler.compile_pattern(policy, _DIALECT, nested=scope == "MessageBody")
    combinations = 0
    for branch in _or_free_branches(policy):
        # attribute policies are flat; for payload policies only top-level keys count (SNS key-counting rules)
        if len(branch) > MAX_KEYS:
            raise _DIALECT.error(f"Filter policy can not have more than {MAX_KEYS} keys")
        combinations += _combinations(branch)
    if combinations > MAX_COMBINATIONS:
        raise _DIALECT.error("Filter policy is too complex")
    return node


def _or_free_branches(policy: dict[str, Any]) -> list[dict[str, Any]]:
    """The policy with every `$or` multiplied out; SNS applies its limits to each branch and sums combinations."""
    branches: list[dict[str, Any]] = [{}]
    for key, value in policy.items():
        if key == ruler.OR_KEY and ruler.is_or_group(value):
            alternatives = [b for alt in value for b in _or_free_branches(alt)]
            branches = [{**b, **alt} for b in branches for alt in alternatives]
        elif isinstance(value, dict):
            branches = [{**b, key: sub} for b in branches for sub in _or_free_branches(value)]
        else:
            branches = [{**b, key: value} for b in branches]
        if len(branches) > MAX_COMBINATIONS:  # each branch is at least one combination: stop before blowing up
            raise _DIALECT.error("Filter policy is too complex")
    return branches


def _combinations(branch: dict[str, Any]) -> int:
    return prod(_combinations(v) if isinstance(v, dict) else len(v) for v in branch.values())


def validate_sns_filter_policy(policy: dict[str, Any] | str, *, scope: FilterPolicyScope = "MessageAttributes") -> None:
    compile_sns_filter_policy(policy, scope=scope)


def message_attributes_flat(message_attributes: dict[str, Any] | None) -> ruler.Flat:
    """Publish-API attributes as leaf values. Binary attributes are skipped: SNS filters only String,
    String.Array and Number; an unparseable String.Array or Number is present but has no comparable value."""
    flat: ruler.Flat = {}
    for name, attribute in (message_attributes or {}).items():
        if not isinstance(attribute, dict) or "DataType" not in attribute:
            raise ValueError(f"message_attributes[{name!r}]: expected {{'DataType': ..., 'StringValue': ...}}")
        data_type = str(attribute["DataType"])
        raw = attribute.get("StringValue")
        base = data_type.split(".", 1)[0]
        if data_type == "String.Array":
            flat[name] = _string_array(raw)
        elif base == "String":
            flat[name] = [str(raw)]
        elif base == "Number":
            flat[name] = _number(raw)
    return flat


def _string_array(raw: Any) -> list[ruler.Leaf]:
    if isinstance(raw, str) and json_too_deep(raw) is not None:
        return []  # like text that is not JSON: json.loads would recurse past the interpreter's limit
    try:
        values = json.loads(raw) if isinstance(raw, str) else raw
    except ValueError:
        return []
    if not isinstance(values, list):
        return []
    return [ruler.leaf(v) for v in values if not isinstance(v, dict | list)]


def _number(raw: Any) -> list[ruler.Leaf]:
    try:
        number = Decimal(str(raw).strip())
    except InvalidOperation:
        return []
    return [number] if number.is_finite() else []


def explain_sns(policy: dict[str, Any] | str, *, scope: FilterPolicyScope,
                message_attributes: dict[str, Any] | None, message: str) -> list[str]:
    """Why SNS would not deliver the message to this subscription; empty when it would."""
    node = compile_sns_filter_policy(policy, scope=scope)
    if not node.fields and not node.any_of:
        return []  # an empty policy filters nothing
    if scope == "MessageAttributes":
        return ruler.explain(node, message_attributes_flat(message_attributes))
    if json_too_deep(message) is not None:
        return [f"message body is nested more than {MAX_DEPTH} levels deep, so a MessageBody policy cannot match"]
    try:
        body = json.loads(message)
    except ValueError:
        return ["message body is not JSON, so a MessageBody policy cannot match"]
    if not isinstance(body, dict):
        return ["message body is not a JSON object, so a MessageBody policy cannot match"]
    return ruler.explain(node, ruler.flatten(body))


def sns_filter_matches(policy: dict[str, Any] | str, *, scope: FilterPolicyScope,
                       message_attributes: dict[str, Any] | None, message: str) -> bool:
    """Whether SNS delivers `message` (body text) with `message_attributes` (Publish API form) to a
    subscription with this filter policy; raises InvalidSnsFilterPolicy when SNS would reject the policy."""
    return not explain_sns(policy, scope=scope, message_attributes=message_attributes, message=message)
