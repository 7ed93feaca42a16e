"""Azure Event Grid event subscription filters (the ARM/REST `filter` object), per Microsoft's
"Understand event filtering for Event Grid subscriptions":

- `includedEventTypes`, `subjectBeginsWith`/`subjectEndsWith` (case-insensitive unless `isSubjectCaseSensitive`),
  and `advancedFilters`, all ANDed; the values of one advanced filter are ORed (NOT-operators: none may match).
- String comparisons are case-insensitive; numbers compare as decimals; keys are dot paths (`data.a.b`).
- A key that is absent or null satisfies only IsNullOrUndefined and the NOT-operators.
- An array value fails every operator but IsNotNull unless `enableAdvancedFilteringOnArrays`; with it, positive
  operators need any element to match and NOT-operators need every element to pass.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from edakit.redact import shorten  # a bad value is quoted, never all of a huge one
from edakit.routing.errors import InvalidEventGridFilter
from edakit.routing.ruler import as_number

MAX_ADVANCED_FILTERS = 25
MAX_FILTER_VALUES = 25  # across all advanced filters of one subscription
MAX_STRING_VALUE_LENGTH = 512

Test = Callable[[Any, Any], bool]


def _text(v: Any) -> str | None:
    return v.casefold() if isinstance(v, str) else None


def _string(check: Callable[[str, str], bool]) -> Test:
    return lambda actual, ref: _text(actual) is not None and check(_text(actual), ref.casefold())


def _number(check: Callable[[Decimal, Any], bool]) -> Test:
    return lambda actual, ref: as_number(actual) is not None and check(as_number(actual), ref)


def _range(n: Decimal, ref: list[Any]) -> bool:
    return as_number(ref[0]) <= n <= as_number(ref[1])


# operatorType → (element test against one reference value, shape of `value(s)`); NOT-operators are derived
_POSITIVE: dict[str, tuple[Test, str]] = {
    "NumberIn": (_number(lambda n, ref: n == as_number(ref)), "numbers"),
    "NumberLessThan": (_number(lambda n, ref: n < as_number(ref)), "number"),
    "NumberGreaterThan": (_number(lambda n, ref: n > as_number(ref)), "number"),
    "NumberLessThanOrEquals": (_number(lambda n, ref: n <= as_number(ref)), "number"),
    "NumberGreaterThanOrEquals": (_number(lambda n, ref: n >= as_number(ref)), "number"),
    "NumberInRange": (_number(_range), "ranges"),
    "BoolEquals": (lambda actual, ref: isinstance(actual, bool) and actual == ref, "bool"),
    "StringIn": (_string(lambda s, ref: s == ref), "strings"),
    "StringBeginsWith": (_string(str.startswith), "strings"),
    "StringEndsWith": (_string(str.endswith), "strings"),
    "StringContains": (_string(lambda s, ref: ref in s), "strings"),
}
_NEGATED = {"NumberNotIn": "NumberIn", "NumberNotInRange": "NumberInRange", "StringNotIn": "StringIn",
            "StringNotBeginsWith": "StringBeginsWith", "StringNotEndsWith": "StringEndsWith",
            "StringNotContains": "StringContains"}
_PRESENCE = ("IsNullOrUndefined", "IsNotNull")
OPERATOR_TYPES = (*_POSITIVE, *_NEGATED, *_PRESENCE)


def validate_eventgrid_filter(subscription_filter: dict[str, Any]) -> None:
    """Check shape and Event Grid's limits; raises InvalidEventGridFilter naming the offending key."""
    def fail(path: str, message: str) -> InvalidEventGridFilter:
        return InvalidEventGridFilter(f"filter.{path}: {message}")

    if not isinstance(subscription_filter, dict):
        raise InvalidEventGridFilter("filter: expected an object")
    known = {"includedEventTypes", "subjectBeginsWith", "subjectEndsWith", "isSubjectCaseSensitive",
             "enableAdvancedFilteringOnArrays", "advancedFilters"}
    for key in subscription_filter:
        if key not in known:
            raise fail(shorten(key), f"unknown key; expected one of {sorted(known)}")
    types = subscription_filter.get("includedEventTypes")
    if types is not None and (not isinstance(types, list) or not all(isinstance(t, str) for t in types)):
        raise fail("includedEventTypes", "expected a list of event type strings")
    for key in ("subjectBeginsWith", "subjectEndsWith"):
        if not isinstance(subscription_filter.get(key, ""), str):
            raise fail(key, "expected a string")
    for key in ("isSubjectCaseSensitive", "enableAdvancedFilteringOnArrays"):
        if not isinstance(subscription_filter.get(key, False), bool):
            raise fail(key, "expected true or false")
    advanced = subscription_filter.get("advancedFilters", [])
    if not isinstance(advanced, list):
        raise fail("advancedFilters", "expected a list")
    if len(advanced) > MAX_ADVANCED_FILTERS:
        raise fail("advancedFilters", f"{len(advanced)} advanced filters; Event Grid allows {MAX_ADVANCED_FILTERS}")
    total_values = 0
    for i, advanced_filter in enumerate(advanced):
        total_values += _validate_advanced_filter(advanced_filter, f"advancedFilters[{i}]", fail)
    if total_values > MAX_FILTER_VALUES:
        raise fail("advancedFilters", f"{total_values} filter values in total; Event Grid allows "
                                      f"{MAX_FILTER_VALUES} across all advanced filters")


def _validate_advanced_filter(advanced_filter: Any, path: str,
                              fail: Callable[[str, str], InvalidEventGridFilter]) -> int:
    """Validate one advanced filter; returns how many values it contributes to the subscription's total."""
    if not isinstance(advanced_filter, dict):
        raise fail(path, "expected an object with operatorType, key and value(s)")
    operator = advanced_filter.get("operatorType")
    if operator not in OPERATOR_TYPES:
        raise fail(f"{path}.operatorType", f"{shorten(repr(operator))} is not one of {', '.join(OPERATOR_TYPES)}")
    key = advanced_filter.get("key")
    if not isinstance(key, str) or not key or any(not part for part in key.split(".")):
        raise fail(f"{path}.key", "expected a dot path such as 'data.color' or 'subject'")
    if operator in _PRESENCE:
        extra = {"value", "values"} & set(advanced_filter)
        if extra:
            raise fail(path, f"{operator} takes no {sorted(extra)[0]}")
        return 0
    shape = _POSITIVE[_NEGATED.get(operator, operator)][1]
    if shape in ("number", "bool"):
        value = advanced_filter.get("value")
        valid = isinstance(value, bool) if shape == "bool" else as_number(value) is not None
        if not valid:
            raise fail(f"{path}.value", f"{operator} needs a single {'true/false' if shape == 'bool' else 'number'}")
        return 1
    values = advanced_filter.get("values")
    if not isinstance(values, list) or not values:
        raise fail(f"{path}.values", f"{operator} needs a non-empty list of {shape}")
    for j, value in enumerate(values):
        where = f"{path}.values[{j}]"
        if shape == "strings":
            if not isinstance(value, str):
                raise fail(where, "expected a string")
            if len(value) > MAX_STRING_VALUE_LENGTH:
                raise fail(where, f"{len(value)} characters; Event Grid allows {MAX_STRING_VALUE_LENGTH}")
        elif shape == "numbers" and as_number(value) is None:
            raise fail(where, "expected a number")
        elif shape == "ranges" and not (isinstance(value, list) and len(value) == 2
                                        and all(as_number(v) is not None for v in value)
                                        and as_number(value[0]) <= as_number(value[1])):
            raise fail(where, "expected [low, high] with low <= high")
    return len(values)


def _lookup(event: dict[str, Any], key: str) -> Any:
    """The value at a dot path (segments match case-insensitively), or None when any segment is missing."""
    value: Any = event
    for part in key.split("."):
        if not isinstance(value, dict):
            return None
        folded = part.casefold()
        value = next((v for k, v in value.items() if k.casefold() == folded), None)
    return value


def _advanced_filter_holds(advanced_filter: dict[str, Any], event: dict[str, Any], on_arrays: bool) -> bool:
    operator = advanced_filter["operatorType"]
    actual = _lookup(event, advanced_filter["key"])
    if operator in _PRESENCE:
        return (actual is None) == (operator == "IsNullOrUndefined")
    negated = operator in _NEGATED
    if actual is None:
        return negated
    if isinstance(actual, list) and not on_arrays:
        return False
    test, shape = _POSITIVE[_NEGATED.get(operator, operator)]
    refs = [advanced_filter["value"]] if shape in ("number", "bool") else advanced_filter["values"]
    elements = actual if isinstance(actual, list) else [actual]

    def positive(element: Any) -> bool:
        return any(test(element, ref) for ref in refs)

    return all(not positive(e) for e in elements) if negated else any(positive(e) for e in elements)


def explain_eventgrid(subscription_filter: dict[str, Any], event: dict[str, Any]) -> list[str]:
    """Why Event Grid would not deliver `event` (Event Grid or CloudEvents schema); empty when it would."""
    validate_eventgrid_filter(subscription_filter)
    reasons = []
    types = subscription_filter.get("includedEventTypes")
    event_type = event.get("eventType", event.get("type"))
    if types is not None and (not isinstance(event_type, str)
                              or event_type.casefold() not in {t.casefold() for t in types}):
        reasons.append(f"event type {event_type!r} is not in includedEventTypes {types}")
    subject = event.get("subject") if isinstance(event.get("subject"), str) else ""
    case_sensitive = subscription_filter.get("isSubjectCaseSensitive", False)
    fold: Callable[[str], str] = (lambda s: s) if case_sensitive else str.casefold
    begins, ends = subscription_filter.get("subjectBeginsWith", ""), subscription_filter.get("subjectEndsWith", "")
    if not fold(subject).startswith(fold(begins)):
        reasons.append(f"subject {subject!r} does not begin with {begins!r}")
    if not fold(subject).endswith(fold(ends)):
        reasons.append(f"subject {subject!r} does not end with {ends!r}")
    on_arrays = subscription_filter.get("enableAdvancedFilteringOnArrays", False)
    for i, advanced_filter in enumerate(subscription_filter.get("advancedFilters", [])):
        if not _advanced_filter_holds(advanced_filter, event, on_arrays):
            reference = advanced_filter.get("values", advanced_filter.get("value"))
            shown = "" if advanced_filter["operatorType"] in _PRESENCE else f" {reference!r}"
            reasons.append(f"advancedFilters[{i}]: {advanced_filter['key']} = "
                           f"{_lookup(event, advanced_filter['key'])!r} fails "
                           f"{advanced_filter['operatorType']}{shown}")
    return reasons


def eventgrid_filter_matches(subscription_filter: dict[str, Any], event: dict[str, Any]) -> bool:
    return not explain_eventgrid(subscription_filter, event)
