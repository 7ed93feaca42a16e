"""Every call of confluent-kafka's own `SchemaRegistryClient` against `edakit registry serve`, answered as
Confluent's registry answers it: results, error codes, soft and permanent deletes, modes, contexts, references and
metadata, and a JSON error body for every error (never an HTML page)."""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka.schema_registry import (ConfigCompatibilityLevel, Metadata, MetadataProperties, Schema,
                                             SchemaReference, SchemaRegistryClient, ServerConfig)
from confluent_kafka.schema_registry.error import SchemaRegistryError

from edakit.schemas.registry import Registry
from edakit.schemas.serve import running

SUBJECT = "orders.order-placed-value"
ADDRESS = {"type": "record", "name": "Address", "namespace": "com.edakit.common",
           "fields": [{"name": "city", "type": "string"}]}
CUSTOMER = {"type": "record", "name": "Customer", "namespace": "com.edakit.crm",
            "fields": [{"name": "id", "type": "string"},
                       {"name": "home", "type": "com.edakit.common.Address"},
                       {"name": "work", "type": ["null", "com.edakit.common.Address"], "default": None}]}


def _avro(schema: Any, references: list[SchemaReference] | None = None) -> Schema:
    return Schema(json.dumps(schema), "AVRO", references or [])


def _record(name: str, *fields: str) -> dict[str, Any]:
    return {"type": "record", "name": name, "fields": [{"name": f, "type": "string"} for f in fields]}


def _fails(call: Callable[[], Any], status: int, code: int) -> SchemaRegistryError:
    with pytest.raises(SchemaRegistryError) as caught:
        call()
    assert (caught.value.http_status_code, caught.value.error_code) == (status, code), caught.value.error_message
    return caught.value


@pytest.fixture
def client(empty_registry_url: str) -> Iterator[SchemaRegistryClient]:
    with SchemaRegistryClient({"url": empty_registry_url}) as sr:
        yield sr


@pytest.fixture
def repo_client(registry_url: str) -> Iterator[SchemaRegistryClient]:
    with SchemaRegistryClient({"url": registry_url}) as sr:
        yield sr


def test_register_read_and_lookup_calls(client: SchemaRegistryClient) -> None:
    v1 = _avro(_record("Thing", "a"))
    schema_id = client.register_schema("things-value", v1)
    full = client.register_schema_full_response("other-value", v1)
    assert full.schema_id == schema_id and full.version == 1 and full.guid  # one id across subjects
    assert client.get_schema(schema_id).schema_str == v1.schema_str
    assert client.get_schema_by_guid(full.guid).schema_str == v1.schema_str
    assert client.get_schema_types() == ["AVRO", "JSON"]
    assert client.get_subjects() == ["other-value", "things-value"]
    assert client.get_subjects(subject_prefix="thi") == ["things-value"]
    assert client.get_subjects(offset=1, limit=1) == ["things-value"]
    assert client.get_subjects_by_schema_id(schema_id) == ["other-value", "things-value"]
    assert [(v.subject, v.version) for v in client.get_schema_versions(schema_id)] == \
        [("other-value", 1), ("things-value", 1)]
    v2 = _avro({**_record("Thing", "a"), "fields": [*_record("Thing", "a")["fields"],
                                                    {"name": "b", "type": "string", "default": ""}]})
    client.register_schema("things-value", v2)
    assert client.get_versions("things-value") == [1, 2]
    assert client.get_latest_version("things-value").version == 2
    assert client.get_version("things-value", 1).schema.schema_str == v1.schema_str
    assert client.lookup_schema("things-value", v1).version == 1
    assert client.get_contexts() == ["."]
    _fails(lambda: client.get_schema(999), 404, 40403)
    _fails(lambda: client.get_schema_by_guid("00000000-0000-0000-0000-000000000000"), 404, 40403)
    _fails(lambda: client.get_subjects_by_schema_id(999), 404, 40403)
    _fails(lambda: client.get_versions("nope"), 404, 40401)
    _fails(lambda: client.get_version("things-value", 9), 404, 40402)
    _fails(lambda: client.get_version("things-value", "x"), 422, 42202)
    _fails(lambda: client.lookup_schema("things-value", _avro(_record("Other", "z"))), 404, 40403)
    _fails(lambda: client.register_schema("things-value", Schema('{"type": "nope"}', "AVRO")), 422, 42201)
    _fails(lambda: client.register_schema("things-value", _avro(_record("Thing", "c"))), 409, 409)


def test_soft_and_permanent_deletes(client: SchemaRegistryClient) -> None:
    first = client.register_schema("gone-value", _avro(_record("Gone", "a")))
    client.register_schema("gone-value", _avro({**_record("Gone", "a"), "doc": "second"}))
    _fails(lambda: client.delete_version("gone-value", 1, permanent=True), 404, 40407)  # not soft-deleted first
    assert client.delete_version("gone-value", 1) == 1
    _fails(lambda: client.delete_version("gone-value", 1), 404, 40406)  # soft-deleted already
    assert client.get_versions("gone-value") == [2]
    assert client.get_versions("gone-value", deleted=True) == [1, 2]
    assert client.get_versions("gone-value", deleted_only=True) == [1]
    _fails(lambda: client.get_version("gone-value", 1), 404, 40402)
    assert client.get_version("gone-value", 1, deleted=True).version == 1
    client.clear_caches()
    assert client.get_schema(first).schema_str  # a soft-deleted version's id still decodes old records
    assert client.delete_version("gone-value", 1, permanent=True) == 1
    _fails(lambda: client.delete_version("gone-value", 1, permanent=True), 404, 40402)

    _fails(lambda: client.delete_subject("gone-value", permanent=True), 404, 40405)
    assert client.delete_subject("gone-value") == [2]
    _fails(lambda: client.delete_subject("gone-value"), 404, 40404)
    assert client.get_subjects() == [] and client.get_subjects(deleted=True) == ["gone-value"]
    assert client.get_subjects(deleted_only=True) == ["gone-value"]
    assert client.delete_subject("gone-value", permanent=True) == [2]
    assert client.get_subjects(deleted=True) == []
    client.clear_caches()
    _fails(lambda: client.get_schema(first), 404, 40403)  # no version holds the id any more
    _fails(lambda: client.delete_subject("never-value"), 404, 40401)
    _fails(lambda: client.delete_version("never-value", 1), 404, 40401)


def test_config_and_compatibility_calls(client: SchemaRegistryClient) -> None:
    assert client.get_compatibility() == "BACKWARD"
    client.register_schema("cfg-value", _avro(_record("Cfg", "a")))
    _fails(lambda: client.get_compatibility("cfg-value"), 404, 40408)  # no subject-level setting
    assert client.set_compatibility("cfg-value", "full") == {"compatibility": "FULL"}
    assert client.get_compatibility("cfg-value") == "FULL"
    assert client.get_config("cfg-value").compatibility_level == "FULL"
    none, forward = ServerConfig(compatibility=ConfigCompatibilityLevel.NONE), \
        ServerConfig(compatibility=ConfigCompatibilityLevel.FORWARD)
    assert client.set_config("cfg-value", none) == {"compatibility": "NONE"}
    assert client.delete_config("cfg-value").compatibility_level == "NONE"
    _fails(lambda: client.delete_config("cfg-value"), 404, 40408)
    assert client.set_config(config=forward) == {"compatibility": "FORWARD"}
    assert client.get_config().compatibility_level == "FORWARD"
    assert client.delete_config().compatibility_level == "FORWARD"
    assert client.get_compatibility() == "BACKWARD"
    _fails(lambda: client.set_compatibility(level="SOMETIMES"), 422, 42203)
    _fails(lambda: client.set_config("cfg-value", ServerConfig(compatibility_group="app")), 422, 42203)
    compatible = _avro({**_record("Cfg", "a"), "fields": [*_record("Cfg", "a")["fields"],
                                                          {"name": "b", "type": "string", "default": ""}]})
    assert client.test_compatibility("cfg-value", compatible) is True
    assert client.test_compatibility("cfg-value", _avro(_record("Cfg", "b")), version=1) is False
    assert client.test_compatibility_all_versions("cfg-value", compatible) is True
    _fails(lambda: client.test_compatibility("cfg-value", compatible, version=5), 404, 40402)


def test_mode_calls(client: SchemaRegistryClient) -> None:
    assert client.get_global_mode() == "READWRITE"
    client.register_schema("mode-value", _avro(_record("Mode", "a")))
    _fails(lambda: client.get_mode("mode-value"), 404, 40409)
    assert client.update_mode("mode-value", "READONLY") == "READONLY"
    assert client.get_mode("mode-value") == "READONLY"
    _fails(lambda: client.register_schema("mode-value", _avro({**_record("Mode", "a"), "doc": "x"})), 422, 42205)
    _fails(lambda: client.delete_subject("mode-value"), 422, 42205)
    assert client.delete_mode("mode-value") == "READONLY"
    _fails(lambda: client.delete_mode("mode-value"), 404, 40409)
    _fails(lambda: client.update_mode("mode-value", "SOMETIMES"), 422, 42204)
    _fails(lambda: client.update_global_mode("IMPORT"), 422, 42205)  # subjects exist: only with force
    assert client.update_global_mode("IMPORT", force=True) == "IMPORT"
    assert client.get_global_mode() == "IMPORT"
    assert client.update_global_mode("READWRITE") == "READWRITE"


def test_import_mode_keeps_the_given_id(client: SchemaRegistryClient, empty_registry_url: str) -> None:
    client.update_mode("imported-value", "IMPORT")
    status, body = _raw(empty_registry_url, "POST", "/subjects/imported-value/versions",
                        {"schema": json.dumps(_record("Imp", "a")), "id": 77, "version": 3})
    assert status == 200 and (body["id"], body["version"]) == (77, 3)
    assert client.get_schema(77).schema_str == json.dumps(_record("Imp", "a"))
    assert _raw(empty_registry_url, "GET", "/schemas/ids/77/schema") == (200, _record("Imp", "a"))
    status, body = _raw(empty_registry_url, "POST", "/subjects/imported-value/versions",
                        {"schema": json.dumps(_record("Imp", "b")), "id": 77})
    assert (status, body["error_code"]) == (422, 42207)
    status, body = _raw(empty_registry_url, "POST", "/subjects/plain-value/versions",
                        {"schema": json.dumps(_record("Imp", "a")), "id": 5})
    assert (status, body["error_code"]) == (422, 42205)  # an id is honoured in import mode only


def test_references_and_referenced_by(client: SchemaRegistryClient) -> None:
    address_id = client.register_schema("common.Address", _avro(ADDRESS))
    reference = SchemaReference("com.edakit.common.Address", "common.Address", 1)
    customer_id = client.register_schema("crm.Customer-value", _avro(CUSTOMER, [reference]))
    assert customer_id != address_id
    assert client.get_referenced_by("common.Address", 1) == [customer_id]
    fetched = client.get_schema(customer_id)
    assert [(r.name, r.subject, r.version) for r in fetched.references] == \
        [("com.edakit.common.Address", "common.Address", 1)]
    assert client.lookup_schema("crm.Customer-value", _avro(CUSTOMER, [reference])).schema_id == customer_id
    _fails(lambda: client.delete_version("common.Address", 1), 422, 42206)  # still referenced
    client.clear_caches()  # the client's cache keys schemas without their references
    _fails(lambda: client.register_schema("crm.Other-value", _avro(CUSTOMER)), 422, 42201)  # Address unknown
    missing = SchemaReference("com.edakit.common.Address", "common.Address", 9)
    _fails(lambda: client.register_schema("crm.Other-value", _avro(CUSTOMER, [missing])), 422, 42201)
    _fails(lambda: client.get_referenced_by("common.Address", 4), 404, 40402)
    assert client.delete_subject("crm.Customer-value") == [1]
    assert client.get_referenced_by("common.Address", 1) == []
    assert client.delete_version("common.Address", 1) == 1
    # the soft-deleted Customer still decodes with Address: Address stays until Customer is gone for good
    _fails(lambda: client.delete_version("common.Address", 1, permanent=True), 422, 42206)
    assert client.delete_subject("crm.Customer-value", permanent=True) == [1]
    assert client.delete_version("common.Address", 1, permanent=True) == 1


def test_latest_with_metadata(client: SchemaRegistryClient) -> None:
    tagged = Schema(json.dumps(_record("Meta", "a")), "AVRO", [],
                    metadata=Metadata(None, MetadataProperties({"owner": "orders"}), None))
    client.register_schema("meta-value", tagged)
    client.register_schema("meta-value", _avro({**_record("Meta", "a"), "doc": "untagged"}))
    assert client.get_latest_with_metadata("meta-value", {"owner": "orders"}).version == 1
    assert client.get_latest_with_metadata("meta-value", {}).version == 2
    _fails(lambda: client.get_latest_with_metadata("meta-value", {"owner": "billing"}), 404, 40403)
    _fails(lambda: client.get_latest_with_metadata("nope-value", {}), 404, 40401)


def test_persist_refuses_to_delete_a_committed_schema(repo_client: SchemaRegistryClient, repo_copy: Path) -> None:
    committed = repo_copy / "schemas/order-events/v1/order-placed.avsc"
    error = _fails(lambda: repo_client.delete_version(SUBJECT, 1), 422, 42205)
    assert str(committed) in error.error_message and committed.exists()
    _fails(lambda: repo_client.delete_subject(SUBJECT), 422, 42205)
    assert repo_client.get_versions(SUBJECT) == [1, 2]
    # a version registered while serving is written as v3 and is then committed too
    v3 = json.loads((repo_copy / "schemas/order-events/v2/order-placed.avsc").read_text())
    v3["fields"].append({"name": "coupon", "type": ["null", "string"], "default": None})
    repo_client.register_schema(SUBJECT, _avro(v3))
    _fails(lambda: repo_client.delete_version(SUBJECT, 3), 422, 42205)
    assert (repo_copy / "schemas/order-events/v3/order-placed.avsc").exists()
    # a subject that is not in the repository deletes as usual
    repo_client.register_schema("scratch-value", _avro(_record("Scratch", "a")))
    assert repo_client.delete_subject("scratch-value") == [1]


def test_without_persist_a_delete_leaves_the_files(repo_copy: Path) -> None:
    with running(Registry.from_repository(repo_copy / "schemas")) as url, SchemaRegistryClient({"url": url}) as sr:
        assert sr.delete_subject(SUBJECT) == [1, 2]
        assert sr.delete_subject(SUBJECT, permanent=True) == [1, 2]
    assert (repo_copy / "schemas/order-events/v1/order-placed.avsc").exists()


def _raw(url: str, method: str, path: str, body: Any = None, content_type: str = "application/json"
         ) -> tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url + path, data=data, method=method, headers={"Content-Type": content_type})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        assert exc.headers["Content-Type"] == "application/vnd.schemaregistry.v1+json"
        return exc.code, json.loads(exc.read())


@pytest.mark.parametrize(("method", "path", "status"), [
    ("DELETE", "/subjects/nope", 404), ("DELETE", "/subjects/nope/versions/1", 404), ("PATCH", "/subjects", 501),
    ("DELETE", "/schemas/types", 405), ("GET", "/nowhere", 404), ("GET", "/subjects?offset=x", 400),
    ("GET", "/mode/nope", 404), ("DELETE", "/config/nope", 404), ("GET", "/schemas/ids/1/versions", 404),
])
def test_every_error_is_a_json_body(empty_registry_url: str, method: str, path: str, status: int) -> None:
    code, body = _raw(empty_registry_url, method, path)
    assert code == status and set(body) == {"error_code", "message"} and body["message"]


def test_a_malformed_request_line_gets_json_not_html(empty_registry_url: str) -> None:
    host, port = empty_registry_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(b"GET /subjects HTTP/9.9\r\nHost: 127.0.0.1\r\n\r\n")
        chunks = []
        while chunk := sock.recv(65536):  # the server closes the connection after the error
            chunks.append(chunk)
    answer = b"".join(chunks).decode()
    head, _, body = answer.partition("\r\n\r\n")
    assert "application/vnd.schemaregistry.v1+json" in head and "<html" not in answer.lower()
    assert json.loads(body)["error_code"] == 505
