"""Replay rules: the idempotency window must outlast every way the spec lets an old event come back."""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass

from edakit.brokers import eventbridge
from edakit.lint.core import Severity, Target, items, module_vars, rule
from edakit.lint.rules.delivery import (
    EVENTGRID, EVENTGRID_DEFAULT, KAFKA, KAFKA_DEFAULT, PUBSUB, PUBSUB_DEFAULT, SNS_SQS, SQS,
    SQS_DLQ_RETENTION_SECONDS, SQS_RETENTION_SECONDS, _spec_dlq, kafka_subscriber,
)
from edakit.spec.errors import KeyPath
from edakit.spec.model import Location

EVENTBRIDGE = eventbridge.PROFILE.module
FOREVER = math.inf
# Module defaults (the broker profiles'), used when a tfvars file leaves the key out.
KAFKA_RETENTION_HOURS = KAFKA_DEFAULT("default_retention_hours")
PUBSUB_SUBSCRIPTION_RETENTION = PUBSUB_DEFAULT("subscriptions.message_retention_duration")
EVENTGRID_TTL_MINUTES = EVENTGRID_DEFAULT("event_subscriptions.retry_policy.event_time_to_live")
EVENTGRID_DEAD_LETTER_DAYS = EVENTGRID_DEFAULT("dead_letter_storage.retention_days")
EVENTBRIDGE_ARCHIVE_DAYS = eventbridge.PROFILE.default("archive.retention_days")
_DURATION = re.compile(r"^(\d+(?:\.\d+)?)s$")


@dataclass(frozen=True)
class RedeliverySource:
    """One way an event already handled can reach a consumer again, and how old it can be by then."""

    subscriber: str
    what: str  # "its DLQ (a redrive)", ...
    hours: float  # FOREVER for an archive that never expires
    tfvars_path: KeyPath
    spec_paths: tuple[KeyPath, ...]


@rule("EDA018", "idempotency-window-covers-redelivery", Severity.ERROR,
      "An event redelivered after its idempotency key expired (a DLQ redrive, a Kafka offset reset, a Pub/Sub "
      "seek, an archive replay) is applied twice.")
def idempotency_window_covers_redelivery(target: Target) -> Iterator[tuple[Location, str]]:
    if target.spec is None:
        return  # the window is a spec setting; a tfvars file alone does not say it
    window = target.spec.consumer.idempotency_window_hours
    longest: dict[str, RedeliverySource] = {}
    for source in redelivery_sources(target):
        if source.hours > window and source.hours > getattr(longest.get(source.subscriber), "hours", 0):
            longest[source.subscriber] = source
    for name, source in sorted(longest.items()):
        age = "events of any age (it never expires)" if source.hours == FOREVER else f"events {_hours(source.hours)} h old"
        fix = ("no window covers it: waive it with `# edakit: ignore[EDA018] reason: ...`"
               if source.hours == FOREVER else
               f"raise consumer.idempotency_window_hours to at least {math.ceil(source.hours)}, or waive it with "
               "`# edakit: ignore[EDA018] reason: ...`")
        yield (target.at(source.tfvars_path, *source.spec_paths),
               f"subscriber '{name}' can be redelivered {age} by {source.what}, longer than "
               f"consumer.idempotency_window_hours ({window}); {fix}")


def redelivery_sources(target: Target) -> Iterator[RedeliverySource]:
    """Every redelivery source the target provisions, per spec subscriber, from the rendered module inputs (so
    module defaults count as well as what the spec writes)."""
    yield from _sqs(target)
    yield from _kafka(target)
    yield from _pubsub(target)
    yield from _eventbridge(target)
    yield from _eventgrid(target)


def _sqs(target: Target) -> Iterator[RedeliverySource]:
    for name, queue in items(module_vars(target, SNS_SQS).get("subscribers")):
        retention = queue.get("message_retention_seconds", SQS_RETENTION_SECONDS)
        if isinstance(retention, int | float):
            yield RedeliverySource(
                name, "its queue (an unacknowledged receive is redelivered until the queue's retention ends)",
                retention / 3600, ("subscribers", name, "message_retention_seconds"),
                (("subscribers", name, "sqs_sns", "message_retention_hours"), ("sqs_sns", "message_retention_hours"),
                 ("subscribers", name)))
        dlq = queue.get("dlq_message_retention_seconds", SQS_DLQ_RETENTION_SECONDS)
        if queue.get("create_dlq", SQS("subscribers.create_dlq")) is not False and isinstance(dlq, int | float):
            yield RedeliverySource(name, "a redrive of its DLQ", dlq / 3600,
                                   ("subscribers", name, "dlq_message_retention_seconds"),
                                   _spec_dlq(name, "retention_hours"))


def _kafka(target: Target) -> Iterator[RedeliverySource]:
    kafka = module_vars(target, KAFKA)
    topics = dict(items(kafka.get("topics")))
    default = kafka.get("default_retention_hours", KAFKA_RETENTION_HOURS)
    for group, entry in items(kafka.get("consumer_groups")):
        subscriber = kafka_subscriber(target, group) or group
        for topic in entry.get("topics") if isinstance(entry.get("topics"), list) else ():
            settings = topics.get(topic) if isinstance(topic, str) else None
            hours = (settings if isinstance(settings, dict) else {}).get("retention_hours") or default
            if isinstance(hours, int | float):
                yield RedeliverySource(subscriber, f"an offset reset of group '{group}' on topic '{topic}'", hours,
                                       ("topics", topic, "retention_hours"),
                                       (("kafka", "retention_hours"), ("subscribers", subscriber)))
        dlq = entry.get("dlq_retention_hours")
        if isinstance(dlq, int | float):
            yield RedeliverySource(subscriber, f"a replay of group '{group}''s DLQ topic", dlq,
                                   ("consumer_groups", group, "dlq_retention_hours"),
                                   (("subscribers", subscriber, "dlq", "retention_hours"), ("subscribers", subscriber)))


def _pubsub(target: Target) -> Iterator[RedeliverySource]:
    pubsub = module_vars(target, PUBSUB)
    if not pubsub:
        return
    topic_hours = _duration_hours(pubsub.get("message_retention_duration"))
    for name, subscription in items(pubsub.get("subscriptions")):
        subscriber = _spec_subscriber(target, name)
        hours = _duration_hours(subscription.get("message_retention_duration", PUBSUB_SUBSCRIPTION_RETENTION))
        if hours is not None:
            yield RedeliverySource(subscriber, f"subscription '{name}' (retained messages, a seek)", hours,
                                   ("subscriptions", name, "message_retention_duration"),
                                   (("subscribers", subscriber, "pubsub", "message_retention_hours"),
                                    ("subscribers", subscriber)))
        if topic_hours is not None:
            yield RedeliverySource(subscriber, "a seek to a time in the topic's retained messages", topic_hours,
                                   ("message_retention_duration",), (("subscribers", subscriber),))


def _eventbridge(target: Target) -> Iterator[RedeliverySource]:
    eventbridge = module_vars(target, EVENTBRIDGE)
    archive = eventbridge.get("archive", {"retention_days": EVENTBRIDGE_ARCHIVE_DAYS}) if eventbridge else None
    if not isinstance(archive, dict):
        return  # no archive: nothing to replay from
    days = archive.get("retention_days", EVENTBRIDGE_ARCHIVE_DAYS)
    if not isinstance(days, int | float):
        return
    for route, _ in items(eventbridge.get("routes")):
        subscriber = _spec_subscriber(target, route)
        yield RedeliverySource(subscriber, "a replay of the bus archive", days * 24 if days else FOREVER,
                               ("archive", "retention_days"),
                               (("eventbridge", "archive_retention_days"), ("subscribers", subscriber)))


def _eventgrid(target: Target) -> Iterator[RedeliverySource]:
    eventgrid = module_vars(target, EVENTGRID)
    storage = eventgrid.get("dead_letter_storage")
    days = storage.get("retention_days", EVENTGRID_DEAD_LETTER_DAYS) if isinstance(storage, dict) else None
    for name, subscription in items(eventgrid.get("event_subscriptions")):
        subscriber = _spec_subscriber(target, name)
        policy = subscription.get("retry_policy") or {}
        minutes = policy.get("event_time_to_live", EVENTGRID_TTL_MINUTES) if isinstance(policy, dict) else None
        if isinstance(minutes, int | float):
            yield RedeliverySource(subscriber, "Event Grid's retries (the event time to live)", minutes / 60,
                                   ("event_subscriptions", name, "retry_policy", "event_time_to_live"),
                                   (("subscribers", subscriber),))
        if isinstance(days, int | float):
            yield RedeliverySource(subscriber, "a replay of its dead letters from Blob storage", days * 24,
                                   ("dead_letter_storage", "retention_days"),
                                   (("event_grid", "dead_letter_storage", "retention_days"),
                                    ("subscribers", subscriber)))


def _spec_subscriber(target: Target, module_key: str) -> str:
    """The spec subscriber a module entry was rendered from (entries are named `<subscriber>` or end in
    `-<subscriber>`)."""
    names = target.spec.subscribers if target.spec is not None else {}
    if module_key in names:
        return module_key
    return max((n for n in names if module_key.endswith(f"-{n}")), key=len, default=module_key)


def _duration_hours(value: object) -> float | None:
    match = _DURATION.match(value) if isinstance(value, str) else None
    return float(match[1]) / 3600 if match else None


def _hours(hours: float) -> str:
    return str(int(hours)) if hours == int(hours) else f"{hours:.1f}"
