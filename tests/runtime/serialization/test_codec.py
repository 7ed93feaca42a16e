"""The codec against the local registry: Confluent's wire format through confluent-kafka's serde, subjects by the
domain's strategy, v1/v2 producers and consumers as BACKWARD promises, poison versus a registry that is down, and
the outbox refusing an invalid payload at append."""

from __future__ import annotations

import copy
import json
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest
from confluent_kafka.schema_registry import Schema, SchemaRegistryClient
from confluent_kafka.schema_registry.json_schema import JSONDeserializer, JSONSerializer
from confluent_kafka.serialization import MessageField, SerializationContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edakit.runtime.message import Message
from edakit.runtime.middleware import RetryPolicy, Router, compose, retry
from edakit.runtime.middleware.serialization import serialization
from edakit.runtime.outbox import OutboxEvent, append, create_schema
from edakit.runtime.serde import (AVRO_CONTENT_TYPE, CONFLUENT_JSON_CONTENT_TYPE, ChannelCodec, InvalidPayload,
                                  PoisonMessage, SerdeError, channel_codec, event_schema, serializer)
from edakit.schemas.compat import check_compatibility
from edakit.schemas.registry import Registry
from edakit.schemas.serve import running
from edakit.schemas.validate import read_schema_json
from edakit.spec.loader import load_spec

Example = Callable[[str], dict[str, Any]]
TOPIC = "orders-kafka-order-placed"
SUBJECT = "orders.order-placed-value"


def _codec(repo_root: Path, url: str, version: int, wire: str = "confluent", path: Path | None = None,
           retries: int = 3) -> ChannelCodec:
    path = path or repo_root / f"schemas/order-events/v{version}/order-placed.avsc"
    schema = event_schema("OrderPlaced", path, version, TOPIC, subject=SUBJECT)
    return ChannelCodec(TOPIC, {"OrderPlaced": schema}, wire=wire,
                        registry=SchemaRegistryClient({"url": url, "max.retries": retries}))


def _message(payload: bytes, headers: dict[str, str] | None = None, type_: str = "OrderPlaced") -> Message:
    return Message.new(type_, payload, source="/services/order", headers=headers)


def test_subjects_are_named_by_the_domains_strategy(repo_root: Path) -> None:
    topic_strategy = event_schema("OrderPlaced", repo_root / "schemas/order-events/v1/order-placed.avsc", 1, TOPIC)
    record_strategy = event_schema("PaymentFailed", repo_root / "schemas/payment-events/v1/payment-failed.avsc", 1,
                                   "payments")
    assert topic_strategy.subject == SUBJECT  # TopicNameStrategy over the domain's topic, as `schema push` names it
    assert record_strategy.subject == "payments-com.edakit.payments.PaymentFailed"  # TopicRecordNameStrategy


def test_confluent_wire_format_with_the_registered_id(kafka_spec, registry_url: str, repo_root: Path,
                                                      example: Example) -> None:
    codec = channel_codec(kafka_spec, "order-placed", registry_url=registry_url)
    v1 = read_schema_json(repo_root / "schemas/order-events/v1/order-placed.avsc")
    registered = SchemaRegistryClient({"url": registry_url}).lookup_schema(SUBJECT, Schema(json.dumps(v1), "AVRO"))
    payload, content_type, headers = codec.encode("OrderPlaced", example("v1"))
    assert payload[0] == 0 and int.from_bytes(payload[1:5], "big") == registered.schema_id
    assert content_type == AVRO_CONTENT_TYPE
    # The id travels in the bytes, and in the kit's schema headers (allowed on every channel undeclared).
    assert headers == {"schemaversion": "1", "schemaid": str(registered.schema_id)}
    decoded = codec.decode(_message(payload))
    assert decoded.value["order_id"] == "ord-1001" and decoded.writer_schema_id == registered.schema_id


def test_v1_and_v2_producers_and_consumers_as_backward_promises(registry_url: str, repo_root: Path,
                                                                example: Example) -> None:
    v1, v2 = _codec(repo_root, registry_url, 1), _codec(repo_root, registry_url, 2)
    old = v1.encode("OrderPlaced", example("v1"))[0]
    new = v2.encode("OrderPlaced", example("v2-with-shipping-address"))[0]
    # BACKWARD: the v2 consumer reads what v1 producers wrote, the added fields at their defaults
    read_old = v2.decode(_message(old)).value
    assert (read_old["sales_channel"], read_old["shipping_address"]) == ("web", None)
    # the reverse (v1 reading v2) is FORWARD, not promised by BACKWARD; these two are FULL-compatible, so it reads
    schemas = [read_schema_json(repo_root / f"schemas/order-events/v{n}/order-placed.avsc") for n in (1, 2)]
    assert check_compatibility("AVRO", schemas[0], [schemas[1]], "BACKWARD").compatible
    read_new = v1.decode(_message(new)).value
    assert "sales_channel" not in read_new and read_new["order_id"] == example("v2-with-shipping-address")[
        "order_id"]


def test_a_version_the_level_does_not_promise_to_read_is_poison(registry_url: str, repo_root: Path,
                                                              tmp_path: Path, example: Example) -> None:
    v3 = read_schema_json(repo_root / "schemas/order-events/v2/order-placed.avsc")
    v3["fields"][4]["type"]["items"]["fields"][1]["type"] = "string"  # quantity: int -> string
    path = tmp_path / "order-placed.avsc"
    path.write_text(json.dumps(v3))
    client = SchemaRegistryClient({"url": registry_url})
    client.set_compatibility(SUBJECT, "NONE")  # what a team would have to do to register it: no promise left
    client.register_schema(SUBJECT, Schema(json.dumps(v3), "AVRO"))
    document = example("v2-with-shipping-address")
    for item in document["items"]:
        item["quantity"] = str(item["quantity"])
    written = _codec(repo_root, registry_url, 3, path=path).encode("OrderPlaced", document)[0]
    with pytest.raises(PoisonMessage) as poison:
        _codec(repo_root, registry_url, 1).decode(_message(written))
    assert poison.value.version == 1 and poison.value.schema_path.endswith("v1/order-placed.avsc")


def test_poison_kinds(registry_url: str, repo_root: Path, example: Example) -> None:
    codec = _codec(repo_root, registry_url, 1)
    cases = {b"not avro": "magic byte", b"\x00\x00\x00\x27\x0f\x02": "writer schema id 9999",
             codec.encode("OrderPlaced", example("v1"))[0][:7]: "cannot read"}
    for payload, why in cases.items():
        with pytest.raises(PoisonMessage, match=why):
            codec.decode(_message(payload))
    with pytest.raises(PoisonMessage, match="no event type 'OrderShipped'"):
        codec.decode(_message(b"\x00", type_="OrderShipped"))


def test_json_wire_validates_with_the_kits_validators(sns_spec, repo_root: Path, tmp_path: Path,
                                                      example: Example) -> None:
    codec = channel_codec(sns_spec, "order-placed")
    assert codec.wire == "json" and codec.registry is None  # no registry needed for JSON text
    payload, content_type, headers = codec.encode("OrderPlaced", example("v1"))
    # The schema version is a kit header: set whether or not the channel declares it (no registry: no schemaid).
    assert (content_type, headers) == ("application/json", {"schemaversion": "1"})
    assert codec.decode(_message(payload)).value == example("v1")
    bad = example("v1")
    bad["items"][0]["quantity"] = "two"
    with pytest.raises(PoisonMessage) as poison:
        codec.decode(_message(orjson.dumps(bad)))
    assert poison.value.json_path == "$.items[0].quantity" and "version 1" in str(poison.value)
    with pytest.raises(PoisonMessage, match="not valid JSON"):
        codec.decode(_message(b"{not json"))


def test_json_schema_in_confluents_json_wire_format(repo_root: Path, example: Example) -> None:
    twin = repo_root / "schemas/order-events/v1/order-placed.schema.json"
    with running(Registry.from_repository(repo_root / "schemas")) as url:
        client = SchemaRegistryClient({"url": url})
        schema_id = client.register_schema("orders-json-value", Schema(twin.read_text(), "JSON"))
        codec = ChannelCodec(TOPIC, {"OrderPlaced": event_schema("OrderPlaced", twin, 1, TOPIC,
                                                                 subject="orders-json-value")},
                             wire="confluent", registry=client)
        payload, content_type, _ = codec.encode("OrderPlaced", example("v1"))
        assert payload[:5] == b"\x00" + schema_id.to_bytes(4, "big") and content_type == CONFLUENT_JSON_CONTENT_TYPE
        # confluent-kafka's own JSON serde reads and writes the same frame
        context = SerializationContext(TOPIC, MessageField.VALUE)
        assert JSONDeserializer(twin.read_text(), schema_registry_client=client)(payload, context) == example("v1")
        conf = {"auto.register.schemas": False, "subject.name.strategy": lambda *_: "orders-json-value"}
        theirs = JSONSerializer(twin.read_text(), client, conf=conf)
        assert codec.decode(_message(theirs(example("v1"), context))).value == example("v1")
        bad = example("v1")
        bad["currency"] = 3
        with pytest.raises(InvalidPayload, match=r"\$\.currency"):
            codec.encode("OrderPlaced", bad)
        with pytest.raises(PoisonMessage, match=r"\$\.currency"):
            codec.decode(_message(payload[:5] + orjson.dumps(bad)))
        avro_id = client.get_latest_version(SUBJECT).schema_id
        with pytest.raises(PoisonMessage, match="is AVRO, not JSON Schema"):
            codec.decode(_message(b"\x00" + avro_id.to_bytes(4, "big") + orjson.dumps(example("v1"))))


def test_avro_without_a_registry_is_a_setup_error(kafka_spec) -> None:
    spec = copy.copy(kafka_spec)
    object.__setattr__(spec, "kafka", None)
    with pytest.raises(SerdeError, match="kafka.schema_registry_url"):
        channel_codec(spec, "order-placed")


def test_an_unregistered_producer_schema_is_a_setup_error(registry_url: str, repo_root: Path, tmp_path: Path) -> None:
    v3 = read_schema_json(repo_root / "schemas/order-events/v2/order-placed.avsc")
    v3["fields"].append({"name": "coupon", "type": ["null", "string"], "default": None})
    (tmp_path / "order-placed.avsc").write_text(json.dumps(v3))
    with pytest.raises(SerdeError, match="edakit schema push"):
        _codec(repo_root, registry_url, 3, path=tmp_path / "order-placed.avsc")


def test_a_registry_that_is_down_is_not_poison(repo_root: Path, example: Example, embedded) -> None:
    with running(Registry.from_repository(repo_root / "schemas")) as url:
        v1, v2 = _codec(repo_root, url, 1, retries=0), _codec(repo_root, url, 2)
        new = v2.encode("OrderPlaced", example("v2-digital-goods"))[0]
    # the v1 consumer has not seen v2's id yet and the registry is gone: a transport error, for retry() to redeliver
    with pytest.raises(Exception) as caught:
        v1.decode(_message(new))
    assert not isinstance(caught.value, PoisonMessage)
    embedded.create_group(TOPIC, "billing")
    embedded.publisher().publish(TOPIC, [_message(new)])
    outcomes = []
    router = Router(embedded.subscriber(TOPIC, "billing"),
                    compose(outcomes.append, retry(RetryPolicy(max_attempts=3, base_delay=0, max_delay=0)),
                            serialization(v1)))
    assert router.run_once() == 1
    assert outcomes == [] and embedded.dead_letter_subscriber(TOPIC, "billing").receive(1, timeout=0.1) == []
    [again] = embedded.subscriber(TOPIC, "billing").receive(1, timeout=1)  # nacked: it comes back
    assert again.attempt == 2 and again.message.payload == new


def test_append_refuses_an_invalid_payload_with_its_schema_path(kafka_spec, registry_url: str, repo_root: Path,
                                                               tmp_path: Path, example: Example) -> None:
    conn = sqlite3.connect(tmp_path / "orders.sqlite3")
    create_schema(conn)
    serialize = serializer(kafka_spec, registry_url=registry_url)

    def event(document: object) -> OutboxEvent:
        return OutboxEvent(aggregate_type="order", aggregate_id="ord-1001", event_type="OrderPlaced",
                           payload=json.dumps(document).encode(), topic=TOPIC, source="/services/order")

    bad = example("v1")
    bad["items"][1]["quantity"] = 1.5
    with pytest.raises(InvalidPayload) as refused:
        append(conn, [event(example("v1")), event(bad)], serialize=serialize)
    assert refused.value.json_path == "$.items[1].quantity"
    assert refused.value.schema_path == str(repo_root / "schemas/order-events/v1/order-placed.avsc")
    assert conn.execute("SELECT COUNT(*) FROM outbox").fetchone() == (0,)  # the valid one was not written either
    with pytest.raises(InvalidPayload, match="no event type 'OrderShipped'"):
        append(conn, [OutboxEvent("order", "o", "OrderShipped", b"{}", TOPIC, "/s")], serialize=serialize)
    with pytest.raises(InvalidPayload, match="has no schemas here"):
        append(conn, [OutboxEvent("order", "o", "OrderPlaced", b"{}", "elsewhere", "/s")], serialize=serialize)
    append(conn, [event(example("v1"))], serialize=serialize)
    conn.commit()
    payload, content_type, headers = conn.execute("SELECT payload, content_type, headers FROM outbox").fetchone()
    assert payload[0] == 0 and content_type == AVRO_CONTENT_TYPE
    assert json.loads(headers) == {"schemaversion": "1", "schemaid": str(int.from_bytes(payload[1:5], "big"))}
    assert channel_codec(kafka_spec, "order-placed", registry_url=registry_url).decode(
        _message(bytes(payload))).value["order_id"] == "ord-1001"  # what the relay will publish decodes


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(payload=st.one_of(st.binary(max_size=64), st.binary(max_size=40).map(lambda b: b"\x00\x00\x00\x00\x03" + b),
                         st.binary(max_size=4).map(lambda b: b"\x00" + b)))
def test_any_bytes_decode_or_are_poison(registry_url: str, repo_root: Path, payload: bytes) -> None:
    for wire in ("confluent", "json"):
        codec = _CODECS.get((registry_url, wire)) or _CODECS.setdefault(
            (registry_url, wire), _codec(repo_root, registry_url, 1, wire=wire))
        try:
            decoded = codec.decode(_message(payload))
        except PoisonMessage as poison:
            assert poison.version == 1 and str(poison)
        else:  # what decodes is a valid OrderPlaced
            assert set(decoded.value) >= {"order_id", "items"}


_CODECS: dict[tuple[str, str], ChannelCodec] = {}
