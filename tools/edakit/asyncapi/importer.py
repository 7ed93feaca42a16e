"""An AsyncAPI 2.6 or 3.0 document -> kit spec data, listing every part it cannot map by JSON pointer.

A document the kit exported (it has `x-edakit-spec`) is read back from its standard fields and `x-edakit-*`
extensions; the imported spec is then exported again and every place where the document differs from that export
(an edited binding, an added field) is listed: nothing the kit would regenerate differently passes silently.

Any other document is mapped field by field onto one broker (`kafka`, `sqs-sns`, `pubsub`; from `--broker` or the
servers' protocols): servers -> broker settings (several Kafka servers: the first is the base, each one an
environment), channels -> channels (names made kit identifiers), messages ->
events (payload schemas inline or under components are written as schema files; a relative file `$ref` is kept),
header names that are CloudEvents extension names -> the channel's declared headers, Kafka channel bindings ->
partitions, replicas, retention and cleanup policy, receive operations (2.6: `publish`) -> subscribers (Kafka
`groupId` with one value -> consumer group); send operations (2.6: `subscribe`) need nothing, any service may
publish to a kit channel. Whatever is left unread is listed. Only `#/...` references inside the document and relative file paths are followed, never a URL.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

KIT_PROTOCOLS = {"kafka": "kafka", "kafka-secure": "kafka", "sns": "sqs-sns", "sqs": "sqs-sns",
                 "googlepubsub": "pubsub"}
CLOUDEVENTS_CORE = {"specversion", "id", "type", "source", "time", "subject", "partitionkey", "datacontenttype",
                    "dataschema"}
HEADER_NAME = re.compile(r"^[a-z0-9]{1,20}$")
JSON_CONTENT = re.compile(r"^application/(.+\+)?json$|^application/(vnd\.apache\.)?avro")
MAX_REF_DEPTH = 32
MAX_INLINED_NODES = 100_000  # a payload whose local $refs expand beyond this is refused (a $ref "billion laughs")


class ImportError_(ValueError):
    """The document cannot become a spec at all (not AsyncAPI 2.6/3.0, no broker): exit 2."""


@dataclass(frozen=True)
class Unmapped:
    pointer: str
    why: str

    def __str__(self) -> str:
        return f"{self.pointer or '/'}: {self.why}"


@dataclass
class ImportResult:
    spec: dict[str, Any]
    schemas: dict[str, str] = field(default_factory=dict)  # path relative to the repository root -> file text
    unmapped: list[Unmapped] = field(default_factory=list)


def mapping(value: Any) -> dict[str, Any]:
    """`value` when the document has a mapping there, else empty (what is there is then listed as unmapped)."""
    return value if isinstance(value, dict) else {}


def pointer(*tokens: str | int) -> str:
    return "".join("/" + str(t).replace("~", "~0").replace("/", "~1") for t in tokens)


def version_of(doc: Any) -> str:
    if not isinstance(doc, dict):
        raise ImportError_("not an AsyncAPI document: expected a mapping at the top level")
    version = str(doc.get("asyncapi", ""))
    if not re.match(r"^(2\.6|3\.0)\.\d+$", version):
        raise ImportError_(f"asyncapi: expected an AsyncAPI 2.6.x or 3.0.x document, got {version or 'no version'!r}")
    return version


def identifier(text: str, limit: int = 40) -> str:
    """`lightingMeasured`, `a.{id}.turn.on` -> `lighting-measured`, `a-turn-on`: the kit's name pattern. Address
    parameters are dropped; a name too long keeps its last words (the distinctive end of a dotted address)."""
    text = re.sub(r"\{[^}]*\}", "", text)
    text = re.sub(r"([a-z0-9])([A-Z])", r"\1-\2", text).lower()
    words = [w for w in re.split(r"[^a-z0-9]+", text) if w]
    while words and not words[0][0].isalpha():
        words.pop(0)
    kept: list[str] = []
    for word in reversed(words):
        if len("-".join([word, *kept])) > limit:
            break
        kept.insert(0, word)
    while kept and not kept[0][0].isalpha():
        kept.pop(0)
    if not kept and words:
        kept = [words[-1][:limit]] if words[-1][0].isalpha() else []
    return "-".join(kept) or "x"


def unique(name: str, taken: object, limit: int = 40) -> str:
    """`name`, or `name` cut to fit and numbered (`-2`, `-3`, ...) when that is taken."""
    if name not in taken:  # type: ignore[operator]
        return name
    number = 2
    while True:
        candidate = f"{name[: limit - len(str(number)) - 1].rstrip('-')}-{number}"
        if candidate not in taken:  # type: ignore[operator]
            return candidate
        number += 1


def event_name(text: str) -> str:
    """`lightMeasured`, `user-signed-up` -> `LightMeasured`, `UserSignedUp`."""
    parts = [p for p in re.split(r"[^A-Za-z0-9]+", text) if p]
    name = "".join(p[0].upper() + p[1:] for p in parts)
    name = re.sub(r"^[^A-Z]+", "", name)
    return name or "Event"


class Reader:
    """Follows `#/...` pointers of one document and records every pointer it has read (the rest is unmapped)."""

    def __init__(self, doc: dict[str, Any]) -> None:
        self.doc = doc
        self.read: set[str] = set()
        self.unmapped: list[Unmapped] = []

    def take(self, at: str) -> None:
        self.read.add(at)

    def miss(self, at: str, why: str) -> None:
        self.read.add(at)
        self.unmapped.append(Unmapped(at, why))

    def get(self, at: str) -> Any:
        node: Any = self.doc
        for token in at.split("/")[1:]:
            token = token.replace("~1", "/").replace("~0", "~")
            if isinstance(node, dict) and token in node:
                node = node[token]
            elif isinstance(node, list) and token.isdigit() and int(token) < len(node):
                node = node[int(token)]
            else:
                return None
        return node

    def deref(self, node: Any, at: str) -> tuple[Any, str]:
        """The node and its pointer, following local `$ref`s; a reference elsewhere is reported and yields None."""
        for _ in range(MAX_REF_DEPTH):
            if not (isinstance(node, dict) and isinstance(node.get("$ref"), str)):
                return node, at
            ref = node["$ref"]
            self.take(pointer_join(at, "$ref"))
            if not ref.startswith("#"):
                self.miss(pointer_join(at, "$ref"), f"reference {ref!r} outside the document: not followed")
                return None, at
            at = ref[1:]
            node = self.get(at)
        self.miss(at, "reference chain too long (a loop?)")
        return None, at

    def leftovers(self) -> list[Unmapped]:
        found = list(self.unmapped)
        missed = {u.pointer for u in self.unmapped}

        def walk(node: Any, at: str) -> Iterator[str]:
            if at in self.read:
                return
            below = [p for p in self.read if p.startswith(at + "/")]
            if not below or not isinstance(node, dict | list):
                yield at
                return
            items = node.items() if isinstance(node, dict) else enumerate(node)
            for key, value in items:
                yield from walk(value, pointer_join(at, key))

        found += [Unmapped(p, "not mapped to the kit's spec") for p in walk(self.doc, "") if p not in missed]
        return sorted(found, key=lambda u: u.pointer)


def pointer_join(at: str, token: str | int) -> str:
    return at + pointer(token)


def import_document(doc: Any, *, doc_dir: Path, root: Path, broker: str | None = None,
                    schemas_dir: str = "schemas/imported") -> ImportResult:
    """The kit spec a document describes; raises ImportError_ when it is not AsyncAPI 2.6/3.0 or names no broker."""
    version = version_of(doc)
    if "x-edakit-spec" in doc and version.startswith("3."):
        from edakit.asyncapi.roundtrip import import_edakit

        return import_edakit(doc, doc_dir=doc_dir, root=root)
    return _Foreign(doc, version, doc_dir, root, broker, schemas_dir).run()


def _declare_filtered_attributes(channels: dict[str, Any], subscribers: dict[str, Any]) -> None:
    """An SNS filter on message attributes reads attributes the publisher must set: each becomes a declared header
    of the channel, sent as a broker attribute of the same name (`native: {kind: header.kind}`)."""
    for sub in subscribers.values():
        policy = mapping(sub.get("filter")).get("policy")
        if not isinstance(policy, dict) or sub["filter"].get("scope", "MessageAttributes") != "MessageAttributes":
            continue
        attributes = channels[sub["channel"]].setdefault("attributes", {})
        for key in policy:
            if HEADER_NAME.match(key):
                attributes.setdefault("headers", [])
                if key not in attributes["headers"]:
                    attributes["headers"].append(key)
                attributes.setdefault("native", {})[key] = f"header.{key}"


class _Foreign:
    def __init__(self, doc: dict[str, Any], version: str, doc_dir: Path, root: Path, broker: str | None,
                 schemas_dir: str) -> None:
        self.r = Reader(doc)
        self.v3 = version.startswith("3.")
        self.doc_dir, self.root, self.broker = doc_dir, root, broker
        self.result = ImportResult(spec={})
        self.events: dict[str, dict[str, Any]] = {}
        self.message_events: dict[str, str] = {}  # message pointer -> event name
        self.name = "imported"
        self.schemas_dir = schemas_dir
        self.environments: dict[str, Any] = {}
        self.budget = MAX_INLINED_NODES

    def run(self) -> ImportResult:
        doc, r = self.r.doc, self.r
        r.take("/asyncapi")
        info = doc.get("info") if isinstance(doc.get("info"), dict) else {}
        self.name = identifier(str(info.get("title", "imported")), 24) or "imported"
        r.take("/info/title")
        r.take("/info/version")  # the document's version; the kit versions events, not the system
        spec: dict[str, Any] = {"name": self.name}
        if isinstance(info.get("description"), str):
            spec["description"] = info["description"].strip()
            r.take("/info/description")
        if doc.get("defaultContentType") is not None:
            self._content_type(doc["defaultContentType"], "/defaultContentType")
        spec["broker"] = self._servers(spec)
        self.result.spec = spec
        channels, subscribers = self._channels()
        spec["events"] = self.events
        spec["channels"] = channels
        _declare_filtered_attributes(channels, subscribers)
        if subscribers:
            spec["subscribers"] = subscribers
        if not self.events:
            del spec["events"]
        if self.environments:
            spec["environments"] = self.environments
        self.result.unmapped = r.leftovers()
        return self.result

    def _content_type(self, value: Any, at: str) -> None:
        if isinstance(value, str) and JSON_CONTENT.match(value):
            self.r.take(at)
        else:
            self.r.miss(at, f"content type {value!r}: the kit carries JSON and Avro payloads")

    def _servers(self, spec: dict[str, Any]) -> str:
        servers = self.r.doc.get("servers") if isinstance(self.r.doc.get("servers"), dict) else {}
        chosen = self.broker
        for name, server in servers.items():
            protocol = server.get("protocol") if isinstance(server, dict) else None
            if chosen is None and protocol in KIT_PROTOCOLS:
                chosen = KIT_PROTOCOLS[protocol]
        if chosen is None:
            raise ImportError_("servers: no server with a protocol the kit maps (kafka, kafka-secure, sns, sqs, "
                               "googlepubsub); pass --broker kafka|sqs-sns|pubsub")
        self.broker = chosen
        per_server: dict[str, dict[str, Any]] = {}  # server -> its Kafka settings
        for name, server in servers.items():
            at = pointer("servers", name)
            if not isinstance(server, dict) or KIT_PROTOCOLS.get(server.get("protocol")) != chosen:
                self.r.miss(at, f"server on protocol {server.get('protocol') if isinstance(server, dict) else None!r}"
                                f": the spec describes one {chosen} system")
                continue
            self.r.take(pointer_join(at, "protocol"))
            host_key = "host" if self.v3 else "url"
            host = server.get(host_key)
            settings: dict[str, Any] = {}
            if isinstance(host, str):
                self.r.take(pointer_join(at, host_key))
                if "{" in host:
                    self.r.miss(pointer_join(at, host_key),
                                f"host {host!r} has server variables; the kit needs a concrete address")
                elif chosen == "kafka":
                    settings["bootstrap_servers"] = [host.split("://")[-1]]
                elif chosen == "sqs-sns" and (m := re.match(r"^(?:sns|sqs)\.([a-z0-9-]+)\.amazonaws\.com", host)):
                    spec.setdefault("sqs_sns", {})["region"] = m.group(1)
                elif chosen == "pubsub" and (m := re.search(r"projects/([a-z][a-z0-9-]{4,28}[a-z0-9])",
                                                            host + str(server.get("pathname", "")))):
                    spec.setdefault("pubsub", {})["project_id"] = m.group(1)
                    if "pathname" in server:
                        self.r.take(pointer_join(at, "pathname"))
            kafka = mapping(server.get("bindings")).get("kafka") if chosen == "kafka" else None
            if isinstance(kafka, dict) and isinstance(kafka.get("schemaRegistryUrl"), str):
                settings["schema_registry_url"] = kafka["schemaRegistryUrl"]
                for key in ("schemaRegistryUrl", "schemaRegistryVendor", "bindingVersion"):
                    if key in kafka:
                        self.r.take(at + "/bindings/kafka/" + key)
            if chosen == "kafka" and "bootstrap_servers" in settings:
                per_server[name] = settings
        if chosen == "kafka":
            self._kafka_environments(spec, per_server)
        if chosen == "sqs-sns" and "sqs_sns" not in spec:
            self.r.miss("/servers", "no SNS/SQS server host sns.<region>.amazonaws.com: sqs_sns.region is required")
        if chosen == "pubsub" and "pubsub" not in spec:
            self.r.miss("/servers", "no Pub/Sub server naming projects/<id>: pubsub.project_id is required")
        return chosen

    def _kafka_environments(self, spec: dict[str, Any], per_server: dict[str, dict[str, Any]]) -> None:
        """One Kafka server: the spec's cluster. Several: the first is the base and each server an environment
        (the way the kit exports them: one server per environment)."""
        if not per_server:
            self.r.miss("/servers", "no Kafka server with a concrete host: kafka.bootstrap_servers is required")
            return
        first = next(iter(per_server.values()))
        spec["kafka"] = dict(first)
        if len(per_server) > 1:
            environments: dict[str, Any] = {}
            for name, settings in per_server.items():
                override = {k: v for k, v in settings.items() if first.get(k) != v}
                environments[unique(identifier(name), environments)] = {"kafka": override} if override else {}
            self.environments = environments

    # channels, messages and operations --------------------------------------------------------------------------

    def _channels(self) -> tuple[dict[str, Any], dict[str, Any]]:
        raw = self.r.doc.get("channels") if isinstance(self.r.doc.get("channels"), dict) else {}
        channels: dict[str, Any] = {}
        subscribers: dict[str, Any] = {}
        by_pointer: dict[str, str] = {}
        for key, node in raw.items():
            at = pointer("channels", key)
            channel, at = self.r.deref(node, at)
            if not isinstance(channel, dict):
                continue
            name = unique(identifier(key), channels)
            by_pointer[at] = name
            out: dict[str, Any] = {}
            if self.v3:
                address = channel.get("address")
                if address is not None:
                    if address == key or identifier(str(address)) == name:
                        self.r.take(at + "/address")
                    else:
                        self.r.miss(at + "/address", f"address {address!r}: the kit names the topic "
                                                     f"<spec>-<environment>-{name}")
            elif key != name:
                self.r.miss(at, f"channel address {key!r} became channel {name!r}; the kit names the topic "
                                f"<spec>-<environment>-{name}")
                self.r.read.discard(at)  # still walk its children
            if isinstance(channel.get("description"), str):
                out["description"] = channel["description"].strip()
                self.r.take(at + "/description")
            events, headers = self._channel_messages(channel, at)
            if headers:
                out["attributes"] = {"headers": sorted(headers)}
            self._channel_bindings(channel, at, out)
            if not events:
                self.r.miss(at, "channel without a message that has a payload schema: a kit channel carries events")
                continue
            out = {"events": events, **out}
            channels[name] = out
            if not self.v3:
                for action in ("publish", "subscribe"):
                    if action in channel:
                        self._operation(channel[action], at + "/" + action, name,
                                        "receive" if action == "publish" else "send", subscribers)
        if self.v3:
            operations = self.r.doc.get("operations") if isinstance(self.r.doc.get("operations"), dict) else {}
            for key, node in operations.items():
                op_at = pointer("operations", key)
                op, op_at = self.r.deref(node, op_at)
                if not isinstance(op, dict):
                    continue
                target = mapping(op.get("channel")).get("$ref")
                target = target if isinstance(target, str) else ""
                channel_name = by_pointer.get(target[1:]) if target.startswith("#") else None
                if channel_name is None or channel_name not in channels:
                    self.r.miss(op_at, "operation on a channel that was not mapped")
                    continue
                self.r.take(op_at + "/channel")
                self._operation(op, op_at, channel_name, op.get("action"), subscribers, key)
        return channels, subscribers

    def _channel_messages(self, channel: dict[str, Any], at: str) -> tuple[list[str], set[str]]:
        events: list[str] = []
        headers: set[str] = set()
        messages: list[tuple[Any, str, str]] = []
        if self.v3:
            for key, node in mapping(channel.get("messages")).items():
                messages.append((node, at + pointer("messages", key), key))
        else:
            for action in ("publish", "subscribe"):
                op = channel.get(action)
                if isinstance(op, dict) and "message" in op:
                    message_at = at + pointer(action, "message")
                    node = op["message"]
                    if isinstance(node, dict) and isinstance(node.get("oneOf"), list):
                        self.r.take(message_at + "/oneOf")
                        for i, item in enumerate(node["oneOf"]):
                            messages.append((item, message_at + pointer("oneOf", i), f"{action}-{i}"))
                    else:
                        messages.append((node, message_at, action))
        for node, message_at, key in messages:
            name = self._message(node, message_at, key, headers)
            if name and name not in events:
                events.append(name)
        return events, headers

    def _message(self, node: Any, at: str, key: str, headers: set[str]) -> str | None:
        message, resolved_at = self.r.deref(node, at)
        if not isinstance(message, dict):
            return None
        if resolved_at in self.message_events:
            return self.message_events[resolved_at]
        take = self.r.take
        name = event_name(str(message.get("name") or (resolved_at.rsplit("/", 1)[-1] if resolved_at != at else key)))
        for field_name in ("name", "title", "messageId"):
            if field_name in message:
                take(resolved_at + "/" + field_name)
        if "contentType" in message:
            self._content_type(message["contentType"], resolved_at + "/contentType")
        if "payload" not in message:
            self.r.miss(resolved_at, "message without a payload: a kit event needs a schema")
            return None
        schema = self._payload(message, resolved_at, name)
        if schema is None:
            return None
        event: dict[str, Any] = {"schema": schema, "version": 1}
        text = message.get("description") or message.get("summary")
        if isinstance(text, str):
            event["description"] = text.strip()
            take(resolved_at + ("/description" if "description" in message else "/summary"))
        base, number = name, 2
        while name in self.events and self.events[name] != event:
            name, number = f"{base}{number}", number + 1
        self.events[name] = event
        self.message_events[resolved_at] = name
        if isinstance(message.get("headers"), dict):
            self._headers(message["headers"], resolved_at + "/headers", headers)
        return name

    def _headers(self, node: Any, at: str, headers: set[str]) -> None:
        schema, at = self.r.deref(node, at)
        if not isinstance(schema, dict):
            return
        self.r.take(at + "/type")
        for header in mapping(schema.get("properties")):
            where = at + pointer("properties", header)
            name = header.removeprefix("ce_").removeprefix("ce-")
            if name in CLOUDEVENTS_CORE or header == "content-type":
                self.r.take(where)  # the kit's publisher sets these on every message
            elif HEADER_NAME.match(name):
                headers.add(name)
                self.r.take(where)
            else:
                self.r.miss(where, f"header {header!r}: a declared header is a CloudEvents extension name "
                                   f"(lower-case letters and digits, at most 20)")
        if "required" in schema:
            self.r.take(at + "/required")

    def _payload(self, message: dict[str, Any], at: str, name: str) -> str | None:
        payload = message["payload"]
        schema_format = str(message.get("schemaFormat", ""))
        payload_at = at + "/payload"
        if self.v3 and isinstance(payload, dict) and "schemaFormat" in payload and "schema" in payload:
            schema_format = str(payload["schemaFormat"])
            self.r.take(payload_at + "/schemaFormat")
            payload, payload_at = payload["schema"], payload_at + "/schema"
        elif "schemaFormat" in message:
            self.r.take(at + "/schemaFormat")
        avro = schema_format.startswith("application/vnd.apache.avro")
        if schema_format and not avro and "schema+json" not in schema_format and "aai" not in schema_format \
                and "asyncapi" not in schema_format:
            self.r.miss(payload_at, f"schema format {schema_format!r}: the kit reads Avro and JSON Schema")
            return None
        if isinstance(payload, dict) and isinstance(payload.get("$ref"), str) and not payload["$ref"].startswith("#"):
            ref = payload["$ref"]
            if re.match(r"^[a-z][a-z0-9+.-]*:", ref, re.I):
                self.r.miss(payload_at + "/$ref", f"payload reference {ref!r} is a URL: not fetched")
                return None
            target = (self.doc_dir / ref).resolve()
            try:
                relative = target.relative_to(self.root.resolve()).as_posix()
            except ValueError:
                self.r.miss(payload_at + "/$ref", f"payload file {ref!r} is outside the repository")
                return None
            self.r.take(payload_at)
            return relative
        self.budget = MAX_INLINED_NODES
        inlined = self._inline(payload, payload_at, 0)
        if inlined is None:
            return None
        self.r.take(payload_at)
        suffix = ".avsc" if avro else ".schema.json"
        path = f"{self.schemas_dir}/{self.name}/{identifier(name)}{suffix}"
        if not avro:
            inlined = {"$schema": "http://json-schema.org/draft-07/schema#", "title": name, **inlined} \
                if isinstance(inlined, dict) else inlined
        self.result.schemas[path] = json.dumps(inlined, indent=2, sort_keys=False) + "\n"
        return path

    def _inline(self, node: Any, at: str, depth: int) -> Any:
        """The schema with its local `$ref`s replaced by what they point at (every read pointer recorded)."""
        if depth > MAX_REF_DEPTH:
            self.r.miss(at, "schema nested too deeply (a recursive reference?)")
            return None
        self.budget -= 1
        if self.budget < 0:
            if self.budget == -1:
                self.r.miss(at, f"schema expands to more than {MAX_INLINED_NODES} values once its $refs are inlined")
            return None
        if isinstance(node, dict) and "$ref" in node:
            target, target_at = self.r.deref(node, at)
            if target is None:
                return None
            self.r.take(target_at)
            return self._inline(target, target_at, depth + 1)
        if isinstance(node, dict):
            out = {}
            for key, value in node.items():
                inner = self._inline(value, at + pointer(key), depth + 1)
                if inner is None and value is not None:
                    return None
                out[key] = inner
            return out
        if isinstance(node, list):
            items = [self._inline(v, at + pointer(i), depth + 1) for i, v in enumerate(node)]
            return None if any(i is None and v is not None for i, v in zip(items, node, strict=True)) else items
        return node

    def _channel_bindings(self, channel: dict[str, Any], at: str, out: dict[str, Any]) -> None:
        bindings = channel.get("bindings")
        if not isinstance(bindings, dict):
            return
        kafka = bindings.get("kafka")
        if self.broker == "kafka" and isinstance(kafka, dict):
            where = at + "/bindings/kafka"
            topic: dict[str, Any] = {}
            for source, target in (("partitions", "partitions"), ("replicas", "replication_factor")):
                if isinstance(kafka.get(source), int):
                    topic[target] = kafka[source]
                    self.r.take(where + "/" + source)
            config = mapping(kafka.get("topicConfiguration"))
            retention = config.get("retention.ms")
            if isinstance(retention, int) and retention > 0 and retention % 3_600_000 == 0:
                topic["retention_hours"] = retention // 3_600_000
                self.r.take(where + "/topicConfiguration/retention.ms")
            policy = config.get("cleanup.policy")
            if isinstance(policy, list) and policy and set(policy) <= {"delete", "compact"}:
                topic["cleanup_policy"] = ",".join(policy)
                self.r.take(where + "/topicConfiguration/cleanup.policy")
            self.r.take(where + "/bindingVersion")
            if topic:
                out["kafka"] = topic

    def _operation(self, op: Any, at: str, channel: str, action: Any, subscribers: dict[str, Any],
                   key: str | None = None) -> None:
        op, at = self.r.deref(op, at)
        if not isinstance(op, dict):
            return
        self.r.take(at + "/action")
        self.r.take(at + "/message")
        self.r.take(at + "/messages")
        if action == "send":
            return  # the kit's publishers need no declaration besides the channel (Kafka ACL principals aside)
        if action != "receive":
            self.r.miss(at, f"operation action {action!r}")
            return
        name = identifier(str(key or op.get("operationId") or f"{channel}-consumer"))
        if "operationId" in op:
            self.r.take(at + "/operationId")
        name = unique(name, subscribers)
        sub: dict[str, Any] = {"channel": channel}
        text = op.get("description") or op.get("summary")
        if isinstance(text, str):
            sub["description"] = text.strip()
            self.r.take(at + ("/description" if "description" in op else "/summary"))
        kafka = mapping(op.get("bindings")).get("kafka") if self.broker == "kafka" else None
        if isinstance(kafka, dict) and isinstance(kafka.get("groupId"), dict):
            group = kafka["groupId"]
            values = group.get("enum") or ([group["const"]] if "const" in group else [])
            values = values if isinstance(values, list) else []
            if len(values) == 1 and isinstance(values[0], str):
                sub["kafka"] = {"consumer_group": values[0]}
                self.r.take(at + "/bindings/kafka/groupId")
                self.r.take(at + "/bindings/kafka/bindingVersion")
        if self.broker == "sqs-sns":
            self._sqs_sns_bindings(mapping(op.get("bindings")), at + "/bindings", sub)
        subscribers[name] = sub

    def _sqs_sns_bindings(self, bindings: dict[str, Any], at: str, sub: dict[str, Any]) -> None:
        """An SNS subscription (the first SQS consumer: filter policy and scope, raw delivery) and its SQS queue
        (the first queue: visibility timeout, long polling, retention, redrive count) onto the subscriber."""
        take = self.r.take
        sns = mapping(bindings.get("sns"))
        consumers = sns.get("consumers") if isinstance(sns.get("consumers"), list) else []
        queue_settings: dict[str, Any] = {}
        for i, consumer in enumerate(consumers[:1]):
            where = f"{at}/sns/consumers/{i}"
            if not isinstance(consumer, dict) or consumer.get("protocol") != "sqs":
                continue
            take(where + "/protocol")
            take(where + "/endpoint")
            if isinstance(consumer.get("filterPolicy"), dict):
                sub["filter"] = {"policy": consumer["filterPolicy"]}
                take(where + "/filterPolicy")
                if consumer.get("filterPolicyScope") in ("MessageAttributes", "MessageBody"):
                    sub["filter"]["scope"] = consumer["filterPolicyScope"]
                    take(where + "/filterPolicyScope")
            if isinstance(consumer.get("rawMessageDelivery"), bool):
                queue_settings["raw_message_delivery"] = consumer["rawMessageDelivery"]
                take(where + "/rawMessageDelivery")
        if consumers:
            take(f"{at}/sns/bindingVersion")
        sqs = mapping(bindings.get("sqs"))
        queues = sqs.get("queues") if isinstance(sqs.get("queues"), list) else []
        if queues and isinstance(queues[0], dict):
            queue, where = queues[0], f"{at}/sqs/queues/0"
            take(where + "/name")  # the kit names queues <topic>-<subscriber>
            take(where + "/fifoQueue")
            for source, target, scale in (("visibilityTimeout", "visibility_timeout_seconds", 1),
                                          ("receiveMessageWaitTime", "receive_wait_time_seconds", 1),
                                          ("messageRetentionPeriod", "message_retention_hours", 3600)):
                value = queue.get(source)
                if isinstance(value, int) and not isinstance(value, bool) and value % scale == 0:
                    queue_settings[target] = value // scale
                    take(f"{where}/{source}")
            redrive = mapping(queue.get("redrivePolicy"))
            if isinstance(redrive.get("maxReceiveCount"), int):
                sub["dlq"] = {"max_receive_count": redrive["maxReceiveCount"]}
                take(f"{where}/redrivePolicy")  # the DLQ's name is the kit's: <queue>-dlq
            take(f"{at}/sqs/bindingVersion")
        if queue_settings:
            sub["sqs_sns"] = queue_settings
