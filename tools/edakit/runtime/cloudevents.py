"""CloudEvents 1.0 mapping of Message: binary mode (attributes as prefixed headers) and structured mode (JSON).

Binary mode prefixes: `ce_` for the Kafka binding (and SQS/SNS message attributes, whose names allow `_`),
`ce-` for the HTTP and Google Pub/Sub bindings. `datacontenttype` travels as `content-type` in every binding.
Message.key travels as the `partitionkey` extension (CloudEvents partitioning extension); Kafka also uses it as the
record key.
"""

from __future__ import annotations

import base64
import functools
import json
from collections.abc import Callable, Mapping
from datetime import datetime

import orjson

from edakit.runtime.message import Message, MessageError

SPECVERSION = "1.0"
STRUCTURED_CONTENT_TYPE = "application/cloudevents+json"
CONTENT_TYPE = "content-type"
KAFKA_PREFIX = "ce_"
HTTP_PREFIX = "ce-"
_REQUIRED = ("id", "type", "source", "specversion")


class CloudEventError(MessageError):
    """An incoming event that is not a valid CloudEvents 1.0 event for our Message model."""


def _parse_time(text: str, where: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(text.upper())  # RFC 3339 allows "t" and "z"
    except ValueError:
        raise CloudEventError(f"{where}: expected an RFC 3339 timestamp, got {text!r}") from None
    if parsed.tzinfo is None:
        raise CloudEventError(f"{where}: timestamp {text!r} has no UTC offset")
    return parsed


def _is_json(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or media.endswith("+json")


@functools.cache
def pair_builder(prefix: str, partitionkey: bool = True,
                 content_type: bool = False) -> Callable[[Message], list[tuple[str, str]]]:
    """A builder of the prefixed (name, value) pairs of context attributes and extensions, plus `content-type` if
    asked (binary mode): the one listing both modes use. Names are bound once, so per message it only reads fields
    (the publish hot path of every binary binding); pairs, not a dict, as Kafka takes header pairs as they are.

    `time` is RFC 3339 formatted by orjson in C, a third of `isoformat()`'s cost and the same text for Message.time,
    which is always UTC (microseconds only when non-zero, kept for exact round trips)."""
    dumps = orjson.dumps
    specversion, id_, type_, source, time, subject, key = (
        prefix + name for name in ("specversion", "id", "type", "source", "time", "subject", "partitionkey"))
    version = (specversion, SPECVERSION)  # the one pair that never changes: built once

    def pairs(message: Message) -> list[tuple[str, str]]:
        if message.subject is None and not message.headers and (not partitionkey or message.key is None):
            # the common event (no subject, no extensions): one list display, no appends (the Kafka hot path)
            if content_type:
                return [version, (id_, message.id), (type_, message.type), (source, message.source),
                        (time, dumps(message.time)[1:-1].decode()), (CONTENT_TYPE, message.content_type)]
            return [version, (id_, message.id), (type_, message.type), (source, message.source),
                    (time, dumps(message.time)[1:-1].decode())]
        built = [version, (id_, message.id), (type_, message.type), (source, message.source),
                 (time, dumps(message.time)[1:-1].decode())]
        if message.subject is not None:
            built.append((subject, message.subject))
        if partitionkey and message.key is not None:
            built.append((key, message.key))
        if message.headers:
            built.extend([(prefix + name, value) for name, value in message.headers.items()])
        if content_type:
            built.append((CONTENT_TYPE, message.content_type))
        return built

    return pairs


def to_attributes(message: Message) -> dict[str, str]:
    """Context attributes and extensions by CloudEvents name (without datacontenttype)."""
    return dict(pair_builder("")(message))


def from_attributes(attributes: Mapping[str, str], payload: bytes, content_type: str | None, where: str) -> Message:
    missing = [name for name in _REQUIRED if name not in attributes]
    if missing:
        raise CloudEventError(f"{where}: missing CloudEvents attribute(s) {', '.join(missing)}")
    if attributes["specversion"] != SPECVERSION:
        raise CloudEventError(f"{where}: specversion {attributes['specversion']!r}, expected {SPECVERSION!r}")
    if "time" not in attributes:
        raise CloudEventError(f"{where}: missing CloudEvents attribute time (required by this runtime)")
    reserved = {*_REQUIRED, "time", "subject", "partitionkey", "datacontenttype"}
    return Message(
        id=attributes["id"], type=attributes["type"], source=attributes["source"], payload=payload,
        time=_parse_time(attributes["time"], f"{where}: time"),
        content_type=content_type or "application/json", key=attributes.get("partitionkey"),
        subject=attributes.get("subject"),
        headers={name: value for name, value in attributes.items() if name not in reserved},
    )


def binary_pairs(message: Message, prefix: str = KAFKA_PREFIX, partitionkey: bool = True) -> list[tuple[str, str]]:
    """Binary-mode headers as pairs; `partitionkey=False` where the binding carries the key natively (Kafka)."""
    return pair_builder(prefix, partitionkey, content_type=True)(message)


def to_binary(message: Message, prefix: str = KAFKA_PREFIX) -> dict[str, str]:
    """Headers for binary mode; the payload travels unchanged as the broker message body."""
    return dict(binary_pairs(message, prefix))


def from_binary(headers: Mapping[str, str], payload: bytes, prefix: str = KAFKA_PREFIX,
                where: str = "binary-mode event") -> Message:
    """Inverse of to_binary; headers without the prefix (broker or tooling headers) are ignored."""
    # Header names are case-insensitive in the HTTP and Pub/Sub bindings; attribute names are lower-case.
    attributes = {name[len(prefix):].lower(): value for name, value in headers.items()
                  if name.lower().startswith(prefix)}
    content_type = next((v for k, v in headers.items() if k.lower() == CONTENT_TYPE), None)
    return from_attributes(attributes, payload, content_type, where)


def to_structured(message: Message) -> bytes:
    """JSON event format. JSON payloads are embedded as `data` when that keeps their exact bytes."""
    event: dict[str, object] = {**to_attributes(message), "datacontenttype": message.content_type}
    data = _embeddable_json(message)
    if data is not None:
        event["data"] = data
    else:
        event["data_base64"] = base64.b64encode(message.payload).decode("ascii")
    return json.dumps(event, ensure_ascii=False, separators=(",", ":")).encode()


def _embeddable_json(message: Message) -> object | None:
    if not _is_json(message.content_type):
        return None
    try:
        data = json.loads(message.payload)
    except ValueError:
        return None
    return data if _dump_data(data) == message.payload else None


def _dump_data(data: object) -> bytes:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()


def from_structured(body: bytes | str, where: str = "structured-mode event") -> Message:
    try:
        event = json.loads(body)
    except ValueError as exc:
        raise CloudEventError(f"{where}: not JSON ({exc})") from None
    if not isinstance(event, dict):
        raise CloudEventError(f"{where}: expected a JSON object, got {type(event).__name__}")
    if "data" in event and "data_base64" in event:
        raise CloudEventError(f"{where}: has both data and data_base64")
    if "data_base64" in event:
        try:
            payload = base64.b64decode(event.pop("data_base64"), validate=True)
        except (ValueError, TypeError):
            raise CloudEventError(f"{where}: data_base64 is not valid base64") from None
    elif "data" in event:
        payload = _dump_data(event.pop("data"))
    else:
        payload = b""
    content_type = event.pop("datacontenttype", None)
    bad = [name for name, value in event.items() if not isinstance(value, str)]
    if bad:
        raise CloudEventError(f"{where}: attribute(s) {', '.join(bad)} must be strings")
    return from_attributes(event, payload, content_type, where)
