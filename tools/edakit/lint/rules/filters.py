"""Filter rules: each filter is valid for its broker and lets at least one example event through."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from edakit.lint.core import Severity, Target, items, module_vars, rule
from edakit.lint.rules.delivery import EVENTGRID, PUBSUB, SNS_SQS, SQS
from edakit.routing import (
    InvalidEventGridFilter,
    InvalidFilterError,
    validate_eventgrid_filter,
    validate_pubsub_filter,
    validate_sns_filter_policy,
)
from edakit.brokers import contract
from edakit.routing.routes import examples_dir, filter_reasons
from edakit.spec.model import Location


def eventgrid_filter(subscription: Mapping[str, Any]) -> dict[str, Any]:
    """The azure-eventgrid module's subscription inputs as the Event Grid REST `filter` object; malformed parts
    are passed on for validation to name (or raise InvalidEventGridFilter where the REST shape has no place)."""
    result: dict[str, Any] = {}
    if subscription.get("included_event_types") is not None:
        result["includedEventTypes"] = subscription["included_event_types"]
    subject = subscription.get("subject_filter") or {}
    if not isinstance(subject, Mapping):
        raise InvalidEventGridFilter("subject_filter: expected an object")
    for key, rest_key in (("subject_begins_with", "subjectBeginsWith"), ("subject_ends_with", "subjectEndsWith")):
        if subject.get(key) is not None:
            result[rest_key] = subject[key]
    if subject.get("case_sensitive") is not None:
        result["isSubjectCaseSensitive"] = subject["case_sensitive"]
    if subscription.get("advanced_filtering_on_arrays_enabled") is not None:
        result["enableAdvancedFilteringOnArrays"] = subscription["advanced_filtering_on_arrays_enabled"]
    advanced = subscription.get("advanced_filters") or []
    result["advancedFilters"] = [_advanced_filter(f) for f in advanced] if isinstance(advanced, list) else advanced
    return result


def _advanced_filter(entry: Any) -> Any:
    if not isinstance(entry, Mapping) or not isinstance(entry.get("operator"), str):
        return entry  # validation reports the shape
    operator = "".join(part.capitalize() for part in entry["operator"].split("_"))  # string_in -> StringIn
    result: dict[str, Any] = {"operatorType": operator, "key": entry.get("key")}
    # the module takes value(s) as strings; Event Grid compares numbers and booleans by type
    if entry.get("value") is not None:
        result["value"] = _typed(operator, entry["value"])
    if entry.get("values") is not None:
        values = entry["values"]
        result["values"] = [_typed(operator, v) for v in values] if isinstance(values, list) else values
    if entry.get("ranges") is not None:
        result["values"] = entry["ranges"]
    return result


def _typed(operator: str, value: Any) -> Any:
    if operator == "BoolEquals":
        return {"true": True, "false": False}.get(value, value)
    if operator.startswith("Number") and isinstance(value, str):
        try:
            return Decimal(value)
        except InvalidOperation:
            return value  # validation names the bad value
    return value


@rule("EDA015", "filter-valid", Severity.ERROR,
      "A filter the broker rejects fails the apply; catch it with the broker's own error text before.")
def filter_valid(target: Target) -> Iterator[tuple[Location, str]]:
    for name, queue in items(module_vars(target, SNS_SQS).get("subscribers")):
        policy = queue.get("filter_policy")
        if policy is None:
            continue
        try:
            validate_sns_filter_policy(policy, scope=queue.get("filter_policy_scope", SQS("subscribers.filter_policy_scope")))
        except InvalidFilterError as exc:
            yield target.at(("subscribers", name, "filter_policy"), ("subscribers", name, "filter")), str(exc)
    for name, subscription in items(module_vars(target, PUBSUB).get("subscriptions")):
        text = subscription.get("filter")
        where = target.at(("subscriptions", name, "filter"))
        if text is not None and not isinstance(text, str):
            yield where, f"a Pub/Sub filter is a string such as 'attributes.k = \"v\"', not {text!r}"
        elif text is not None:
            try:
                validate_pubsub_filter(text)
            except InvalidFilterError as exc:
                yield where, str(exc)
    for name, subscription in items(module_vars(target, EVENTGRID).get("event_subscriptions")):
        try:
            validate_eventgrid_filter(eventgrid_filter(subscription))
        except InvalidFilterError as exc:
            yield target.at(("event_subscriptions", name)), str(exc)


@rule("EDA016", "filter-unmatched", Severity.WARNING,
      "A filter no example event passes is either wrong or untested; an example event proves the route.")
def filter_unmatched(target: Target) -> Iterator[tuple[Location, str]]:
    spec = target.spec
    if spec is None:
        return  # example events belong to a spec
    for sub in spec.subscribers.values():
        channel = spec.channels.get(sub.channel)
        if sub.filter is None or channel is None:
            continue
        candidates = [e for e in target.examples if e.event in channel.events]
        try:
            if any(not filter_reasons(channel.broker, sub.filter, e, contract(spec, channel.name)) for e in candidates):
                continue
        except InvalidFilterError:
            continue  # EDA015 reports the invalid filter
        where = target.at((), ("subscribers", sub.name, "filter"))
        if not candidates:
            yield where, (f"subscriber '{sub.name}' filters channel '{channel.name}' but no example event carries "
                          f"its events; add one to {examples_dir(spec).relative_to(spec.root)}/")
        else:
            shown = json.dumps(sub.filter.policy) if not isinstance(sub.filter.policy, str) else sub.filter.policy
            yield where, (f"subscriber '{sub.name}': none of {len(candidates)} example event(s) passes its filter "
                          f"{shown}")
