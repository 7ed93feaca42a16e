"""AsyncAPI's own published examples (fixtures/, reproduced from asyncapi/spec, Apache-2.0) import into kit specs
that load, and each lists exactly the parts it cannot map; the import's naming and robustness hold for any input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from asyncapi_paths import FIXTURES
from hypothesis import given, settings
from hypothesis import strategies as st

from edakit.asyncapi.importer import ImportError_, event_name, identifier, import_document
from edakit.cli import main
from edakit.spec import load_environments

CHANNELS_3 = ("lightTurnOff", "lightTurnOn", "lightingMeasured", "lightsDim")
STREETLIGHTS_COMMON = {
    "/components/messageTraits", "/components/messages/dimLight/traits", "/components/messages/lightMeasured/traits",
    "/components/messages/turnOnOff/traits", "/components/operationTraits", "/components/parameters",
    "/components/securitySchemes", "/info/license"}
EXPECTED = {
    "streetlights-kafka-3.0": STREETLIGHTS_COMMON
    | {f"/channels/{c}/{k}" for c in CHANNELS_3 for k in ("address", "parameters")}
    | {f"/operations/{o}/traits" for o in ("dimLight", "receiveLightMeasurement", "turnOff", "turnOn")}
    | {f"/servers/{s}/{k}" for s in ("mtls-connections", "scram-connections")
       for k in ("description", "security", "tags")},
    "streetlights-kafka-2.6": STREETLIGHTS_COMMON | {"/servers/test/description", "/servers/test/security"}
    | {f"/channels/smartylighting.streetlights.1.0.action.{{streetlightId}}.{a}{k}"
       for a in ("dim", "turn.off", "turn.on") for k in ("", "/parameters", "/subscribe/operationId",
                                                         "/subscribe/traits")}
    | {f"/channels/smartylighting.streetlights.1.0.event.{{streetlightId}}.lighting.measured{k}"
       for k in ("", "/parameters", "/publish/traits")},
    "adeo-kafka-request-reply-3.0": {
        "/channels/costingRequest", "/channels/costingRequest/address", "/channels/costingResponse",
        "/channels/costingResponse/address", "/components/correlationIds", "/components/parameters",
        "/components/schemas", "/components/securitySchemes", "/info/contact", "/info/tags",
        "/operations/getCostingResponse", "/operations/requestCosting",
        *(f"/components/messages/costingRequestV1/{k}" for k in ("correlationId", "headers", "payload/schema/$ref",
                                                                 "summary", "tags")),
        *(f"/components/messages/costingResponse/{k}" for k in ("bindings", "correlationId", "description",
                                                                "headers", "payload/schema/$ref", "summary",
                                                                "tags")),
        *(f"/servers/{s}/{k}" for s in ("dev", "production", "staging") for k in ("description", "security"))},
}


def imported(name: str, root: Path):
    path = FIXTURES / f"{name}.yaml"
    return import_document(yaml.safe_load(path.read_text(encoding="utf-8")), doc_dir=FIXTURES, root=root)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_example_lists_exactly_what_it_cannot_map(name, import_root):
    result = imported(name, import_root)
    assert {u.pointer for u in result.unmapped} == EXPECTED[name]


@pytest.mark.parametrize("name", ["streetlights-kafka-3.0", "streetlights-kafka-2.6"])
def test_streetlights_imports_to_a_kafka_spec_that_loads(name, import_root):
    result = imported(name, import_root)
    for relative, text in result.schemas.items():
        (import_root / relative).parent.mkdir(parents=True, exist_ok=True)
        (import_root / relative).write_text(text, encoding="utf-8")
    spec_path = import_root / "spec.yaml"
    spec_path.write_text(yaml.safe_dump(result.spec, sort_keys=False), encoding="utf-8")
    specs = load_environments(spec_path, root=import_root)
    spec = specs[0]
    assert spec.broker == "kafka" and spec.name == "streetlights-kafka-api"
    assert set(spec.events) == {"LightMeasured", "TurnOnOff", "DimLight"}
    assert len(spec.channels) == 4
    [subscriber] = spec.subscribers.values()
    assert subscriber.name == "receive-light-measurement"
    assert spec.channels[subscriber.channel].events == ("LightMeasured",)
    schema = json.loads((import_root / spec.events["LightMeasured"].schema).read_text())
    # the payload's local $ref (#/components/schemas/sentAt) is inlined into the written schema file
    assert schema["properties"]["sentAt"] == {"type": "string", "format": "date-time",
                                              "description": "Date and time when the message was sent."}
    if name.endswith("3.0"):  # two servers: the first is the base cluster, the other an environment
        assert [s.environment for s in specs] == ["scram-connections", "mtls-connections"]
        assert specs[1].kafka.bootstrap_servers == ("test.mykafkacluster.org:28092",)


def test_request_reply_payloads_behind_urls_are_reported_not_fetched(import_root):
    result = imported("adeo-kafka-request-reply-3.0", import_root)
    why = {u.pointer: u.why for u in result.unmapped}
    assert "is a URL: not fetched" in why["/components/messages/costingRequestV1/payload/schema/$ref"]
    assert result.spec["kafka"]["schema_registry_url"] == "https://schema-registry.prod.url/"
    assert set(result.spec["environments"]) == {"production", "staging", "dev"}


def test_import_cli_exits_1_listing_pointers_and_2_for_a_non_asyncapi_document(import_root):
    runner = CliRunner()
    out = import_root / "streetlights.yaml"
    result = runner.invoke(main, ["asyncapi", "import", str(FIXTURES / "streetlights-kafka-3.0.yaml"),
                                  "--root", str(import_root), "-o", str(out)])
    assert result.exit_code == 1
    assert "streetlights-kafka-3.0.yaml#/info/license: not mapped" in result.output
    assert "26 part(s) not mapped" in result.output
    assert yaml.safe_load(out.read_text())["broker"] == "kafka"
    assert (import_root / "schemas/imported/streetlights-kafka-api/dim-light.schema.json").is_file()
    bad = import_root / "openapi.yaml"
    bad.write_text("openapi: 3.1.0\ninfo: {title: x}\n", encoding="utf-8")
    result = runner.invoke(main, ["asyncapi", "import", str(bad)])
    assert result.exit_code == 2
    assert result.output.count("\n") == 1 and "expected an AsyncAPI 2.6.x or 3.0.x document" in result.output


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=80))
def test_identifier_and_event_name_always_fit_the_spec_patterns(text):
    import re

    name = identifier(text)
    assert re.fullmatch(r"[a-z][a-z0-9]*(-[a-z0-9]+)*", name) and len(name) <= 40
    assert len(identifier(text, 24)) <= 24
    assert re.fullmatch(r"[A-Z][A-Za-z0-9]*", event_name(text))


json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=8),
                           lambda inner: st.lists(inner, max_size=3)
                           | st.dictionaries(st.sampled_from(["$ref", "payload", "messages", "action", "channel",
                                                              "address", "host", "protocol", "x", "name"]),
                                             inner, max_size=4), max_leaves=12)


@settings(max_examples=150, deadline=None)
@given(channels=st.dictionaries(st.text(min_size=1, max_size=6), json_values, max_size=3),
       operations=st.dictionaries(st.text(min_size=1, max_size=6), json_values, max_size=3),
       version=st.sampled_from(["2.6.0", "3.0.0"]))
def test_any_document_imports_or_is_refused_cleanly(channels, operations, version, tmp_path_factory):
    doc = {"asyncapi": version, "info": {"title": "t", "version": "1"},
           "servers": {"s": {"host": "k:9092", "url": "k:9092", "protocol": "kafka"}},
           "channels": channels, "operations": operations}
    try:
        result = import_document(doc, doc_dir=Path("."), root=tmp_path_factory.getbasetemp())
    except ImportError_:
        return
    assert result.spec["broker"] == "kafka"
    assert all(u.pointer.startswith("/") for u in result.unmapped)


def test_a_payload_whose_refs_expand_exponentially_is_refused_quickly(import_root):
    schemas = {"s0": {"type": "string"}}
    for n in range(1, 8):  # shallow but wide: s7 would expand to 10**7 leaves
        schemas[f"s{n}"] = {"type": "object",
                            "properties": {f"p{i}": {"$ref": f"#/components/schemas/s{n - 1}"} for i in range(10)}}
    doc = {"asyncapi": "3.0.0", "info": {"title": "bomb", "version": "1"},
           "servers": {"k": {"host": "k:9092", "protocol": "kafka"}},
           "channels": {"c": {"messages": {"m": {"payload": {"$ref": "#/components/schemas/s7"}}}}},
           "components": {"schemas": schemas}}
    result = import_document(doc, doc_dir=import_root, root=import_root)
    assert result.schemas == {}
    assert any("more than 100000 values" in u.why for u in result.unmapped)


def test_a_foreign_sns_sqs_document_maps_its_bindings_onto_a_spec_that_loads(import_root):
    result = imported("orders-sns-foreign-3.0", import_root)
    assert result.unmapped == []
    for relative, text in result.schemas.items():
        (import_root / relative).parent.mkdir(parents=True, exist_ok=True)
        (import_root / relative).write_text(text, encoding="utf-8")
    path = import_root / "spec.yaml"
    path.write_text(yaml.safe_dump(result.spec, sort_keys=False), encoding="utf-8")
    [spec] = load_environments(path, root=import_root)
    assert spec.broker == "sqs-sns" and spec.sqs_sns.region == "eu-west-1"
    sub = spec.subscribers["notify-customer"]
    assert sub.filter.policy == {"kind": ["invoice"]} and sub.filter.scope == "MessageAttributes"
    assert sub.dlq.max_receive_count == 4
    assert (sub.queue.visibility_timeout_seconds, sub.queue.message_retention_hours, sub.queue.raw_message_delivery) \
        == (120, 96, True)
    # the attribute the filter reads is one the publisher sends
    assert spec.channels["invoice-issued"].native_attributes == {"kind": "header.kind"}
