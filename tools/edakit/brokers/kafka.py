"""Apache Kafka profile.

- Attributes: CloudEvents attributes travel as `ce_<name>` record headers (Kafka protocol binding; the key is the
  record key), declared native attributes as headers under their own names; the publisher refuses undeclared
  headers. Kafka has no header count limit (only the record size) and no broker-side filters, so every consumer
  group reads the whole topic.
- Module `kafka-topics`; DLQ topic `<topic>.<group>.dlq` behind `dlq.max_receive_count - 1` retry topics.
- URL `kafka://HOST:PORT[,HOST:PORT...]` (`edakit dlq`, `edakit outbox`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from edakit.brokers.profile import (
    AttributeMapping, BrokerProfile, BrokerUrlError, Capabilities, DeliveryRules, SizeLimit,
)

if TYPE_CHECKING:
    from edakit.brokers.attributes import AttributeContract
    from edakit.runtime.adapters.base import Broker
    from edakit.runtime.message import Message
    from edakit.runtime.settings import BrokerSettings
    from edakit.spec.errors import Problem
    from edakit.spec.model import Channel, Spec, Subscriber
    from edakit.spec.source import Document

BROKER = "kafka"
PREFIX = "ce_"
WHY = ""
# A one-shot tool joins its group once: short session timings make that join take ~1 s instead of ~20 s.
TOOL_CONSUMER = {"session.timeout.ms": 6000, "heartbeat.interval.ms": 500}


def budget(spec: object, channel: str) -> None:
    return None


def filter_attributes(subscription_filter: object) -> set[str]:
    return set()


def _encode(message: Message, contract: AttributeContract | None) -> tuple[str, dict[str, dict[str, str]]]:
    """The record as `edakit routes` sees it: its value and headers (Kafka filters nothing; a refusal matters)."""
    from edakit.runtime.adapters.kafka import encode

    _key, value, headers = encode(message, contract=contract)
    return value.decode(errors="replace"), {n: {"DataType": "String", "StringValue": v} for n, v in headers}


def dead_letter_topic(topic: str, group: str) -> str:
    return f"{topic}.{group}.dlq"


def _group(sub: Subscriber) -> str:
    return sub.consumer_group if sub.consumer_group is not None else sub.name


def _retry_topics(sub: Subscriber) -> int:
    """The retry topics the kafka-topics module creates for the group: one fewer than the deliveries."""
    return sub.dlq.max_receive_count - 1


def open_url(url: str, rest: str, security: Mapping | None = None) -> Broker:
    """KafkaBroker on the URL's bootstrap servers; `security` is a spec's `kafka.security` (a URL carries none)."""
    from edakit.runtime.adapters.kafka import KafkaBroker

    bootstrap = rest.removeprefix("//")
    if not bootstrap or any(not h.rpartition(":")[2].isdigit() for h in bootstrap.split(",")):
        raise BrokerUrlError(f"broker {url!r}: expected kafka://HOST:PORT[,HOST:PORT...]")
    return KafkaBroker(bootstrap, consumer_config=TOOL_CONSUMER, security=security)


def connect(settings: BrokerSettings) -> Broker:
    """KafkaBroker on the spec's `kafka.bootstrap_servers` (a list or the seed's comma-separated string), every
    client configured from `kafka.security` (TLS, SASL)."""
    from edakit.runtime.adapters.kafka import KafkaBroker

    return KafkaBroker(settings.bootstrap_servers or "", security=settings.security)


def _render(spec: Spec, channels: list[Channel]) -> dict[str, Any] | None:
    from edakit.render import kafka_topics

    return kafka_topics.tfvars(spec, channels)


def _provider_settings(spec: Spec, channels: list[Channel]) -> dict[str, Any] | None:
    from edakit.render import kafka_topics

    return kafka_topics.provider_settings(spec, channels)


def topic_rules(spec: Spec, doc: Document) -> Iterator[Problem]:
    """min.insync.replicas above the replication factor blocks every acks=all write; one group per subscriber."""
    from edakit.spec.source import first_written, written

    for channel in spec.channels.values():
        topic = channel.kafka
        if topic is not None and topic.min_insync_replicas > topic.replication_factor:
            yield doc.problem(
                first_written(doc, ("channels", channel.name, "kafka", "min_insync_replicas"),
                              ("channels", channel.name, "kafka", "replication_factor"),
                              ("kafka", "min_insync_replicas"), ("channels", channel.name)),
                f"min_insync_replicas {topic.min_insync_replicas} exceeds the replication factor "
                f"{topic.replication_factor} of channel '{channel.name}': producers with acks=all could never write",
            )
    groups: dict[str, str] = {}
    for sub in spec.subscribers.values():
        if sub.consumer_group is None:
            continue
        if sub.consumer_group in groups:
            yield doc.problem(
                written(doc, "subscribers", sub.name, "kafka", "consumer_group"),
                f"consumer group '{sub.consumer_group}' is already used by subscriber '{groups[sub.consumer_group]}'; "
                "each subscriber needs its own group to receive every message",
            )
        groups.setdefault(sub.consumer_group, sub.name)


PROFILE = BrokerProfile(
    name=BROKER,
    block="kafka",
    title="Kafka",
    module="kafka-topics",
    render=_render,
    provider_settings=_provider_settings,
    capabilities=Capabilities(ordering="partition (by record key)", native_dlq=False, leases=False,
                              server_side_filtering=False, replay=True, fifo_topics=False, one_channel_per_spec=False),
    delivery=DeliveryRules(dlq_required="kafka subscribers always get a DLQ topic: without one, a failing message "
                                        "blocks its partition"),
    filters=None,
    no_filter_reason="Kafka has no broker-side filtering: every consumer group reads the whole topic; remove `filter`",
    attributes=AttributeMapping(prefix=PREFIX, budget=budget, why=WHY),
    encode=_encode,
    checks=(topic_rules,),
    consumer_group=_group,
    retry_topics=_retry_topics,
    dlq_name=dead_letter_topic,
    url_scheme="kafka",
    url_forms="kafka://HOST:PORT[,HOST:PORT...]",
    open_url=open_url,
    connect=connect,
    module_defaults={
        "default_partitions": 3,
        "default_replication_factor": 3,
        "default_min_insync_replicas": 2,
        "default_retention_hours": 168,
        "consumer_groups.retry_topic_count": 3,
    },
    # The topic's `max.message.bytes` (default 1 MiB + 12 bytes, the broker's `message.max.bytes`) and the producer's
    # `max.request.size` (default 1 MiB). Record values are bytes: no base64.
    size_limit=SizeLimit(1024 * 1024, base64=False, default_threshold=768 * 1024),
    adapter_module="kafka",
    messaging_system="kafka",
    wire="confluent",
)
