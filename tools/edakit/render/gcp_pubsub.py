"""tfvars for terraform/modules/gcp-pubsub: the spec's pubsub channel as a topic, one subscription per subscriber
with its retry and dead-letter policy."""

from __future__ import annotations

from typing import Any

from edakit.observability.cloud_alarms import alarm_thresholds
from edakit.brokers.pubsub import subscription_name
from edakit.render.sns_sqs_fanout import tags
from edakit.schemas.validate import SCHEMA_MAX_BYTES
from edakit.spec.errors import SpecError
from edakit.spec.limits import read_text
from edakit.spec.model import Channel, Spec, Subscriber

SECONDS_PER_HOUR = 3600


def tfvars(spec: Spec, channels: list[Channel]) -> dict[str, Any] | None:
    """`channels`: the spec's pubsub channels (edakit.brokers.channels_on)."""
    if not channels or spec.pubsub is None:
        return None
    (channel,) = channels  # the loader allows one pubsub channel per spec: the module takes one topic
    settings = spec.pubsub
    variables: dict[str, Any] = {
        "project_id": settings.project_id,
        "topic_name": channel.resource_name,
        "labels": tags(spec),
        "subscriptions": {
            subscription_name(channel.resource_name, sub.name): _subscription(sub)
            for sub in spec.subscribers_of(channel.name)
        },
        "alarm_actions": list(settings.notification_channels),
    }
    assert channel.pubsub is not None  # set for every pubsub channel
    if channel.pubsub.message_retention_hours is not None:
        variables["message_retention_duration"] = _duration(channel.pubsub.message_retention_hours * SECONDS_PER_HOUR)
    if settings.kms_key_name is not None:
        variables["kms_key_name"] = settings.kms_key_name
    if channel.pubsub.schema_encoding is not None:
        variables["schema"] = _schema(spec, channel, channel.pubsub.schema_encoding)
    # The module refuses pushes without an OIDC token unless told; the spec opts out per subscriber, explicitly.
    if any(sub.pubsub is not None and sub.pubsub.push_allow_without_oidc_token
           for sub in spec.subscribers_of(channel.name)):
        variables["allow_push_without_oidc_token"] = True
    return variables


def _schema(spec: Spec, channel: Channel, encoding: str) -> dict[str, Any]:
    (event,) = (spec.events[name] for name in channel.events)  # the loader checks: one event with an .avsc file
    definition, problems = read_text(event.schema_path, max_bytes=SCHEMA_MAX_BYTES, what="schema")
    if definition is None:
        raise SpecError(problems)
    return {"definition": definition, "encoding": encoding}


def _subscription(sub: Subscriber) -> dict[str, Any]:
    assert sub.pubsub is not None  # set for every pubsub subscriber
    settings = sub.pubsub
    subscription: dict[str, Any] = {
        "ack_deadline_seconds": settings.ack_deadline_seconds,
        "message_retention_duration": _duration(settings.message_retention_hours * SECONDS_PER_HOUR),
        "enable_message_ordering": settings.enable_message_ordering,
        "enable_exactly_once_delivery": settings.enable_exactly_once_delivery,
        "retry_policy": {
            "minimum_backoff": _duration(sub.retry.min_backoff_seconds),
            "maximum_backoff": _duration(sub.retry.max_backoff_seconds),
        },
        "dead_letter_policy": {"enabled": sub.dlq.enabled, "max_delivery_attempts": sub.dlq.max_receive_count},
        "alarm_thresholds": alarm_thresholds("gcp-pubsub", sub),
    }
    if sub.filter is not None:
        subscription["filter"] = sub.filter.policy
    if settings.push_endpoint is not None:
        push = {
            "endpoint": settings.push_endpoint,
            "oidc_service_account_email": settings.push_oidc_service_account_email,
            "audience": settings.push_audience,
        }
        subscription["push"] = {key: value for key, value in push.items() if value is not None}
    return subscription


def _duration(seconds: int) -> str:
    """Google's protobuf Duration text form: `600s`."""
    return f"{seconds}s"
