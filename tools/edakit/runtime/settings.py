"""A subscriber's consumer settings and a publisher's attribute contracts from the system spec, so the service's
code and its Terraform agree.

The spec's `consumer` block holds the defaults of the kit's consumer runtime and each subscriber's `retry` and `dlq`
blocks its redelivery; the renderers turn the same values into the queue's redrive policy, the Kafka retry topics
or the Pub/Sub dead_letter_policy. `consumer_settings(spec, name)` hands them to the runtime; the end-to-end test in
tests/runtime/test_settings.py shows the whole path (spec -> settings -> subscriber, retry, Router).
`broker_settings(spec)` is how the service reaches the broker (Kafka bootstrap servers, schema registry, AWS region,
Google project) and `spec_broker(spec)` the adapter its profile opens from them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from edakit.brokers import AttributeContract, consumed, contract, profile
from edakit.runtime.adapters.security import spec_security
from edakit.runtime.middleware.retry import RetryPolicy
from edakit.spec.model import Spec

if TYPE_CHECKING:
    from edakit.runtime.adapters.base import Broker


class SettingsError(ValueError):
    """A subscriber the kit's consumer runtime cannot take its settings from."""


@dataclass(frozen=True)
class ConsumerSettings:
    topic: str  # the channel's name on the broker
    group: str  # the adapter's group: queue `<topic>-<group>`, subscription `<topic>-<group>`, Kafka consumer group
    retry: RetryPolicy  # max_attempts = dlq.max_receive_count: the service gives up where the broker would
    idempotency_window_hours: int
    max_messages: int  # consumer.max_poll_records per receive (adapters cap it at their broker's batch limit)
    lease_seconds: int  # consumer.processing_timeout_seconds: how far ahead the Router keeps broker and store leases
    retry_topic_count: int | None  # Kafka: the retry topics the kafka-topics module creates for the group
    shutdown_grace_seconds: int = 25  # consumer.shutdown_grace_seconds: the worker's drain deadline after SIGTERM


def consumer_settings(spec: Spec, subscriber: str) -> ConsumerSettings:
    """The settings of `subscriber` in `spec` (loaded for the environment the service runs in)."""
    if subscriber not in spec.subscribers:
        raise SettingsError(f"{spec.file}: no subscriber {subscriber!r}; the spec has "
                            f"{', '.join(sorted(spec.subscribers)) or 'none'}")
    sub = spec.subscribers[subscriber]
    channel = spec.channels[sub.channel]
    where = f"{spec.location('subscribers', subscriber)} subscribers.{subscriber}"
    broker = profile(channel.broker)
    if broker.consumer_group is None:  # Event Grid pushes to a webhook; EventBridge delivers to its targets' queues
        raise SettingsError(f"{where}: channel {sub.channel!r} is on {channel.broker}, which the runtime does not "
                            f"consume through a Broker (it does for {', '.join(p.name for p in consumed())})")
    if not sub.dlq.enabled:
        raise SettingsError(f"{where}.dlq.enabled is false, but the runtime's retry dead-letters after "
                            f"dlq.max_receive_count deliveries: enable the subscriber's DLQ")
    return ConsumerSettings(
        topic=channel.resource_name,
        group=broker.consumer_group(sub),
        retry=RetryPolicy(max_attempts=sub.dlq.max_receive_count, base_delay=float(sub.retry.min_backoff_seconds),
                          max_delay=float(sub.retry.max_backoff_seconds)),
        idempotency_window_hours=spec.consumer.idempotency_window_hours,
        max_messages=spec.consumer.max_poll_records,
        lease_seconds=spec.consumer.processing_timeout_seconds,
        retry_topic_count=broker.retry_topics(sub),
        shutdown_grace_seconds=spec.consumer.shutdown_grace_seconds,
    )


@dataclass(frozen=True)
class PublisherSettings:
    """What the kit's publishers send on each channel of a spec: its publish contract (edakit.brokers), by topic."""

    contracts: Mapping[str, AttributeContract]  # by the channel's name on the broker (Channel.resource_name)


def publisher_settings(spec: Spec) -> PublisherSettings:
    """The publish contracts of every channel of `spec` (loaded for the environment the service runs in): pass them
    to the broker's `publisher(settings)` so it sets the declared attributes and refuses what exceeds the budget."""
    contracts = {}
    for name, channel in spec.channels.items():
        found = contract(spec, name)
        if found is not None:
            contracts[channel.resource_name] = found
    return PublisherSettings(contracts)


@dataclass(frozen=True)
class BrokerSettings:
    """How a service reaches its spec's broker (the spec's `broker` and that broker's settings block), so the
    adapters and the Terraform pattern roots read the same values."""

    broker: str  # the spec's default broker, a profile name (edakit.brokers)
    bootstrap_servers: str | None  # kafka.bootstrap_servers joined with "," as librdkafka's bootstrap.servers
    schema_registry_url: str | None  # kafka.schema_registry_url
    region: str | None  # sqs_sns.region
    project_id: str | None  # pubsub.project_id
    # The `security` block of the broker's settings block (edakit.runtime.adapters.security.spec_security), after
    # the spec's environment is merged in; None: none written (plaintext Kafka, the default AWS/Google chains).
    security: Mapping | None = None


def broker_settings(spec: Spec, security: Mapping[str, Mapping] | None = None) -> BrokerSettings:
    """The spec's broker settings; `security` is spec_security's result for the spec (read from the spec's file
    for its environment when not given), of which the spec's broker block's entry is kept."""
    if security is None:
        security = spec_security(spec.file, spec.environment, root=spec.root)
    return BrokerSettings(
        broker=spec.broker,
        bootstrap_servers=",".join(spec.kafka.bootstrap_servers) if spec.kafka is not None else None,
        schema_registry_url=spec.kafka.schema_registry_url if spec.kafka is not None else None,
        region=spec.sqs_sns.region if spec.sqs_sns is not None else None,
        project_id=spec.pubsub.project_id if spec.pubsub is not None else None,
        security=security.get(profile(spec.broker).block),
    )


def spec_broker(spec: Spec, security: Mapping[str, Mapping] | None = None) -> Broker:
    """The adapter of the spec's broker, opened from its settings and its `security` block by the broker's profile
    (not yet contacted: `check_reachable` tells whether it answers)."""
    found = profile(spec.broker)
    if found.connect is None:
        raise SettingsError(f"{spec.location('broker')} broker: {spec.broker} is not consumed through a Broker "
                            f"adapter (the runtime opens {', '.join(p.name for p in consumed())})")
    if getattr(spec, found.block) is None:  # the Spec's settings fields are named like the blocks
        raise SettingsError(f"{spec.location('broker')} broker: {spec.broker} needs the top-level `{found.block}` "
                            "block (how to reach it)")
    return found.connect(broker_settings(spec, security))
