"""One channel's event schemas in the message path: encode what a producer sends, decode what a consumer receives.

Two wire forms:

- `confluent` (Kafka's default): Avro in Confluent's wire format, magic byte 0 and the 4-byte schema id before the
  Avro binary, through confluent-kafka's `SchemaRegistryClient`, `AvroSerializer` and `AvroDeserializer` against the
  registry the spec names (`kafka.schema_registry_url`). The producer's schema must already be registered (`edakit
  schema push`): the codec looks it up once when built and never registers. The consumer reads with its own version
  as the reader schema, so Avro's schema resolution applies what the subject's compatibility level promises.
  A JSON Schema event on this wire is its JSON text behind the same 5-byte frame (Confluent's JSON wire format),
  checked with the kit's validators on both sides.
- `json` (every other broker's default): the payload as JSON, validated against the event's schema file (Avro or
  JSON Schema) with the kit's compiled validators, the schema version in the `schemaversion` header (and its
  registry id in `schemaid` when a registry is used): kit headers every publish contract allows undeclared and
  counts against its budget on the messages that carry them (edakit.brokers.attributes.SERDE_HEADERS).

Subjects are named by the domain's `subject_name_strategy` (schemas/<domain>/schema-config.yaml), as `edakit schema
push` registers them. A payload that does not match, cannot be decoded, or names a schema id the registry does not
know is a `PoisonMessage`: the consumer's middleware dead-letters it at once. A registry that does not answer is not
a property of the message, so that error propagates and the retry middleware redelivers.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from confluent_kafka.schema_registry import Schema, SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer
from confluent_kafka.schema_registry.common._httpx_compat import httpx  # the HTTP library the client itself uses
from confluent_kafka.schema_registry.error import SchemaRegistryError
from confluent_kafka.serialization import MessageField, SerializationContext

from edakit.redact import clip
from edakit.runtime.message import Message
from edakit.runtime.outbox.event import OutboxEvent
from edakit.schemas.errors import SchemaError
from edakit.schemas.repo import load_subjects
from edakit.schemas.validate import parse_json, read_schema_json, schema_type_of, validator_for

WIRES = ("confluent", "json")
MAGIC_BYTE = 0
AVRO_CONTENT_TYPE = "application/avro"
CONFLUENT_JSON_CONTENT_TYPE = "application/vnd.confluent.json"  # JSON text behind Confluent's 5-byte frame
JSON_CONTENT_TYPE = "application/json"
SCHEMA_ID_HEADER = "schemaid"
SCHEMA_VERSION_HEADER = "schemaversion"
REGISTRY_TIMEOUT_SECONDS = 10


class SerdeError(ValueError):
    """A codec that cannot be built from the spec as given (no registry for Avro, a schema not registered)."""


@dataclass(frozen=True)
class EventSchema:
    """The schema one event type is sent and read with on a channel."""

    event: str  # the spec's event name: the CloudEvents type (Message.type, OutboxEvent.event_type)
    path: Path
    schema_type: str  # AVRO or JSON
    version: int  # the v<N> of the schema file
    subject: str  # the registry subject under the domain's naming strategy
    schema_id: int | None = None  # its registry id (confluent wire)

    def where(self) -> str:
        return f"{self.path} (subject {self.subject}, version {self.version})"


class _Refused(ValueError):
    """A payload that does not match its schema: the schema, and the JSON path of the first failure."""

    def __init__(self, schema: EventSchema | None, detail: str, json_path: str | None = None) -> None:
        where = schema.where() if schema is not None else "no schema"
        super().__init__(clip(f"{schema.event if schema else 'event'} payload against {where}: {detail}"))
        self.schema, self.detail, self.json_path = schema, detail, json_path

    @property
    def schema_path(self) -> str | None:
        return str(self.schema.path) if self.schema is not None else None

    @property
    def version(self) -> int | None:
        return self.schema.version if self.schema is not None else None


class InvalidPayload(_Refused):
    """A producer's payload refused before it reaches the outbox (or the broker)."""


class PoisonMessage(_Refused):
    """A received payload that no retry can make readable: dead-letter it."""


@dataclass(frozen=True)
class Decoded:
    value: Any  # the document (Avro: as AvroDeserializer returns it, logical types as Python objects)
    schema: EventSchema  # the consumer's schema it was read with
    writer_schema_id: int | None = None  # confluent wire: the id the producer wrote with


def _first_path(error: str) -> str | None:
    head = error.split(":", 1)[0]
    return head if head.startswith("$") else None


class ChannelCodec:
    """Encode and decode the events of one topic."""

    def __init__(self, topic: str, schemas: Mapping[str, EventSchema], *, wire: str,
                 registry: SchemaRegistryClient | None = None,
                 headers: frozenset[str] = frozenset({SCHEMA_VERSION_HEADER, SCHEMA_ID_HEADER})) -> None:
        """`headers`: which of `schemaversion` and `schemaid` the producer sets (every publish contract allows both
        undeclared, edakit.brokers.attributes.SERDE_HEADERS; `channel_codec` passes both)."""
        if wire not in WIRES:
            raise SerdeError(f"wire: expected one of {', '.join(WIRES)}, got {wire!r}")
        self.topic, self.wire, self.registry, self.headers = topic, wire, registry, headers
        self._context = SerializationContext(topic, MessageField.VALUE)
        self.schemas: dict[str, EventSchema] = {}
        self._serializers: dict[str, AvroSerializer] = {}
        self._deserializers: dict[str, AvroDeserializer] = {}
        for event, schema in schemas.items():
            if self.wire == "confluent":
                schema = self._registered(schema)
            if self._confluent(schema):
                text = json.dumps(read_schema_json(schema.path))
                conf = {"auto.register.schemas": False, "use.latest.version": False,
                        "subject.name.strategy": lambda _ctx, _record, subject=schema.subject: subject}
                self._serializers[event] = AvroSerializer(registry, text, conf=conf)
                self._deserializers[event] = AvroDeserializer(registry, text)
            self.schemas[event] = schema

    def close(self) -> None:
        """Close the registry client's connections (the codec decodes no more after)."""
        if self.registry is not None:
            self.registry.close()

    def _confluent(self, schema: EventSchema) -> bool:
        return self.wire == "confluent" and schema.schema_type == "AVRO"

    def _registered(self, schema: EventSchema) -> EventSchema:
        if self.registry is None:
            raise SerdeError(f"{self.topic}: event {schema.event} is in Confluent's wire format, which needs a "
                             "schema registry: set kafka.schema_registry_url (EDA012) or pass registry_url")
        text = json.dumps(read_schema_json(schema.path))
        try:
            found = self.registry.lookup_schema(schema.subject, Schema(text, schema.schema_type))
        except SchemaRegistryError as exc:
            raise SerdeError(f"{self.topic}: {schema.path} is not registered under subject {schema.subject} "
                             f"({exc.error_message}); register the repository's schemas first: edakit schema push"
                             ) from exc
        except httpx.HTTPError as exc:
            raise SerdeError(f"{self.topic}: the schema registry did not answer looking up {schema.subject}: "
                             f"{type(exc).__name__}") from exc
        return dataclasses.replace(schema, schema_id=found.schema_id)

    def _schema(self, event: str, refused: type[_Refused]) -> EventSchema:
        schema = self.schemas.get(event)
        if schema is None:
            raise refused(None, f"the channel on topic {self.topic} carries no event type {event[:100]!r} (it "
                                f"carries {', '.join(sorted(self.schemas)) or 'none'})")
        return schema

    # --- producing -----------------------------------------------------------------------------------------
    def encode(self, event: str, document: Any) -> tuple[bytes, str, dict[str, str]]:
        """(payload, content type, headers) for `document` of type `event`; InvalidPayload when it does not match."""
        schema = self._schema(event, InvalidPayload)
        errors = validator_for(schema.path).errors(document)
        if errors:
            raise InvalidPayload(schema, errors[0], _first_path(errors[0]))
        headers = {}
        if SCHEMA_VERSION_HEADER in self.headers:
            headers[SCHEMA_VERSION_HEADER] = str(schema.version)
        if schema.schema_id is not None and SCHEMA_ID_HEADER in self.headers:
            headers[SCHEMA_ID_HEADER] = str(schema.schema_id)
        if self._confluent(schema):
            return self._serializers[event](document, self._context), AVRO_CONTENT_TYPE, headers
        if self.wire == "confluent":  # JSON Schema: the same 5-byte frame before the JSON text
            frame = bytes([MAGIC_BYTE]) + (schema.schema_id or 0).to_bytes(4, "big")
            return frame + orjson.dumps(document), CONFLUENT_JSON_CONTENT_TYPE, headers
        return orjson.dumps(document), JSON_CONTENT_TYPE, headers

    # --- consuming -----------------------------------------------------------------------------------------
    def decode(self, message: Message) -> Decoded:
        """The message's payload read with this channel's schema for its type; PoisonMessage when it cannot be."""
        schema = self._schema(message.type, PoisonMessage)
        payload = message.payload
        writer_id = None
        if self.wire == "confluent":
            if len(payload) < 5 or payload[0] != MAGIC_BYTE:
                raise PoisonMessage(schema, "not Confluent's wire format (magic byte 0 and a 4-byte schema id)")
            writer_id = int.from_bytes(payload[1:5], "big")
        if self._confluent(schema):
            try:
                value = self._deserializers[message.type](payload, self._context)
            except SchemaRegistryError as exc:
                if exc.http_status_code >= 500 or exc.http_status_code < 0:
                    raise  # the registry, not the message: retry
                raise PoisonMessage(schema, f"writer schema id {writer_id}: {exc.error_message}") from exc
            except httpx.HTTPError:
                raise  # the registry did not answer: retry
            except Exception as exc:  # noqa: BLE001 - fastavro's decode and resolution errors have many types
                raise PoisonMessage(schema, f"cannot read writer schema id {writer_id} with this version: "
                                            f"{type(exc).__name__}: {exc}") from exc
            return Decoded(value, schema, writer_id)
        if writer_id is not None:
            self._check_writer(schema, writer_id)
            payload = payload[5:]
        try:
            document = parse_json(payload, f"message {message.id}")
        except SchemaError as exc:
            raise PoisonMessage(schema, exc.message) from exc
        errors = validator_for(schema.path).errors(document)
        if errors:
            raise PoisonMessage(schema, errors[0], _first_path(errors[0]))
        if writer_id is None and (written := message.headers.get(SCHEMA_ID_HEADER, "")).isdigit():
            writer_id = int(written)
        return Decoded(document, schema, writer_id)

    def _check_writer(self, schema: EventSchema, writer_id: int) -> None:
        """A JSON frame's schema id must be a JSON schema the registry knows. The document is then validated with
        the consumer's own schema, by the kit's validators: the writer schema is never compiled here, so its $refs
        are never resolved (confluent-kafka's JSON deserializer would fetch a remote $ref over HTTP)."""
        assert self.registry is not None  # built with one: _registered
        try:
            writer = self.registry.get_schema(writer_id)
        except SchemaRegistryError as exc:
            if exc.http_status_code >= 500 or exc.http_status_code < 0:
                raise
            raise PoisonMessage(schema, f"writer schema id {writer_id}: {exc.error_message}") from exc
        if writer.schema_type != "JSON":
            raise PoisonMessage(schema, f"writer schema id {writer_id} is {writer.schema_type}, not JSON Schema")


class Serializer:
    """The producer side for the outbox: `append(tx, events, serialize=Serializer(...))` encodes each event's JSON
    payload for its topic's wire and refuses (InvalidPayload, with the schema and JSON path) one that does not
    match, before any row is written."""

    def __init__(self, codecs: Mapping[str, ChannelCodec]) -> None:
        self.codecs = dict(codecs)  # by topic (the channel's name on the broker)

    def __call__(self, event: OutboxEvent) -> OutboxEvent:
        codec = self.codecs.get(event.topic)
        if codec is None:
            raise InvalidPayload(None, f"topic {event.topic!r} has no schemas here (serializing "
                                       f"{', '.join(sorted(self.codecs)) or 'no topic'})")
        try:
            document = parse_json(event.payload, f"event {event.event_id}")
        except SchemaError as exc:
            raise InvalidPayload(codec.schemas.get(event.event_type), exc.message) from exc
        payload, content_type, headers = codec.encode(event.event_type, document)
        return dataclasses.replace(event, payload=payload, content_type=content_type,
                                   headers={**event.headers, **headers})


def event_schema(event: str, path: Path, version: int, topic: str, schemas_root: Path | None = None, *,
                 subject: str | None = None) -> EventSchema:
    """The EventSchema of a schema file, its subject named by the strategy of the domain it sits in (a file outside
    a schemas/<domain>/v<N>/ tree: TopicNameStrategy, `<topic>-value`), unless `subject` names it."""
    schema_type = schema_type_of(path)
    if subject is not None:
        return EventSchema(event, path, schema_type, version, subject)
    root = schemas_root if schemas_root is not None else path.parent.parent.parent
    subject = f"{topic}-value"
    found, _problems = load_subjects(root) if root.is_dir() else ([], [])
    for candidate in found:
        if candidate.path(version, schema_type).resolve() == path.resolve():
            subject = candidate.name
            break
    return EventSchema(event, path, schema_type, version, subject)
