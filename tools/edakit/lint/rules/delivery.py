"""Delivery rules: every subscriber can park a failing message somewhere durable, after a sane number of tries."""

from __future__ import annotations

from collections.abc import Iterator

from edakit.brokers import eventgrid, kafka, pubsub, sqs_sns
from edakit.lint.core import Severity, Target, items, module_vars, rule
from edakit.spec.model import Location

# The modules the rules read, and their variables' defaults (used when a tfvars file leaves a key out), from the
# broker profiles (edakit.brokers; tests/brokers/test_module_defaults.py ties each default to the module).
SNS_SQS, SQS = sqs_sns.PROFILE.module, sqs_sns.PROFILE.default
KAFKA, KAFKA_DEFAULT = kafka.PROFILE.module, kafka.PROFILE.default
PUBSUB, PUBSUB_DEFAULT = pubsub.PROFILE.module, pubsub.PROFILE.default
EVENTGRID, EVENTGRID_DEFAULT = eventgrid.PROFILE.module, eventgrid.PROFILE.default

# Below 2 one transient error dead-letters a message; above 30 a poison message is retried for too long
# (30 is also Event Grid's own maximum).
MIN_DELIVERIES, MAX_DELIVERIES = 2, 30
# AWS guidance for queue consumers: visibility timeout >= 6x the processing timeout, so retried or throttled
# batches are not redelivered while still in flight.
VISIBILITY_FACTOR = 6
SQS_RETENTION_SECONDS = SQS("subscribers.message_retention_seconds")
SQS_DLQ_RETENTION_SECONDS = SQS("subscribers.dlq_message_retention_seconds")
SQS_VISIBILITY_SECONDS = SQS("subscribers.visibility_timeout_seconds")
CREATE_STORAGE = EVENTGRID_DEFAULT("dead_letter_storage.create")


@rule("EDA001", "dlq-required", Severity.ERROR,
      "A subscriber without a DLQ either blocks on a poison message or loses it silently.")
def dlq_required(target: Target) -> Iterator[tuple[Location, str]]:
    for name, queue in items(module_vars(target, SNS_SQS).get("subscribers")):
        if queue.get("create_dlq", SQS("subscribers.create_dlq")) is False:
            yield (target.at(("subscribers", name, "create_dlq"), ("subscribers", name, "dlq", "enabled")),
                   f"subscriber '{name}' has no DLQ (create_dlq = false): set create_dlq = true")


@rule("EDA002", "max-receive-count-bounds", Severity.WARNING,
      f"Deliveries before dead-lettering belong in {MIN_DELIVERIES}..{MAX_DELIVERIES}: fewer dead-letter on one "
      "transient error, more keep a poison message cycling.")
def max_receive_count_bounds(target: Target) -> Iterator[tuple[Location, str]]:
    def out_of_bounds(count: object) -> bool:
        return isinstance(count, int | float) and not MIN_DELIVERIES <= count <= MAX_DELIVERIES

    bounds = f"keep it within {MIN_DELIVERIES}..{MAX_DELIVERIES}"
    for name, queue in items(module_vars(target, SNS_SQS).get("subscribers")):
        count = queue.get("max_receive_count", SQS("subscribers.max_receive_count"))
        if out_of_bounds(count):
            yield (target.at(("subscribers", name, "max_receive_count"), *_spec_dlq(name, "max_receive_count")),
                   f"subscriber '{name}' max_receive_count is {count}; {bounds}")
    for group, entry in items(module_vars(target, KAFKA).get("consumer_groups")):
        count = entry.get("retry_topic_count", KAFKA_DEFAULT("consumer_groups.retry_topic_count"))
        if isinstance(count, int) and out_of_bounds(count + 1):
            sub = kafka_subscriber(target, group)
            yield (target.at(("consumer_groups", group, "retry_topic_count"), *_spec_dlq(sub, "max_receive_count")),
                   f"consumer group '{group}' delivers {count + 1} time(s) (1 + {count} retry topics); {bounds}")
    for name, subscription in items(module_vars(target, PUBSUB).get("subscriptions")):
        policy = subscription.get("dead_letter_policy") or {}
        count = (policy.get("max_delivery_attempts",
                            PUBSUB_DEFAULT("subscriptions.dead_letter_policy.max_delivery_attempts"))
                 if isinstance(policy, dict) else None)
        if out_of_bounds(count):
            yield (target.at(("subscriptions", name, "dead_letter_policy", "max_delivery_attempts")),
                   f"subscription '{name}' max_delivery_attempts is {count}; {bounds}")
    for name, subscription in items(module_vars(target, EVENTGRID).get("event_subscriptions")):
        policy = subscription.get("retry_policy") or {}
        count = (policy.get("max_delivery_attempts",
                            EVENTGRID_DEFAULT("event_subscriptions.retry_policy.max_delivery_attempts"))
                 if isinstance(policy, dict) else None)
        if out_of_bounds(count):
            yield (target.at(("event_subscriptions", name, "retry_policy", "max_delivery_attempts")),
                   f"event subscription '{name}' max_delivery_attempts is {count}; {bounds}")


@rule("EDA003", "dlq-retention", Severity.ERROR,
      "A DLQ that expires before its source loses exactly the messages someone needs to inspect.")
def dlq_retention(target: Target) -> Iterator[tuple[Location, str]]:
    for name, queue in items(module_vars(target, SNS_SQS).get("subscribers")):
        source = queue.get("message_retention_seconds", SQS_RETENTION_SECONDS)
        dlq = queue.get("dlq_message_retention_seconds", SQS_DLQ_RETENTION_SECONDS)
        if isinstance(source, int) and isinstance(dlq, int) and dlq < source:
            where = target.at(("subscribers", name, "dlq_message_retention_seconds"),
                              *_spec_dlq(name, "retention_hours"))
            yield (where,
                   f"subscriber '{name}': the DLQ keeps messages {dlq} s, less than its queue ({source} s)")
    kafka_vars = module_vars(target, KAFKA)
    topics = dict(items(kafka_vars.get("topics")))
    for group, entry in items(kafka_vars.get("consumer_groups")):
        dlq = entry.get("dlq_retention_hours")
        for topic in entry.get("topics") if isinstance(entry.get("topics"), list) else ():
            settings = topics.get(topic) if isinstance(topic, str) else None  # malformed: the module's validation says
            source = (settings if isinstance(settings, dict) else {}).get(
                "retention_hours", kafka_vars.get("default_retention_hours", KAFKA_DEFAULT("default_retention_hours")))
            if isinstance(dlq, int) and isinstance(source, int) and dlq < source:
                sub = kafka_subscriber(target, group)
                yield (target.at(("consumer_groups", group, "dlq_retention_hours"), *_spec_dlq(sub, "retention_hours")),
                       f"consumer group '{group}': the DLQ topic keeps messages {dlq} h, less than topic "
                       f"'{topic}' ({source} h)")


@rule("EDA004", "visibility-timeout", Severity.ERROR,
      f"An SQS visibility timeout under {VISIBILITY_FACTOR}x the processing timeout redelivers messages that are "
      "still being processed.")
def visibility_timeout(target: Target) -> Iterator[tuple[Location, str]]:
    if target.spec is None:
        return  # the processing timeout is a spec setting; a tfvars file alone does not say it
    processing = target.spec.consumer.processing_timeout_seconds
    for name, queue in items(module_vars(target, SNS_SQS).get("subscribers")):
        visibility = queue.get("visibility_timeout_seconds", SQS_VISIBILITY_SECONDS)
        if isinstance(visibility, int) and visibility < VISIBILITY_FACTOR * processing:
            yield (target.at((), ("subscribers", name, "sqs_sns", "visibility_timeout_seconds"),
                             ("sqs_sns", "visibility_timeout_seconds"), ("subscribers", name)),
                   f"subscriber '{name}' visibility_timeout_seconds is {visibility}; the consumer's processing_timeout"
                   f"_seconds is {processing}, so set it to at least {VISIBILITY_FACTOR * processing}")


@rule("EDA005", "fifo-end-to-end", Severity.ERROR,
      "Ordering and deduplication hold only if every hop is FIFO: SNS rejects FIFO-only settings on standard topics.")
def fifo_end_to_end(target: Target) -> Iterator[tuple[Location, str]]:
    """The fan-out module makes every queue of a FIFO topic FIFO and the spec loader rejects `fifo` off SNS, so
    what is left to get wrong is a FIFO-only setting on a standard topic."""
    fanout = module_vars(target, SNS_SQS)
    if fanout.get("content_based_deduplication") and not fanout.get("fifo_topic"):
        yield (target.at(("content_based_deduplication",)),
               "content_based_deduplication needs fifo_topic = true (SNS FIFO topic feeding FIFO queues)")


@rule("EDA006", "pubsub-dead-letter", Severity.ERROR,
      "A Pub/Sub dead-letter topic needs a subscription (or dead letters are dropped) and the service agent's "
      "publisher/subscriber IAM (or nothing is forwarded).")
def pubsub_dead_letter(target: Target) -> Iterator[tuple[Location, str]]:
    pubsub = module_vars(target, PUBSUB)
    for name, subscription in items(pubsub.get("subscriptions")):
        policy = subscription.get("dead_letter_policy") or {}
        enabled = PUBSUB_DEFAULT("subscriptions.dead_letter_policy.enabled")
        if isinstance(policy, dict) and policy.get("enabled", enabled) is False:
            yield (target.at(("subscriptions", name, "dead_letter_policy", "enabled")),
                   f"subscription '{name}' disables its dead_letter_policy: no DLQ topic, no subscription on it and "
                   "no service-agent IAM are created")
    if pubsub and not pubsub.get("project_id"):
        yield (target.at(("project_id",)),
               "project_id is missing: the Pub/Sub service agent that needs the DLQ IAM is derived from it")


@rule("EDA007", "eventgrid-dead-letter", Severity.ERROR,
      "Event Grid dead-letters only to Blob storage and only with a managed identity allowed to write there.")
def eventgrid_dead_letter(target: Target) -> Iterator[tuple[Location, str]]:
    eventgrid = module_vars(target, EVENTGRID)
    if not eventgrid:
        return
    storage = eventgrid.get("dead_letter_storage")
    if not isinstance(storage, dict):
        yield (target.at(("dead_letter_storage",)),
               "dead_letter_storage is not set: undeliverable events are dropped after the retry policy ends")
    elif storage.get("create", CREATE_STORAGE) and not storage.get("storage_account_name"):
        yield (target.at(("dead_letter_storage",)), "dead_letter_storage.create needs storage_account_name")
    elif not storage.get("create", CREATE_STORAGE) and not storage.get("storage_account_id"):
        yield (target.at(("dead_letter_storage",)), "dead_letter_storage.create = false needs storage_account_id")
    identity = eventgrid.get("identity", {})
    kind = identity.get("type", EVENTGRID_DEFAULT("identity.type")) if isinstance(identity, dict) else None
    if kind not in ("SystemAssigned", "UserAssigned"):
        yield (target.at(("identity",)),
               f"identity type {kind!r}: dead-lettering needs a managed identity (SystemAssigned or UserAssigned)")
    elif kind == "UserAssigned" and not identity.get("user_assigned_identity"):
        yield (target.at(("identity",)), "identity type UserAssigned needs user_assigned_identity {id, principal_id}")


def _spec_dlq(subscriber: str | None, key: str) -> tuple[tuple[str, ...], ...]:
    """Spec keys a DLQ setting of `subscriber` may be written at, most specific first."""
    if subscriber is None:
        return ((),)
    fallback = {"max_receive_count": ("sqs_sns", "dlq_max_receive_count"),
                "retention_hours": ("sqs_sns", "dlq_retention_hours")}[key]
    return (("subscribers", subscriber, "dlq", key), fallback, ("subscribers", subscriber))


def kafka_subscriber(target: Target, group: str) -> str | None:
    if target.spec is None:
        return None
    return next((s.name for s in target.spec.subscribers.values() if s.consumer_group == group), None)
