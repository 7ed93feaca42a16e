"""tfvars for terraform/modules/kafka-topics: every kafka channel's topic and every subscriber's consumer group."""

from __future__ import annotations

from typing import Any

from edakit.spec.model import Channel, KafkaTopic, Spec



def tfvars(spec: Spec, channels: list[Channel]) -> dict[str, Any] | None:
    """`channels`: the spec's kafka channels (edakit.brokers.channels_on)."""
    topics = {c.name: c.kafka for c in channels if c.kafka is not None}
    if not topics or spec.kafka is None:
        return None
    settings = spec.kafka
    consumer_groups = {
        sub.consumer_group: {
            "topics": [spec.channels[sub.channel].resource_name],
            "principals": list(sub.principals),
            # The first delivery reads the topic itself; each further attempt reads one retry topic.
            "retry_topic_count": sub.dlq.max_receive_count - 1,
            "dlq_retention_hours": sub.dlq.retention_hours,
        }
        for sub in spec.subscribers.values()
        if sub.consumer_group is not None
    }
    return {
        "default_partitions": settings.default_partitions,
        "default_replication_factor": settings.default_replication_factor,
        "default_retention_hours": settings.retention_hours,
        "default_min_insync_replicas": settings.min_insync_replicas,
        "topics": {spec.channels[name].resource_name: _topic(topic) for name, topic in topics.items()},
        "consumer_groups": consumer_groups,
    }


def _topic(topic: KafkaTopic) -> dict[str, Any]:
    return {
        "partitions": topic.partitions,
        "replication_factor": topic.replication_factor,
        "retention_hours": topic.retention_hours,
        "min_insync_replicas": topic.min_insync_replicas,
        "cleanup_policy": topic.cleanup_policy,
        "producers": list(topic.producers),
    }


def provider_settings(spec: Spec, channels: list[Channel]) -> dict[str, Any] | None:
    """`bootstrap_servers` for the Kafka pattern roots' provider block (the module itself has no provider)."""
    return {"bootstrap_servers": list(spec.kafka.bootstrap_servers)} if channels and spec.kafka is not None else None
