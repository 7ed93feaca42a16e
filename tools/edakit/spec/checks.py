"""Cross-checks the schema cannot express: references, files, and rules that span several keys."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from edakit.spec.errors import Problem
from edakit.spec.model import Spec
from edakit.spec.schema import did_you_mean
from edakit.spec.source import Document

# Brokers whose modules and renderers exist; event-grid and pubsub arrive with issue 3.
RENDERED_BROKERS = ("kafka", "sqs-sns")
SQS_QUEUE_NAME_MAX = 80


def cross_check(spec: Spec, doc: Document) -> list[Problem]:
    problems: list[Problem] = []
    for check in CHECKS:
        problems.extend(check(spec, doc))
    return problems


def _written(doc: Document, *path: str) -> tuple[str, ...]:
    """`path` if the spec writes it, else its nearest written ancestor: problems point at what the user wrote."""
    while path and path not in doc.positions:
        path = path[:-1]
    return path


def _first_written(doc: Document, *paths: tuple[str, ...]) -> tuple[str, ...]:
    """The first of `paths` the spec writes (the last one is the fallback)."""
    return next((path for path in paths if path in doc.positions), paths[-1])


def events_exist(spec: Spec, doc: Document) -> Iterator[Problem]:
    for channel in spec.channels.values():
        for index, event in enumerate(channel.events):
            if event not in spec.events:
                hint = did_you_mean(event, list(spec.events))
                yield doc.problem(("channels", channel.name, "events", index), f"unknown event '{event}'{hint}")


def schema_files_exist(spec: Spec, doc: Document) -> Iterator[Problem]:
    for event in spec.events.values():
        if not event.schema_path.is_file():
            yield doc.problem(
                ("events", event.name, "schema"),
                f"schema file '{event.schema}' not found (looked for {event.schema_path})",
            )


def channels_exist(spec: Spec, doc: Document) -> Iterator[Problem]:
    for sub in spec.subscribers.values():
        if sub.channel not in spec.channels:
            hint = did_you_mean(sub.channel, list(spec.channels))
            yield doc.problem(("subscribers", sub.name, "channel"), f"unknown channel '{sub.channel}'{hint}")


def brokers_configured(spec: Spec, doc: Document) -> Iterator[Problem]:
    for channel in spec.channels.values():
        where = _first_written(doc, ("channels", channel.name, "broker"), ("broker",))
        if channel.broker not in RENDERED_BROKERS:
            yield doc.problem(
                where,
                f"channels on '{channel.broker}' are not supported yet; supported: {', '.join(RENDERED_BROKERS)}",
            )
        elif channel.broker == "kafka" and spec.kafka is None:
            yield doc.problem(where, "channel uses kafka but the spec has no top-level `kafka` block")
        elif channel.broker == "sqs-sns" and spec.sqs_sns is None:
            yield doc.problem(where, "channel uses sqs-sns but the spec has no top-level `sqs_sns` block")


def broker_blocks_match(spec: Spec, doc: Document) -> Iterator[Problem]:
    """A `kafka:` or `sqs_sns:` block on a channel or subscriber of the other broker would be silently ignored."""
    blocks = {"kafka": "kafka", "sqs_sns": "sqs-sns"}
    for channel in spec.channels.values():
        for block, broker in blocks.items():
            if ("channels", channel.name, block) in doc.positions and channel.broker != broker:
                yield doc.problem(
                    ("channels", channel.name, block),
                    f"`{block}` settings apply to {broker} channels; this channel uses {channel.broker}",
                )
    for sub in spec.subscribers.values():
        channel = spec.channels.get(sub.channel)
        if channel is None:
            continue
        for block, broker in blocks.items():
            if ("subscribers", sub.name, block) in doc.positions and channel.broker != broker:
                yield doc.problem(
                    ("subscribers", sub.name, block),
                    f"`{block}` settings apply to {broker} subscribers; channel '{channel.name}' uses {channel.broker}",
                )
        if sub.filter is not None and channel.broker == "kafka":
            yield doc.problem(
                ("subscribers", sub.name, "filter"),
                "Kafka has no broker-side filtering: every consumer group reads the whole topic; remove `filter`",
            )
        if sub.filter is not None and channel.broker == "sqs-sns" and not isinstance(sub.filter.policy, dict):
            yield doc.problem(
                ("subscribers", sub.name, "filter", "policy"),
                "an SNS filter policy is a mapping such as {event_type: [OrderPlaced]}, not a string",
            )
        if not sub.dlq.enabled and channel.broker == "kafka":
            yield doc.problem(
                ("subscribers", sub.name, "dlq", "enabled"),
                "kafka subscribers always get a DLQ topic: without one, a failing message blocks its partition",
            )


def fifo_rules(spec: Spec, doc: Document) -> Iterator[Problem]:
    """FIFO topics feed only FIFO queues: the fan-out module makes every queue of a FIFO topic FIFO, so the spec
    says FIFO once, on the channel, where only SNS understands it."""
    for channel in spec.channels.values():
        if channel.fifo and channel.broker != "sqs-sns":
            yield doc.problem(
                ("channels", channel.name, "fifo"),
                f"fifo applies to sqs-sns channels (SNS FIFO topic and FIFO queues); {channel.broker} orders "
                "messages by key/partition instead",
            )
        if channel.content_based_deduplication and not channel.fifo:
            yield doc.problem(
                ("channels", channel.name, "sqs_sns", "content_based_deduplication"),
                "content-based deduplication needs a FIFO topic: set `fifo: true` or remove it",
            )
        if channel.broker != "sqs-sns":
            continue
        suffix = ".fifo" if channel.fifo else ""
        for sub in spec.subscribers_of(channel.name):
            dlq_name = f"{channel.resource_name}-{sub.name}-dlq{suffix}"
            if len(dlq_name) > SQS_QUEUE_NAME_MAX:
                yield doc.problem(
                    ("subscribers", sub.name),
                    f"queue name '{dlq_name}' is {len(dlq_name)} characters; SQS allows {SQS_QUEUE_NAME_MAX}: "
                    "shorten the spec, channel or subscriber name",
                )


def dlq_outlives_source(spec: Spec, doc: Document) -> Iterator[Problem]:
    """A DLQ that expires first loses exactly the messages someone needs to inspect."""
    for sub in spec.subscribers.values():
        channel = spec.channels.get(sub.channel)
        if not sub.dlq.enabled or sub.dlq.retention_hours is None or channel is None:
            continue
        if sub.queue is not None:
            source, what = sub.queue.message_retention_hours, "its queue's message_retention_hours"
        elif channel.kafka is not None:
            source, what = channel.kafka.retention_hours, f"topic '{channel.resource_name}' retention_hours"
        else:
            continue
        if sub.dlq.retention_hours < source:
            yield doc.problem(
                _written(doc, "subscribers", sub.name, "dlq", "retention_hours"),
                f"the DLQ keeps messages {sub.dlq.retention_hours} h, less than {what} ({source} h); "
                f"set dlq.retention_hours to at least {source}",
            )


def queue_settings(spec: Spec, doc: Document) -> Iterator[Problem]:
    for sub in spec.subscribers.values():
        queue = sub.queue
        if queue is not None and queue.age_of_oldest_message_alarm_seconds >= queue.message_retention_hours * 3600:
            alarm, retention = queue.age_of_oldest_message_alarm_seconds, queue.message_retention_hours * 3600
            yield doc.problem(
                _written(doc, "subscribers", sub.name, "sqs_sns", "age_of_oldest_message_alarm_seconds"),
                f"age_of_oldest_message_alarm_seconds ({alarm}) must be below the queue's retention ({retention} s): "
                "older messages are already deleted",
            )
        if sub.retry.min_backoff_seconds > sub.retry.max_backoff_seconds:
            yield doc.problem(
                _written(doc, "subscribers", sub.name, "retry", "min_backoff_seconds"),
                f"min_backoff_seconds ({sub.retry.min_backoff_seconds}) exceeds max_backoff_seconds "
                f"({sub.retry.max_backoff_seconds})",
            )


def kafka_rules(spec: Spec, doc: Document) -> Iterator[Problem]:
    for channel in spec.channels.values():
        topic = channel.kafka
        if topic is not None and topic.min_insync_replicas > topic.replication_factor:
            yield doc.problem(
                _first_written(
                    doc,
                    ("channels", channel.name, "kafka", "min_insync_replicas"),
                    ("channels", channel.name, "kafka", "replication_factor"),
                    ("kafka", "min_insync_replicas"),
                    ("channels", channel.name),
                ),
                f"min_insync_replicas {topic.min_insync_replicas} exceeds the replication factor "
                f"{topic.replication_factor} of channel '{channel.name}': producers with acks=all could never write",
            )
    groups: dict[str, str] = {}
    for sub in spec.subscribers.values():
        if sub.consumer_group is None:
            continue
        if sub.consumer_group in groups:
            yield doc.problem(
                _written(doc, "subscribers", sub.name, "kafka", "consumer_group"),
                f"consumer group '{sub.consumer_group}' is already used by subscriber '{groups[sub.consumer_group]}'; "
                "each subscriber needs its own group to receive every message",
            )
        groups.setdefault(sub.consumer_group, sub.name)


def renderable(spec: Spec, doc: Document) -> Iterator[Problem]:
    """The fan-out module takes one topic, so a spec renders one tfvars file per module (split larger systems)."""
    sns_channels = [c for c in spec.channels.values() if c.broker == "sqs-sns"]
    for extra in sns_channels[1:]:
        yield doc.problem(
            ("channels", extra.name),
            f"a spec may have one sqs-sns channel (it renders aws-sns-sqs-fanout.auto.tfvars.json); "
            f"'{sns_channels[0].name}' is already one: move this channel to its own spec file",
        )
    for channel in sns_channels:
        if not spec.subscribers_of(channel.name):
            yield doc.problem(
                ("channels", channel.name),
                "an sqs-sns channel needs at least one subscriber: SNS drops messages nobody subscribed to",
            )


CHECKS: tuple[Callable[[Spec, Document], Iterator[Problem]], ...] = (
    events_exist,
    schema_files_exist,
    channels_exist,
    brokers_configured,
    broker_blocks_match,
    fifo_rules,
    dlq_outlives_source,
    queue_settings,
    kafka_rules,
    renderable,
)
