"""The typed spec: what renderers, lint and routes read. Defaults are resolved; nothing reads the YAML again."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from edakit.spec.errors import KeyPath

Broker = Literal["kafka", "sqs-sns", "event-grid", "pubsub", "eventbridge"]


@dataclass(frozen=True)
class Location:
    file: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


@dataclass(frozen=True)
class KafkaSettings:
    bootstrap_servers: tuple[str, ...]
    schema_registry_url: str | None
    default_replication_factor: int
    default_partitions: int
    retention_hours: int
    min_insync_replicas: int


@dataclass(frozen=True)
class SqsQueueSettings:
    visibility_timeout_seconds: int
    message_retention_hours: int
    receive_wait_time_seconds: int
    raw_message_delivery: bool
    age_of_oldest_message_alarm_seconds: int


@dataclass(frozen=True)
class SqsSnsSettings:
    region: str
    dlq_max_receive_count: int
    dlq_retention_hours: int
    kms_master_key_id: str | None
    alarm_actions: tuple[str, ...]
    queue_defaults: SqsQueueSettings


@dataclass(frozen=True)
class EventGridSettings:
    resource_group_name: str
    location: str
    input_schema: str
    dead_letter_storage_account_name: str | None  # set: the module creates this account
    dead_letter_storage_account_id: str | None  # set: an existing account receives dead letters
    dead_letter_container_name: str
    dead_letter_retention_days: int
    alert_action_groups: tuple[str, ...]
    inbound_ip_rules: tuple[str, ...] = ()  # non-empty: a public endpoint open to these ranges only


@dataclass(frozen=True)
class PubSubSettings:
    project_id: str
    location: str | None
    kms_key_name: str | None
    notification_channels: tuple[str, ...]


@dataclass(frozen=True)
class EventBridgeSettings:
    region: str
    archive_retention_days: int
    kms_key_identifier: str | None
    alarm_actions: tuple[str, ...]


@dataclass(frozen=True)
class ClaimCheck:
    store: Literal["s3", "azure-blob", "gcs"]
    name: str  # bucket or storage account
    payload_expiration_days: int
    readers: tuple[str, ...]
    writers: tuple[str, ...]
    # Runtime settings (edakit.runtime.claimcheck.settings): which channels offload, above what size, and deletes.
    channels: tuple[str, ...] | None = None  # None: every channel of the spec
    threshold_bytes: int | None = None  # None: the channel's broker default (edakit.runtime.claimcheck.limits)
    always_offload: bool = False
    delete_after_processing: bool = False


@dataclass(frozen=True)
class Saga:
    definition: str  # as written, relative to the repository root
    definition_path: Path
    region: str
    log_retention_days: int
    allow_execution_data_logging: bool  # opt-in: states' input and output reach the execution log
    integration_kms_key_arns: tuple[str, ...]
    alarm_actions: tuple[str, ...] = ()  # ARNs the module's alarms notify


@dataclass(frozen=True)
class AlertThresholds:
    """When a subscriber's generated Prometheus alerts fire (edakit.observability.alerts)."""

    lag_messages: int
    lag_seconds: int
    dlq_messages: int  # the DLQ may hold this many before DeadLetterQueueNotEmpty fires
    error_ratio: float
    for_seconds: int


@dataclass(frozen=True)
class ConsumerSettings:
    max_poll_records: int
    enable_auto_commit: bool
    idempotency_window_hours: int
    processing_timeout_seconds: int
    shutdown_grace_seconds: int = 25  # the worker's drain deadline after SIGTERM (edakit.runtime.worker)


@dataclass(frozen=True)
class Event:
    name: str
    schema: str  # as written, relative to the repository root
    schema_path: Path
    version: int
    domain: str | None
    description: str | None


@dataclass(frozen=True)
class KafkaTopic:
    partitions: int
    replication_factor: int
    retention_hours: int
    min_insync_replicas: int
    cleanup_policy: str
    producers: tuple[str, ...]


@dataclass(frozen=True)
class PubSubTopic:
    message_retention_hours: int | None
    schema_encoding: str | None  # set: the event's Avro schema becomes the topic's Pub/Sub schema


@dataclass(frozen=True)
class Channel:
    name: str
    resource_name: str  # <spec>-<environment>-<channel>: the topic's name in the cloud
    broker: Broker
    events: tuple[str, ...]
    fifo: bool
    content_based_deduplication: bool
    kafka: KafkaTopic | None  # set for kafka channels only
    pubsub: PubSubTopic | None  # set for pubsub channels only
    description: str | None
    # The publish contract (edakit.brokers): declared CloudEvents extensions and native attribute -> value source.
    attribute_headers: tuple[str, ...] = ()
    native_attributes: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Filter:
    policy: Mapping[str, Any] | str  # the broker's native form
    scope: str


@dataclass(frozen=True)
class RetryPolicy:
    min_backoff_seconds: int
    max_backoff_seconds: int
    max_event_age_seconds: int


@dataclass(frozen=True)
class DlqPolicy:
    enabled: bool
    max_receive_count: int
    retention_hours: int | None  # None only where the broker's settings are missing (a reported problem)


@dataclass(frozen=True)
class EventGridDestination:
    type: str
    webhook_url: str | None
    resource_id: str | None
    queue_name: str | None
    # How a webhook authenticates Event Grid: an Entra ID token for this tenant and application and/or a secret header.
    active_directory_tenant_id: str | None = None
    active_directory_app_id_or_uri: str | None = None
    secret_header_name: str | None = None
    allow_unauthenticated_webhook: bool = False


@dataclass(frozen=True)
class PubSubSubscription:
    ack_deadline_seconds: int
    message_retention_hours: int
    enable_message_ordering: bool
    enable_exactly_once_delivery: bool
    push_endpoint: str | None  # set: a push subscription
    push_oidc_service_account_email: str | None
    push_audience: str | None
    push_allow_without_oidc_token: bool  # opt-out: the endpoint cannot authenticate deliveries


@dataclass(frozen=True)
class EventBridgeTarget:
    queue_arn: str
    message_group_id: str | None


@dataclass(frozen=True)
class Subscriber:
    name: str
    channel: str
    filter: Filter | None
    retry: RetryPolicy
    dlq: DlqPolicy
    parallelism: int
    queue: SqsQueueSettings | None  # sqs-sns subscribers only
    consumer_group: str | None  # kafka subscribers only
    event_grid: EventGridDestination | None  # event-grid subscribers only
    pubsub: PubSubSubscription | None  # pubsub subscribers only
    eventbridge: EventBridgeTarget | None  # eventbridge subscribers (rules) only
    principals: tuple[str, ...]
    description: str | None
    alerts: AlertThresholds


@dataclass(frozen=True)
class Spec:
    name: str
    environment: str | None
    description: str | None
    broker: Broker
    pattern: str | None  # terraform/patterns/<pattern>, the root the rendered tfvars are planned against
    tags: Mapping[str, str]
    kafka: KafkaSettings | None
    sqs_sns: SqsSnsSettings | None
    event_grid: EventGridSettings | None
    pubsub: PubSubSettings | None
    eventbridge: EventBridgeSettings | None
    claim_check: ClaimCheck | None
    saga: Saga | None
    consumer: ConsumerSettings
    alerts: AlertThresholds  # the spec-wide thresholds; each subscriber's own are in Subscriber.alerts
    events: Mapping[str, Event]
    channels: Mapping[str, Channel]
    subscribers: Mapping[str, Subscriber]
    environments: tuple[str, ...]  # every environment the file defines
    file: str
    root: Path  # repository root; event schema paths are relative to it
    locations: Mapping[KeyPath, Location]

    def location(self, *path: str | int) -> Location:
        """Where `path` (or its nearest written ancestor) is written, for findings about the spec."""
        for end in range(len(path), -1, -1):
            if path[:end] in self.locations:
                return self.locations[path[:end]]
        return Location(self.file, 1, 1)

    def subscribers_of(self, channel: str) -> list[Subscriber]:
        return [s for s in self.subscribers.values() if s.channel == channel]

    def longest_message_retention_hours(self) -> int | None:
        """The longest any message can wait in a queue, subscription or DLQ of the spec (None: none is set)."""
        hours = [s.queue.message_retention_hours for s in self.subscribers.values() if s.queue is not None]
        hours += [s.dlq.retention_hours for s in self.subscribers.values() if s.dlq.retention_hours is not None]
        hours += [s.pubsub.message_retention_hours for s in self.subscribers.values() if s.pubsub is not None]
        return max(hours, default=None)
