"""Codecs from the system spec: each channel's events, their schema files and versions, the registry it names."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from confluent_kafka.schema_registry import SchemaRegistryClient

from edakit.runtime.serde.codec import (REGISTRY_TIMEOUT_SECONDS, SCHEMA_ID_HEADER, SCHEMA_VERSION_HEADER,
                                        ChannelCodec, SerdeError, Serializer, event_schema)
from edakit.spec.model import Spec

SCHEMA_HEADERS = frozenset({SCHEMA_VERSION_HEADER, SCHEMA_ID_HEADER})


def default_wire(broker: str) -> str:
    """The broker profile's `wire` (edakit.brokers). Kafka carries Confluent's Avro wire format (what Kafka's other clients read); the other brokers carry JSON
    text with the schema version in a header (an SNS/SQS body, a Pub/Sub or Event Grid data field is read by
    tools that expect JSON)."""
    from edakit.brokers import PROFILES

    found = PROFILES.get(broker)
    return found.wire if found is not None else "json"


def registry_client(url: str) -> SchemaRegistryClient:
    """confluent-kafka's client, with a bounded timeout: a registry that does not answer fails the call."""
    return SchemaRegistryClient({"url": url, "timeout": REGISTRY_TIMEOUT_SECONDS})


def channel_codec(spec: Spec, channel: str, *, registry_url: str | None = None, wire: str | None = None,
                  schemas_root: Path | None = None, registry: SchemaRegistryClient | None = None) -> ChannelCodec:
    """The codec of `channel` (a key of spec.channels). `registry_url` defaults to kafka.schema_registry_url;
    `wire` to the broker's (`default_wire`); `schemas_root` to the schemas/ directory each schema file sits in.
    The producer sets the schema headers on every channel: every publish contract allows them undeclared
    (edakit.brokers.attributes.SERDE_HEADERS) and counts them against the budget on the messages that carry them."""
    if channel not in spec.channels:
        raise SerdeError(f"{spec.file}: no channel {channel!r}; the spec has {', '.join(sorted(spec.channels))}")
    found = spec.channels[channel]
    wire = wire or default_wire(found.broker)
    url = registry_url or (spec.kafka.schema_registry_url if spec.kafka is not None else None)
    schemas = {}
    for name in found.events:
        event = spec.events[name]
        schemas[name] = event_schema(name, event.schema_path, event.version, found.resource_name, schemas_root)
    client = registry if registry is not None else registry_client(url) if url and wire == "confluent" else None
    return ChannelCodec(found.resource_name, schemas, wire=wire, registry=client, headers=SCHEMA_HEADERS)


def serializer(spec: Spec, channels: Iterable[str] | None = None, **options: object) -> Serializer:
    """The outbox `serialize` hook for the channels a service produces to (default: every channel of the spec)."""
    names = list(channels) if channels is not None else sorted(spec.channels)
    codecs = [channel_codec(spec, name, **options) for name in names]  # type: ignore[arg-type]
    return Serializer({codec.topic: codec for codec in codecs})
