"""Schema-valid spec data -> the typed model, resolving every default in one place."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from edakit.spec.model import (
    AlertThresholds,
    Channel,
    ClaimCheck,
    ConsumerSettings,
    DlqPolicy,
    Event,
    EventBridgeSettings,
    EventBridgeTarget,
    EventGridDestination,
    EventGridSettings,
    Filter,
    KafkaSettings,
    KafkaTopic,
    Location,
    PubSubSettings,
    PubSubSubscription,
    PubSubTopic,
    RetryPolicy,
    Saga,
    SqsQueueSettings,
    SqsSnsSettings,
    Spec,
    Subscriber,
)
from edakit.spec.schema import defaults
from edakit.spec.source import Document


def resource_name(spec_name: str, environment: str | None, item: str) -> str:
    """`orders-staging-order-placed`: the one naming rule for cloud resources derived from a spec."""
    return "-".join(part for part in (spec_name, environment, item) if part)


def build(document: Document, environment: str | None, environments: list[str], root: Path) -> Spec:
    data: dict[str, Any] = document.data
    kafka = _kafka(data["kafka"]) if "kafka" in data else None
    sqs_sns = _sqs_sns(data["sqs_sns"]) if "sqs_sns" in data else None
    channels = {
        name: _channel(name, raw, data, kafka, environment) for name, raw in data.get("channels", {}).items()
    }
    alerts = {**defaults("alert_thresholds"), **data.get("alerts", {})}
    subscribers = {
        name: _subscriber(name, raw, data["name"], environment, channels, sqs_sns, alerts)
        for name, raw in data.get("subscribers", {}).items()
    }
    return Spec(
        name=data["name"],
        environment=environment,
        description=data.get("description"),
        broker=data["broker"],
        pattern=data.get("pattern"),
        tags=dict(data.get("tags", {})),
        kafka=kafka,
        sqs_sns=sqs_sns,
        event_grid=_event_grid(data["event_grid"]) if "event_grid" in data else None,
        pubsub=_pubsub(data["pubsub"]) if "pubsub" in data else None,
        eventbridge=_eventbridge(data["eventbridge"]) if "eventbridge" in data else None,
        claim_check=_claim_check(data["claim_check"], data["name"], environment) if "claim_check" in data else None,
        saga=_saga(data["saga"], root) if "saga" in data else None,
        consumer=_consumer({**defaults("consumer_settings"), **data.get("consumer", {})}),
        alerts=_alerts(alerts),
        events={name: _event(name, raw, root) for name, raw in data.get("events", {}).items()},
        channels=channels,
        subscribers=subscribers,
        environments=tuple(environments),
        file=document.file,
        root=root,
        locations={path: Location(document.file, *pos) for path, pos in document.positions.items()},
    )


def _alerts(values: dict[str, Any]) -> AlertThresholds:
    return AlertThresholds(
        lag_messages=int(values["lag_messages"]),
        lag_seconds=int(values["lag_seconds"]),
        dlq_messages=int(values["dlq_messages"]),
        error_ratio=float(values["error_ratio"]),
        for_seconds=int(values["for_seconds"]),
    )


def _consumer(values: dict[str, Any]) -> ConsumerSettings:
    return ConsumerSettings(
        max_poll_records=int(values["max_poll_records"]),
        enable_auto_commit=values["enable_auto_commit"],
        idempotency_window_hours=int(values["idempotency_window_hours"]),
        processing_timeout_seconds=int(values["processing_timeout_seconds"]),
        shutdown_grace_seconds=int(values["shutdown_grace_seconds"]),
    )


def bootstrap_servers(value: str | list[str]) -> tuple[str, ...]:
    """`kafka.bootstrap_servers` as a list, or as the seed's comma-separated string ("h1:9092, h2:9092")."""
    items = value.split(",") if isinstance(value, str) else value
    return tuple(item.strip() for item in items)


def _kafka(raw: dict[str, Any]) -> KafkaSettings:
    values = {**defaults("kafka_settings"), **raw}
    return KafkaSettings(
        bootstrap_servers=bootstrap_servers(values["bootstrap_servers"]),
        schema_registry_url=values.get("schema_registry_url"),
        default_replication_factor=int(values["default_replication_factor"]),
        default_partitions=int(values["default_partitions"]),
        retention_hours=int(values["retention_hours"]),
        min_insync_replicas=int(values["min_insync_replicas"]),
    )


def _queue(values: dict[str, Any]) -> SqsQueueSettings:
    return SqsQueueSettings(
        visibility_timeout_seconds=int(values["visibility_timeout_seconds"]),
        message_retention_hours=int(values["message_retention_hours"]),
        receive_wait_time_seconds=int(values["receive_wait_time_seconds"]),
        raw_message_delivery=values["raw_message_delivery"],
        age_of_oldest_message_alarm_seconds=int(values["age_of_oldest_message_alarm_seconds"]),
    )


def _sqs_sns(raw: dict[str, Any]) -> SqsSnsSettings:
    values = {**defaults("sqs_sns_settings"), **raw}
    return SqsSnsSettings(
        region=values["region"],
        dlq_max_receive_count=int(values["dlq_max_receive_count"]),
        dlq_retention_hours=int(values["dlq_retention_hours"]),
        kms_master_key_id=values.get("kms_master_key_id"),
        alarm_actions=tuple(values["alarm_actions"]),
        queue_defaults=_queue(values),
    )


def _event_grid(raw: dict[str, Any]) -> EventGridSettings:
    values = {**defaults("event_grid_settings"), **raw}
    storage = {**defaults("event_grid_settings", "dead_letter_storage"), **raw.get("dead_letter_storage", {})}
    return EventGridSettings(
        resource_group_name=values["resource_group_name"],
        location=values["location"],
        input_schema=values["input_schema"],
        dead_letter_storage_account_name=storage.get("storage_account_name"),
        dead_letter_storage_account_id=storage.get("storage_account_id"),
        dead_letter_container_name=storage["container_name"],
        dead_letter_retention_days=int(storage["retention_days"]),
        alert_action_groups=tuple(values["alert_action_groups"]),
        inbound_ip_rules=tuple(values["inbound_ip_rules"]),
    )


def _pubsub(raw: dict[str, Any]) -> PubSubSettings:
    values = {**defaults("pubsub_settings"), **raw}
    return PubSubSettings(
        project_id=values["project_id"],
        location=values.get("location"),
        kms_key_name=values.get("kms_key_name"),
        notification_channels=tuple(values["notification_channels"]),
    )


def _eventbridge(raw: dict[str, Any]) -> EventBridgeSettings:
    values = {**defaults("eventbridge_settings"), **raw}
    return EventBridgeSettings(
        region=values["region"],
        archive_retention_days=int(values["archive_retention_days"]),
        kms_key_identifier=values.get("kms_key_identifier"),
        alarm_actions=tuple(values["alarm_actions"]),
    )


def _claim_check(raw: dict[str, Any], spec_name: str, environment: str | None) -> ClaimCheck:
    values = {**defaults("claim_check"), **raw}
    return ClaimCheck(
        store=values["store"],
        name=values.get("name", resource_name(spec_name, environment, "claim-checks")),
        payload_expiration_days=int(values["payload_expiration_days"]),
        readers=tuple(values["readers"]),
        writers=tuple(values["writers"]),
        channels=tuple(values["channels"]) if "channels" in values else None,
        threshold_bytes=values.get("threshold_bytes"),
        always_offload=bool(values["always_offload"]),
        delete_after_processing=bool(values["delete_after_processing"]),
    )


def _saga(raw: dict[str, Any], root: Path) -> Saga:
    values = {**defaults("saga"), **raw}
    return Saga(
        definition=values["definition"],
        definition_path=root / values["definition"],
        region=values["region"],
        log_retention_days=int(values["log_retention_days"]),
        allow_execution_data_logging=values["allow_execution_data_logging"],
        integration_kms_key_arns=tuple(values["integration_kms_key_arns"]),
        alarm_actions=tuple(values["alarm_actions"]),
    )


def _event(name: str, raw: dict[str, Any], root: Path) -> Event:
    return Event(
        name=name,
        schema=raw["schema"],
        schema_path=root / raw["schema"],
        version=int(raw["version"]),
        domain=raw.get("domain"),
        description=raw.get("description"),
    )


def _channel(
    name: str, raw: dict[str, Any], data: dict[str, Any], kafka: KafkaSettings | None, environment: str | None
) -> Channel:
    values = {**defaults("channel"), **raw}
    broker = values.get("broker", data["broker"])
    topic = None
    if broker == "kafka" and kafka is not None:
        given = {**defaults("channel", "kafka"), **raw.get("kafka", {})}
        topic = KafkaTopic(
            partitions=int(given.get("partitions", kafka.default_partitions)),
            replication_factor=int(given.get("replication_factor", kafka.default_replication_factor)),
            retention_hours=int(given.get("retention_hours", kafka.retention_hours)),
            min_insync_replicas=int(given.get("min_insync_replicas", kafka.min_insync_replicas)),
            cleanup_policy=given["cleanup_policy"],
            producers=tuple(given["producers"]),
        )
    sqs_sns = {**defaults("channel", "sqs_sns"), **raw.get("sqs_sns", {})}
    pubsub = raw.get("pubsub", {})
    return Channel(
        name=name,
        resource_name=resource_name(data["name"], environment, name),
        broker=broker,
        events=tuple(values["events"]),
        fifo=values["fifo"],
        content_based_deduplication=sqs_sns["content_based_deduplication"],
        kafka=topic,
        pubsub=PubSubTopic(pubsub.get("message_retention_hours"), pubsub.get("schema_encoding"))
        if broker == "pubsub"
        else None,
        description=values.get("description"),
        attribute_headers=tuple(raw.get("attributes", {}).get("headers", ())),
        native_attributes=dict(raw.get("attributes", {}).get("native", {})),
    )


def _subscriber(
    name: str,
    raw: dict[str, Any],
    spec_name: str,
    environment: str | None,
    channels: dict[str, Channel],
    sqs_sns: SqsSnsSettings | None,
    alerts: dict[str, Any],
) -> Subscriber:
    values = {**defaults("subscriber"), **raw}
    channel = channels.get(values["channel"])
    broker = channel.broker if channel else None
    dlq = defaults("dlq_policy")
    queue = None
    consumer_group = None
    if broker == "sqs-sns" and sqs_sns is not None:
        queue = _queue({**sqs_sns.queue_defaults.__dict__, **raw.get("sqs_sns", {})})
        dlq |= {"max_receive_count": sqs_sns.dlq_max_receive_count, "retention_hours": sqs_sns.dlq_retention_hours}
    if broker == "kafka" and channel is not None and channel.kafka is not None:
        consumer_group = raw.get("kafka", {}).get("consumer_group", resource_name(spec_name, environment, name))
        dlq |= {"retention_hours": channel.kafka.retention_hours}
    dlq |= raw.get("dlq", {})
    filter_ = {**defaults("filter"), **raw["filter"]} if "filter" in raw else None
    retry = {**defaults("retry_policy"), **raw.get("retry", {})}
    return Subscriber(
        name=name,
        channel=values["channel"],
        filter=Filter(filter_["policy"], filter_["scope"]) if filter_ else None,
        retry=RetryPolicy(
            min_backoff_seconds=int(retry["min_backoff_seconds"]),
            max_backoff_seconds=int(retry["max_backoff_seconds"]),
            max_event_age_seconds=int(retry["max_event_age_seconds"]),
        ),
        dlq=DlqPolicy(
            enabled=dlq["enabled"],
            max_receive_count=int(dlq["max_receive_count"]),
            retention_hours=int(dlq["retention_hours"]) if "retention_hours" in dlq else None,
        ),
        parallelism=int(values["parallelism"]),
        queue=queue,
        consumer_group=consumer_group,
        event_grid=_destination(raw["event_grid"]["destination"])
        if broker == "event-grid" and "event_grid" in raw
        else None,
        pubsub=_subscription(raw.get("pubsub", {})) if broker == "pubsub" else None,
        eventbridge=EventBridgeTarget(raw["eventbridge"]["queue_arn"], raw["eventbridge"].get("message_group_id"))
        if broker == "eventbridge" and "eventbridge" in raw
        else None,
        principals=tuple(raw.get("kafka", {}).get("principals", ())),
        description=values.get("description"),
        alerts=_alerts({**alerts, **raw.get("alerts", {})}),
    )


def _destination(raw: dict[str, Any]) -> EventGridDestination:
    return EventGridDestination(raw["type"], raw.get("webhook_url"), raw.get("resource_id"), raw.get("queue_name"),
                                raw.get("active_directory_tenant_id"), raw.get("active_directory_app_id_or_uri"),
                                raw.get("secret_header_name"), bool(raw.get("allow_unauthenticated_webhook", False)))


def _subscription(raw: dict[str, Any]) -> PubSubSubscription:
    values = {**defaults("subscriber", "pubsub"), **raw}
    push = raw.get("push", {})
    return PubSubSubscription(
        ack_deadline_seconds=int(values["ack_deadline_seconds"]),
        message_retention_hours=int(values["message_retention_hours"]),
        enable_message_ordering=values["enable_message_ordering"],
        enable_exactly_once_delivery=values["enable_exactly_once_delivery"],
        push_endpoint=push.get("endpoint"),
        push_oidc_service_account_email=push.get("oidc_service_account_email"),
        push_audience=push.get("audience"),
        push_allow_without_oidc_token=push.get("allow_without_oidc_token", False),
    )
