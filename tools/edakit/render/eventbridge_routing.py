"""tfvars for terraform/modules/aws-eventbridge-routing: the spec's eventbridge channel as a custom bus, one rule
per subscriber with its event pattern (`filter.policy`) and its SQS target."""

from __future__ import annotations

import json
from typing import Any

from edakit.observability.cloud_alarms import alarm_thresholds
from edakit.render.sns_sqs_fanout import tags
from edakit.spec.model import Channel, Spec, Subscriber



def tfvars(spec: Spec, channels: list[Channel]) -> dict[str, Any] | None:
    """`channels`: the spec's eventbridge channels (edakit.brokers.channels_on)."""
    if not channels or spec.eventbridge is None:
        return None
    (channel,) = channels  # the loader allows one eventbridge channel per spec: the module takes one bus
    settings = spec.eventbridge
    variables: dict[str, Any] = {
        "name": channel.resource_name,
        "tags": tags(spec),
        "archive": {"retention_days": settings.archive_retention_days},
        "routes": {sub.name: _route(sub) for sub in spec.subscribers_of(channel.name)},
        "alarm_actions": list(settings.alarm_actions),
    }
    if settings.kms_key_identifier is not None:
        variables["kms_key_identifier"] = settings.kms_key_identifier
    return variables


def _route(sub: Subscriber) -> dict[str, Any]:
    assert sub.eventbridge is not None and sub.filter is not None  # required for eventbridge rules by the loader
    # The queue is the subscriber's: the module outputs the policy statements to merge into its policy
    # (target_queue_policies) and never writes that policy itself.
    target: dict[str, Any] = {
        "arn": sub.eventbridge.queue_arn,
        "retry_policy": {
            "maximum_event_age_in_seconds": sub.retry.max_event_age_seconds,
            # The first delivery is not a retry: max_receive_count deliveries = 1 + maximum_retry_attempts.
            "maximum_retry_attempts": sub.dlq.max_receive_count - 1,
        },
    }
    if sub.eventbridge.message_group_id is not None:
        target["message_group_id"] = sub.eventbridge.message_group_id
    route: dict[str, Any] = {
        "event_pattern": json.dumps(sub.filter.policy, sort_keys=True, separators=(",", ":")),
        "targets": {"queue": target},
        "alarm_thresholds": alarm_thresholds("aws-eventbridge-routing", sub),
    }
    if sub.description is not None:
        route["description"] = sub.description
    return route


def provider_settings(spec: Spec, channels: list[Channel]) -> dict[str, Any] | None:
    """`region` for the AWS pattern roots' provider block."""
    return {"region": spec.eventbridge.region} if channels and spec.eventbridge is not None else None
