"""tfvars for terraform/modules/azure-eventgrid: the spec's event-grid channel as a custom topic, one event
subscription per subscriber, dead letters to Blob storage."""

from __future__ import annotations

import re
from typing import Any

from edakit.observability.cloud_alarms import alarm_thresholds
from edakit.render.sns_sqs_fanout import tags
from edakit.spec.model import Channel, EventGridSettings, Filter, Spec, Subscriber

SECONDS_PER_MINUTE = 60


def tfvars(spec: Spec, channels: list[Channel]) -> dict[str, Any] | None:
    """`channels`: the spec's event-grid channels (edakit.brokers.channels_on)."""
    if not channels or spec.event_grid is None:
        return None
    (channel,) = channels  # the loader allows one event-grid channel per spec: the module takes one topic
    settings = spec.event_grid
    return {
        "name": channel.resource_name,
        "resource_group_name": settings.resource_group_name,
        "location": settings.location,
        "input_schema": settings.input_schema,
        "tags": tags(spec),
        "dead_letter_storage": _dead_letter_storage(settings),
        "event_subscriptions": {sub.name: _subscription(sub) for sub in spec.subscribers_of(channel.name)},
        "alarm_actions": list(settings.alert_action_groups),
        # No ranges: no public endpoint (the module's default). Secrets of secret headers are never rendered: they
        # reach Terraform as webhook_delivery_secrets from a secret store.
        "public_network_access_enabled": bool(settings.inbound_ip_rules),
        "inbound_ip_rules": list(settings.inbound_ip_rules),
    }


def _dead_letter_storage(settings: EventGridSettings) -> dict[str, Any]:
    storage: dict[str, Any] = {
        "create": settings.dead_letter_storage_account_id is None,
        "container_name": settings.dead_letter_container_name,
        "retention_days": settings.dead_letter_retention_days,
    }
    if settings.dead_letter_storage_account_id is not None:
        storage["storage_account_id"] = settings.dead_letter_storage_account_id
    else:
        storage["storage_account_name"] = settings.dead_letter_storage_account_name
    return storage


def _subscription(sub: Subscriber) -> dict[str, Any]:
    assert sub.event_grid is not None  # guaranteed for event-grid subscribers by the loader
    # Unset settings (None) and the opt-out left off (False) take the module's defaults.
    destination = {key: value for key, value in vars(sub.event_grid).items() if value is not None and value is not False}
    subscription: dict[str, Any] = {
        "destination": destination,
        "retry_policy": {
            "max_delivery_attempts": sub.dlq.max_receive_count,
            # Event Grid counts the time-to-live in minutes; the spec's retry policy in seconds.
            "event_time_to_live": max(1, sub.retry.max_event_age_seconds // SECONDS_PER_MINUTE),
        },
        "alarm_thresholds": alarm_thresholds("azure-eventgrid", sub),
    }
    if sub.filter is not None:
        subscription |= native_filter(sub.filter)
    return subscription


def native_filter(subscription_filter: Filter) -> dict[str, Any]:
    """The ARM `filter` object of the spec (what Event Grid's docs and the routes evaluator use) -> module inputs."""
    policy = dict(subscription_filter.policy)  # type: ignore[arg-type]  # a mapping for event-grid (loader)
    rendered: dict[str, Any] = {}
    if "includedEventTypes" in policy:
        rendered["included_event_types"] = list(policy["includedEventTypes"])
    if "subjectBeginsWith" in policy or "subjectEndsWith" in policy:
        subject = {"case_sensitive": policy.get("isSubjectCaseSensitive", False)}
        for arm, name in (("subjectBeginsWith", "subject_begins_with"), ("subjectEndsWith", "subject_ends_with")):
            if arm in policy:
                subject[name] = policy[arm]
        rendered["subject_filter"] = subject
    if policy.get("advancedFilters"):
        rendered["advanced_filters"] = [_advanced(f) for f in policy["advancedFilters"]]
    if "enableAdvancedFilteringOnArrays" in policy:
        rendered["advanced_filtering_on_arrays_enabled"] = policy["enableAdvancedFilteringOnArrays"]
    return rendered


def _advanced(arm: dict[str, Any]) -> dict[str, Any]:
    """`{operatorType: NumberGreaterThan, key, value}` -> `{operator: number_greater_than, key, value}` (strings:
    the module's value types are strings, converted back by the provider)."""
    operator = re.sub(r"(?<!^)(?=[A-Z])", "_", arm["operatorType"]).lower()
    rendered: dict[str, Any] = {"operator": operator, "key": arm["key"]}
    if "value" in arm:
        rendered["value"] = _text(arm["value"])
    if operator.endswith("in_range"):
        rendered["ranges"] = [list(pair) for pair in arm["values"]]
    elif "values" in arm:
        rendered["values"] = [_text(v) for v in arm["values"]]
    return rendered


def _text(value: Any) -> str:
    return ("true" if value else "false") if isinstance(value, bool) else str(value)
