"""Kafka rules: production durability, retry and DLQ topics, enough partitions, and Avro with a registry."""

from __future__ import annotations

from collections.abc import Iterator

from edakit.lint.core import Severity, Target, items, module_vars, rule
from edakit.lint.rules.delivery import KAFKA, KAFKA_DEFAULT, kafka_subscriber
from edakit.spec.model import Location

PROD = "prod"
MIN_REPLICATION_FACTOR = 3
MIN_INSYNC_REPLICAS = 2


def _prod_topics(target: Target) -> Iterator[tuple[str, dict[str, object], str | None]]:
    """(topic, settings with module defaults applied, spec channel) for every topic, in prod only."""
    if target.env == PROD:
        yield from _topics(target)


def _topics(target: Target) -> Iterator[tuple[str, dict[str, object], str | None]]:
    """(topic, settings with module defaults applied, spec channel) for every topic, in the target's environment."""
    kafka = module_vars(target, KAFKA)
    defaults = {"replication_factor": kafka.get("default_replication_factor",
                                                KAFKA_DEFAULT("default_replication_factor")),
                "min_insync_replicas": kafka.get("default_min_insync_replicas",
                                                 KAFKA_DEFAULT("default_min_insync_replicas")),
                "partitions": kafka.get("default_partitions", KAFKA_DEFAULT("default_partitions"))}
    for topic, settings in items(kafka.get("topics")):
        channel = None
        if target.spec is not None:
            channel = next((c.name for c in target.spec.channels.values() if c.resource_name == topic), None)
        yield topic, {**defaults, **{k: v for k, v in settings.items() if v is not None}}, channel


def _below(value: object, minimum: int) -> bool:
    """Only numbers compare; a malformed value is for the module's validation to report."""
    return isinstance(value, int) and value < minimum


def _topic_key(target: Target, topic: str, channel: str | None, key: str, default_key: str) -> Location:
    return target.at(("topics", topic, key), ("channels", channel or "", "kafka", key), ("kafka", default_key),
                     ("channels", channel or ""))


@rule("EDA008", "kafka-replication-factor", Severity.ERROR,
      f"In prod a topic needs replication factor >= {MIN_REPLICATION_FACTOR} to survive a broker loss during "
      "maintenance.")
def kafka_replication_factor(target: Target) -> Iterator[tuple[Location, str]]:
    for topic, settings, channel in _prod_topics(target):
        if _below(settings["replication_factor"], MIN_REPLICATION_FACTOR):
            yield (_topic_key(target, topic, channel, "replication_factor", "default_replication_factor"),
                   f"topic '{topic}' replication_factor is {settings['replication_factor']} in prod; "
                   f"use at least {MIN_REPLICATION_FACTOR}")


@rule("EDA009", "kafka-min-insync-replicas", Severity.ERROR,
      f"In prod min.insync.replicas >= {MIN_INSYNC_REPLICAS} keeps acks=all writes from living on a single broker.")
def kafka_min_insync_replicas(target: Target) -> Iterator[tuple[Location, str]]:
    for topic, settings, channel in _prod_topics(target):
        if _below(settings["min_insync_replicas"], MIN_INSYNC_REPLICAS):
            yield (_topic_key(target, topic, channel, "min_insync_replicas", "min_insync_replicas"),
                   f"topic '{topic}' min_insync_replicas is {settings['min_insync_replicas']} in prod; "
                   f"use at least {MIN_INSYNC_REPLICAS}")


@rule("EDA010", "kafka-retry-and-dlq", Severity.ERROR,
      "In prod every consumer group needs retry topics and a DLQ topic, or one bad record stops its partition.")
def kafka_retry_and_dlq(target: Target) -> Iterator[tuple[Location, str]]:
    if target.env != PROD:
        return
    for group, entry in items(module_vars(target, KAFKA).get("consumer_groups")):
        if entry.get("retry_topic_count", KAFKA_DEFAULT("consumer_groups.retry_topic_count")) == 0:
            sub = kafka_subscriber(target, group) or ""
            yield (target.at(("consumer_groups", group, "retry_topic_count"),
                             ("subscribers", sub, "dlq", "max_receive_count"), ("subscribers", sub)),
                   f"consumer group '{group}' has no retry topics in prod (only its DLQ); raise "
                   "dlq.max_receive_count to 2 or more")


@rule("EDA011", "kafka-partitions-parallelism", Severity.ERROR,
      "A consumer group cannot run more busy consumers than the topic has partitions; the rest sit idle (in every "
      "environment: a staging that cannot use its consumers hides the problem until prod).")
def kafka_partitions_parallelism(target: Target) -> Iterator[tuple[Location, str]]:
    if target.spec is None:
        return  # parallelism is planned in the spec
    where = f"in {target.env}" if target.env else "(no environment)"
    by_channel = {channel: (topic, settings) for topic, settings, channel in _topics(target)}
    for sub in target.spec.subscribers.values():
        if sub.channel not in by_channel:
            continue
        topic, settings = by_channel[sub.channel]
        if _below(settings["partitions"], sub.parallelism):
            yield (target.at((), ("subscribers", sub.name, "parallelism")),
                   f"subscriber '{sub.name}' plans parallelism {sub.parallelism} but topic '{topic}' has "
                   f"{settings['partitions']} partitions {where}; `edakit lag` tells whether a lagging group "
                   "needs more consumers or more partitions")


@rule("EDA012", "avro-registry", Severity.ERROR,
      "Avro records carry a schema id, not the schema: without a registry no consumer can decode them.")
def avro_registry(target: Target) -> Iterator[tuple[Location, str]]:
    spec = target.spec
    if spec is None or (spec.kafka is not None and spec.kafka.schema_registry_url):
        return
    on_kafka = {event for c in spec.channels.values() if c.kafka is not None for event in c.events}
    for event in spec.events.values():
        if event.schema.endswith(".avsc") and event.name in on_kafka:
            yield (target.at((), ("kafka",), ("events", event.name, "schema")),
                   f"event '{event.name}' is Avro ({event.schema}) on Kafka but kafka.schema_registry_url is not set")


@rule("EDA013", "auto-commit-idempotency", Severity.ERROR,
      "Auto-commit acknowledges offsets before the handler finishes, so the idempotent consumer's "
      "at-least-once guarantee no longer holds.")
def auto_commit_idempotency(target: Target) -> Iterator[tuple[Location, str]]:
    spec = target.spec
    if spec is not None and spec.consumer.enable_auto_commit:
        yield (target.at((), ("consumer", "enable_auto_commit")),
               f"enable_auto_commit is true while the consumer claims idempotency (idempotency_window_hours "
               f"{spec.consumer.idempotency_window_hours}); set enable_auto_commit: false")
