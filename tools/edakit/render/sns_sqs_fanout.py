"""tfvars for terraform/modules/aws-sns-sqs-fanout: the spec's sqs-sns channel, one queue (+ DLQ) per subscriber."""

from __future__ import annotations

import json
from typing import Any

from edakit.observability.cloud_alarms import alarm_thresholds
from edakit.spec.model import Channel, Spec, Subscriber

SECONDS_PER_HOUR = 3600


def tfvars(spec: Spec, channels: list[Channel]) -> dict[str, Any] | None:
    """`channels`: the spec's sqs-sns channels (edakit.brokers.channels_on)."""
    if not channels or spec.sqs_sns is None:
        return None
    (channel,) = channels  # the loader allows one sqs-sns channel per spec: the module takes one topic
    settings = spec.sqs_sns
    variables: dict[str, Any] = {
        "name": channel.resource_name,
        "fifo_topic": channel.fifo,
        "content_based_deduplication": channel.content_based_deduplication,
        "alarm_actions": list(settings.alarm_actions),
        "tags": tags(spec),
        "subscribers": {sub.name: _subscriber(sub) for sub in spec.subscribers_of(channel.name)},
    }
    if settings.kms_master_key_id is not None:  # unset: the module creates a key SNS and SQS may use
        variables["kms_master_key_id"] = settings.kms_master_key_id
    return variables


def tags(spec: Spec) -> dict[str, str]:
    """Every resource says which spec and environment made it; the spec's own tags win."""
    made_by = {"edakit-spec": spec.name} | ({"environment": spec.environment} if spec.environment else {})
    return made_by | dict(spec.tags)


def _subscriber(sub: Subscriber) -> dict[str, Any]:
    assert sub.queue is not None and sub.dlq.retention_hours is not None  # guaranteed for sqs-sns by the loader
    queue: dict[str, Any] = {
        "raw_message_delivery": sub.queue.raw_message_delivery,
        "visibility_timeout_seconds": sub.queue.visibility_timeout_seconds,
        "message_retention_seconds": sub.queue.message_retention_hours * SECONDS_PER_HOUR,
        "receive_wait_time_seconds": sub.queue.receive_wait_time_seconds,
        "age_of_oldest_message_threshold_seconds": sub.queue.age_of_oldest_message_alarm_seconds,
        "create_dlq": sub.dlq.enabled,
        "alarm_thresholds": alarm_thresholds("aws-sns-sqs-fanout", sub),
    }
    if sub.dlq.enabled:
        queue["max_receive_count"] = sub.dlq.max_receive_count
        queue["dlq_message_retention_seconds"] = sub.dlq.retention_hours * SECONDS_PER_HOUR
    if sub.filter is not None:
        # A JSON string, as SNS stores it; sorted keys keep the rendered file stable.
        queue["filter_policy"] = json.dumps(sub.filter.policy, sort_keys=True, separators=(",", ":"))
        queue["filter_policy_scope"] = sub.filter.scope
    return queue


def provider_settings(spec: Spec, channels: list[Channel]) -> dict[str, Any] | None:
    """`region` for the AWS pattern roots' provider block (kept apart: the module itself declares no region)."""
    return {"region": spec.sqs_sns.region} if channels and spec.sqs_sns is not None else None
