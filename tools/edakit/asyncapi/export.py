"""A kit spec -> an AsyncAPI 3.0 document.

Standard AsyncAPI carries what it can: one server per environment and broker, one channel per spec channel (its
address is the cloud name, `{environment}` a parameter), a `send` operation per channel (the publishers) and a
`receive` operation per subscriber, messages whose payload references the event's schema file (Avro with its
schemaFormat, JSON Schema), the CloudEvents attributes and declared broker attributes as headers, and the official
bindings (Kafka 0.5.0, SNS 0.1.0, SQS 0.2.0, Google Pub/Sub 0.2.0: the versions AsyncAPI's parser accepts in a 3.0
document) holding the resolved values: of `--env`'s environment, or of the base spec when the document covers every
environment (their overrides are then in `x-edakit-environments`).

`x-edakit-*` extensions carry the rest: `x-edakit-spec` (the spec-wide settings as written), `x-edakit-environments`
(the overrides as written), `x-edakit-channel` / `x-edakit-subscriber` (each block as written, minus what the
standard fields hold), `x-edakit-event` (schema path, version, domain), and, resolved for readers, `x-edakit-retry`,
`x-edakit-dlq`, `x-edakit-alerts`, `x-edakit-filter` and `x-edakit-event-grid` on each receive operation.
`edakit asyncapi import` reads the kit's spec back from exactly these places (edakit.asyncapi.roundtrip).
"""

from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import Any

from edakit.brokers import PROFILES, contract
from edakit.brokers.attributes import ALWAYS, CONTENT_TYPE, OPTIONAL
from edakit.spec import SpecError, load_environments, load_spec
from edakit.spec.limits import MAX_SPEC_BYTES
from edakit.spec.model import Channel, Spec, Subscriber
from edakit.spec.source import read_document

ASYNCAPI_VERSION = "3.0.0"
AVRO_FORMAT = "application/vnd.apache.avro;version=1.9.0"
JSON_SCHEMA_FORMAT = "application/schema+json;version=draft-07"
KAFKA_BINDING = "0.5.0"
SNS_BINDING = "0.1.0"
SQS_BINDING = "0.2.0"
PUBSUB_BINDING = "0.2.0"
# The spec's top-level keys standard AsyncAPI fields carry; every other one goes to x-edakit-spec as written.
STANDARD_KEYS = ("name", "description", "events", "channels", "subscribers", "environments")
PROTOCOLS = {"kafka": "kafka", "sqs-sns": "sns", "pubsub": "googlepubsub", "event-grid": "https",
             "eventbridge": "https"}


def operation_id(kind: str, name: str) -> str:
    """`publish-order-placed`, `receive-billing`: the operation keys import reads back."""
    return f"{kind}-{name}"


def server_id(environment: str | None, broker: str) -> str:
    return f"{environment}-{broker}" if environment else broker


def export_spec(path: str | Path, env: str | None = None, *, out_dir: Path | None = None,
                root: Path | None = None) -> dict[str, Any]:
    """The AsyncAPI document of the spec at `path`: every environment (servers per environment, overrides in
    `x-edakit-environments`), or with `env` that environment resolved. Payload `$ref`s are relative to `out_dir`
    (where the document will be written; default: the repository root). Raises SpecError for a bad spec."""
    document, problems = read_document(path, what="spec", max_bytes=MAX_SPEC_BYTES)
    if problems:
        raise SpecError(problems)
    raw: dict[str, Any] = copy.deepcopy(document.data)
    spec = load_spec(path, env, root=root)
    variants = [spec] if env is not None else load_environments(path, root=root)
    if env is not None:
        raw = _merged_raw(raw, env)
    return build_document(spec, raw, variants, out_dir or spec.root)


def _merged_raw(raw: dict[str, Any], env: str) -> dict[str, Any]:
    """The written spec with `environments.<env>` merged in (mappings key by key, anything else replaces)."""
    override = raw.pop("environments", {}).get(env) or {}

    def merge(into: dict[str, Any], over: dict[str, Any]) -> None:
        for key, value in over.items():
            if isinstance(value, dict) and isinstance(into.get(key), dict):
                merge(into[key], value)
            else:
                into[key] = copy.deepcopy(value)

    merge(raw, override)
    return raw


def build_document(spec: Spec, raw: dict[str, Any], variants: list[Spec], out_dir: Path) -> dict[str, Any]:
    brokers = list(dict.fromkeys([spec.broker, *(c.broker for c in spec.channels.values())]))
    doc: dict[str, Any] = {
        "asyncapi": ASYNCAPI_VERSION,
        "info": {"title": spec.name, "version": "1.0.0"},
    }
    if spec.description:
        doc["info"]["description"] = spec.description
    doc["defaultContentType"] = "application/json"
    settings = {k: v for k, v in raw.items() if k not in STANDARD_KEYS}
    doc["x-edakit-spec"] = settings
    if spec.environment is not None:
        doc["x-edakit-environment"] = spec.environment
    elif raw.get("environments"):
        doc["x-edakit-environments"] = raw["environments"]
    doc["servers"] = {server_id(v.environment, b): _server(v, b) for v in variants for b in brokers}
    doc["channels"] = {c.name: _channel(spec, c, raw, doc["servers"], out_dir) for c in spec.channels.values()}
    operations: dict[str, Any] = {}
    for channel in spec.channels.values():
        operations[operation_id("publish", channel.name)] = {
            "action": "send", "channel": {"$ref": f"#/channels/{_pointer(channel.name)}"},
            "summary": f"Publishers of {channel.name}",
            "messages": _message_refs(channel),
        }
    for sub in spec.subscribers.values():
        if sub.channel in spec.channels:
            operations[operation_id("receive", sub.name)] = _receive(spec, sub, raw)
    if operations:
        doc["operations"] = operations
    messages = {name: _event_message(spec, name, out_dir) for name in spec.events}
    if messages:
        doc["components"] = {"messages": messages}
    return doc


def _pointer(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def _server(spec: Spec, broker: str) -> dict[str, Any]:
    server: dict[str, Any] = {"protocol": PROTOCOLS[broker]}
    env = spec.environment
    if broker == "kafka" and spec.kafka is not None:
        server["host"] = spec.kafka.bootstrap_servers[0]
        if len(spec.kafka.bootstrap_servers) > 1:
            server["x-edakit-bootstrap-servers"] = list(spec.kafka.bootstrap_servers)
        if spec.kafka.schema_registry_url:
            server["bindings"] = {"kafka": {"schemaRegistryUrl": spec.kafka.schema_registry_url,
                                            "schemaRegistryVendor": "confluent", "bindingVersion": KAFKA_BINDING}}
    elif broker == "sqs-sns" and spec.sqs_sns is not None:
        server["host"] = f"sns.{spec.sqs_sns.region}.amazonaws.com"
    elif broker == "eventbridge" and spec.eventbridge is not None:
        server["host"] = f"events.{spec.eventbridge.region}.amazonaws.com"
    elif broker == "pubsub":
        server["host"] = "pubsub.googleapis.com"
        if spec.pubsub is not None:
            server["pathname"] = f"/projects/{spec.pubsub.project_id}"
    elif broker == "event-grid" and spec.event_grid is not None:
        server["host"] = f"{spec.event_grid.location}.eventgrid.azure.net"
    else:
        server["host"] = "localhost"  # the spec has no settings block for this broker (its checks say so)
    server["description"] = f"{broker} in {env}" if env else broker
    if env:
        server["x-edakit-environment"] = env
    return server


def _address(spec: Spec, channel: Channel) -> str:
    if spec.environment is None and spec.environments:
        return "-".join((spec.name, "{environment}", channel.name))
    return channel.resource_name


def _channel(spec: Spec, channel: Channel, raw: dict[str, Any], servers: dict[str, Any],
             out_dir: Path) -> dict[str, Any]:
    written = dict(raw.get("channels", {}).get(channel.name) or {})
    out: dict[str, Any] = {"address": _address(spec, channel)}
    if "{environment}" in out["address"]:
        out["parameters"] = {"environment": {"enum": list(spec.environments),
                                             "description": "The environment the spec is rendered for."}}
    if channel.description:
        out["description"] = channel.description
    out["servers"] = [{"$ref": f"#/servers/{_pointer(name)}"} for name, server in servers.items()
                      if server["protocol"] == PROTOCOLS[channel.broker]]
    out["messages"] = {event: _channel_message(spec, channel, event, out_dir) for event in channel.events}
    bindings = _channel_bindings(spec, channel)
    if bindings:
        out["bindings"] = bindings
    extra = {k: v for k, v in written.items() if k not in ("description", "events")}
    if extra:
        out["x-edakit-channel"] = extra
    return out


def _channel_bindings(spec: Spec, channel: Channel) -> dict[str, Any]:
    bindings: dict[str, Any] = {}
    concrete = "{environment}" not in _address(spec, channel)
    if channel.kafka is not None:
        topic = channel.kafka
        kafka: dict[str, Any] = {"partitions": topic.partitions, "replicas": topic.replication_factor,
                                 "topicConfiguration": {"cleanup.policy": topic.cleanup_policy.split(","),
                                                        "retention.ms": topic.retention_hours * 3_600_000},
                                 "bindingVersion": KAFKA_BINDING}
        if concrete:
            kafka = {"topic": channel.resource_name, **kafka}
        bindings["kafka"] = kafka
    if channel.broker == "sqs-sns":
        name = channel.resource_name + (".fifo" if channel.fifo else "")
        sns: dict[str, Any] = {"name": name if concrete else _address(spec, channel)}
        sns["ordering"] = {"type": "FIFO" if channel.fifo else "standard"}
        if channel.fifo:
            sns["ordering"]["contentBasedDeduplication"] = channel.content_based_deduplication
        if spec.tags:
            sns["tags"] = dict(spec.tags)
        sns["bindingVersion"] = SNS_BINDING
        bindings["sns"] = sns
    if channel.pubsub is not None:
        if channel.pubsub.schema_encoding:  # the binding requires schemaSettings
            event = spec.events.get(channel.events[0]) if channel.events else None
            pubsub: dict[str, Any] = {"schemaSettings": {"encoding": channel.pubsub.schema_encoding.upper(),
                                                         "name": event.name if event else channel.name}}
            if channel.pubsub.message_retention_hours:
                pubsub["messageRetentionDuration"] = f"{channel.pubsub.message_retention_hours * 3600}s"
            if spec.tags:
                pubsub["labels"] = dict(spec.tags)
            pubsub["bindingVersion"] = PUBSUB_BINDING
            bindings["googlepubsub"] = pubsub
    return bindings


def _headers(spec: Spec, channel: Channel, event: str) -> dict[str, Any] | None:
    found = contract(spec, channel.name)
    if found is None:
        return None
    string = {"type": "string"}
    properties: dict[str, Any] = {
        found.prefix + "specversion": {"type": "string", "const": "1.0"},
        found.prefix + "id": {**string, "description": "CloudEvents id: unique per event; consumers deduplicate on it"},
        found.prefix + "type": {"type": "string", "const": event},
        found.prefix + "source": string,
        found.prefix + "time": {"type": "string", "format": "date-time"},
    }
    for name in OPTIONAL:
        properties[found.prefix + name] = string
    properties[CONTENT_TYPE] = string
    for header in sorted(found.headers):
        properties[found.prefix + header] = {**string, "description": "CloudEvents extension declared by the spec"}
    for native in found.native:
        properties[native.name] = {**string,
                                   "description": f"broker attribute; the publisher sets it from {native.source}"}
    return {"type": "object", "properties": properties, "required": [found.prefix + n for n in ALWAYS]}


def _payload(spec: Spec, event_name: str, out_dir: Path) -> dict[str, Any]:
    event = spec.events[event_name]
    ref = Path(os.path.relpath(event.schema_path, out_dir)).as_posix()
    schema_format = AVRO_FORMAT if event.schema.endswith(".avsc") else JSON_SCHEMA_FORMAT
    return {"schemaFormat": schema_format, "schema": {"$ref": ref}}


def _channel_message(spec: Spec, channel: Channel, event: str, out_dir: Path) -> dict[str, Any]:
    message: dict[str, Any] = {"name": event}
    if event in spec.events:
        message["payload"] = _payload(spec, event, out_dir)
        if spec.events[event].description:
            message["summary"] = spec.events[event].description
    headers = _headers(spec, channel, event)
    if headers:
        message["headers"] = headers
    if channel.broker == "kafka":
        message["bindings"] = {"kafka": {"key": {"type": "string", "description": "the partition key (message.key)"},
                                         "bindingVersion": KAFKA_BINDING}}
    return message


def _message_refs(channel: Channel) -> list[dict[str, str]]:
    return [{"$ref": f"#/channels/{_pointer(channel.name)}/messages/{_pointer(e)}"} for e in channel.events]


def _event_message(spec: Spec, name: str, out_dir: Path) -> dict[str, Any]:
    event = spec.events[name]
    message: dict[str, Any] = {"name": name, "title": name, "payload": _payload(spec, name, out_dir)}
    if event.description:
        message["summary"] = event.description
    written: dict[str, Any] = {"schema": event.schema, "version": event.version}
    if event.domain:
        written["domain"] = event.domain
    message["x-edakit-event"] = written
    return message


def _receive(spec: Spec, sub: Subscriber, raw: dict[str, Any]) -> dict[str, Any]:
    channel = spec.channels[sub.channel]
    op: dict[str, Any] = {"action": "receive", "channel": {"$ref": f"#/channels/{_pointer(channel.name)}"},
                          "messages": _message_refs(channel)}
    if sub.description:
        op["description"] = sub.description
    op["summary"] = f"{sub.name} reads {channel.name}" + (" (filtered)" if sub.filter else "")
    bindings = _receive_bindings(spec, channel, sub)
    if bindings:
        op["bindings"] = bindings
    op["x-edakit-retry"] = {"minBackoffSeconds": sub.retry.min_backoff_seconds,
                            "maxBackoffSeconds": sub.retry.max_backoff_seconds,
                            "maxEventAgeSeconds": sub.retry.max_event_age_seconds}
    dlq: dict[str, Any] = {"enabled": sub.dlq.enabled, "maxReceiveCount": sub.dlq.max_receive_count}
    if sub.dlq.retention_hours is not None:
        dlq["retentionHours"] = sub.dlq.retention_hours
    names = dead_letter_names(spec, sub)
    if names["dlq"]:
        dlq["name"] = names["dlq"]
    if names["retry"]:
        dlq["retryTopics"] = names["retry"]
    op["x-edakit-dlq"] = dlq
    op["x-edakit-alerts"] = dict(sub.alerts.__dict__)
    if sub.filter is not None:
        op["x-edakit-filter"] = {"scope": sub.filter.scope, "policy": sub.filter.policy}
    if sub.event_grid is not None:
        op["x-edakit-event-grid"] = {k: v for k, v in sub.event_grid.__dict__.items() if v not in (None, False)}
    written = dict(raw.get("subscribers", {}).get(sub.name) or {})
    extra = {k: v for k, v in written.items() if k not in ("channel", "description")}
    if extra:
        op["x-edakit-subscriber"] = extra
    return op


def dead_letter_names(spec: Spec, sub: Subscriber) -> dict[str, Any]:
    """The subscriber's DLQ and retry topic names as the broker's Terraform module creates them."""
    channel = spec.channels[sub.channel]
    profile = PROFILES[channel.broker]
    group = sub.consumer_group or sub.name
    topic = channel.resource_name + (".fifo" if channel.fifo and channel.broker == "sqs-sns" else "")
    dlq = profile.dlq_name(topic, group) if profile.dlq_name and sub.dlq.enabled else None
    count = profile.retry_topics(sub) if sub.dlq.enabled else None
    retry = [f"{channel.resource_name}.{group}.retry.{n}" for n in range(1, (count or 0) + 1)]
    return {"dlq": dlq, "retry": retry}


def _receive_bindings(spec: Spec, channel: Channel, sub: Subscriber) -> dict[str, Any]:
    if channel.broker == "kafka" and sub.consumer_group:
        return {"kafka": {"groupId": {"type": "string", "enum": [sub.consumer_group]},
                          "bindingVersion": KAFKA_BINDING}}
    if channel.broker == "sqs-sns" and sub.queue is not None:
        from edakit.brokers.sqs_sns import queue_name

        topic = channel.resource_name + (".fifo" if channel.fifo else "")
        queue: dict[str, Any] = {"name": queue_name(topic, sub.name), "fifoQueue": channel.fifo,
                                 "visibilityTimeout": sub.queue.visibility_timeout_seconds,
                                 "receiveMessageWaitTime": sub.queue.receive_wait_time_seconds,
                                 "messageRetentionPeriod": sub.queue.message_retention_hours * 3600}
        queues = [queue]
        dlq = dead_letter_names(spec, sub)["dlq"]
        if dlq:
            queue["redrivePolicy"] = {"deadLetterQueue": {"name": dlq}, "maxReceiveCount": sub.dlq.max_receive_count}
            dead: dict[str, Any] = {"name": dlq, "fifoQueue": channel.fifo}
            if sub.dlq.retention_hours is not None:
                dead["messageRetentionPeriod"] = sub.dlq.retention_hours * 3600
            queues.append(dead)
        consumer: dict[str, Any] = {"protocol": "sqs", "endpoint": {"name": queue["name"]},
                                    "rawMessageDelivery": sub.queue.raw_message_delivery}
        if sub.filter is not None and binding_filter_fits(sub.filter.policy):
            consumer["filterPolicy"] = dict(sub.filter.policy)
            consumer["filterPolicyScope"] = sub.filter.scope
        return {"sns": {"consumers": [consumer], "bindingVersion": SNS_BINDING},
                "sqs": {"queues": queues, "bindingVersion": SQS_BINDING}}
    return {}


def binding_filter_fits(policy: object) -> bool:
    """Whether the SNS 0.1.0 binding's filterPolicy schema can hold the policy: each key's value a string, a list of
    strings or an object. Numeric and anything-but matches (lists of objects) cannot; x-edakit-filter always has it."""
    if not isinstance(policy, dict):
        return False
    return all(isinstance(v, str | dict) or (isinstance(v, list) and all(isinstance(i, str) for i in v))
               for v in policy.values())
