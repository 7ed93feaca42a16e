"""JSON Schema `$ref`s never reach the network or the file system (issue 10, item 1): `edakit schema validate`,
`validate_document` and the registry server refuse any ref that leaves the document and the repository's own
`schemas/` tree, naming the ref and the file; both validator back ends are built so that nothing can be retrieved;
a relative ref to a sibling kit schema resolves from the `$id` index."""

from __future__ import annotations

import json
import os
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import jsonschema
import jsonschema_rs
import pytest
import referencing.exceptions
from click.testing import CliRunner

from edakit.cli.schema import schema as schema_cli
from edakit.schemas import SchemaError, check_compatibility, validate_document
from edakit.schemas import refs
from edakit.schemas.registry import Registry
from edakit.schemas.serve import running
from edakit.schemas.validate import validator_for

KIT = "https://schemas.edakit.dev/order-events/v1"


class _Recorder(BaseHTTPRequestHandler):
    """An HTTP server that would happily serve a schema: every request it gets is recorded."""

    requests: list[str]

    def do_GET(self) -> None:  # noqa: N802 - stdlib naming
        self.requests.append(self.path)
        body = b'{"type": "integer"}'
        self.send_response(200)
        self.send_header("Content-Type", "application/schema+json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib signature
        pass


@pytest.fixture
def schema_host() -> Iterator[tuple[str, list[str]]]:
    """A real HTTP server on 127.0.0.1: (base URL, the paths it was asked for)."""
    seen: list[str] = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), type("Recorder", (_Recorder,), {"requests": seen}))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def _schema(ref: str) -> dict:
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": f"{KIT}/hostile.schema.json",
            "type": "object", "properties": {"p": {"$ref": ref}}}


def _hostile_refs(base_url: str) -> list[str]:
    return [f"{base_url}/x", "file:///etc/passwd", "file:///dev/zero", f"{KIT}/not-in-the-repository.schema.json"]


@pytest.mark.filterwarnings("ignore:Automatically retrieving remote references:DeprecationWarning")
def test_the_test_server_is_fetched_by_unconfigured_back_ends(schema_host: tuple[str, list[str]]) -> None:
    """Control: left to their defaults both libraries do fetch the ref, so the 'no request' assertions below mean
    something."""
    url, seen = schema_host
    assert jsonschema_rs.validator_for({"$ref": f"{url}/rs"}).is_valid("a") is False
    assert list(jsonschema.Draft202012Validator({"$ref": f"{url}/py"}).iter_errors("a"))
    assert seen == ["/rs", "/py"]


def test_cli_validate_refuses_every_ref_leaving_the_document(repo_copy: Path, tmp_path: Path,
                                                             schema_host: tuple[str, list[str]]) -> None:
    url, seen = schema_host
    payload = tmp_path / "payload.json"
    payload.write_text('{"p": 1}')
    for index, ref in enumerate(_hostile_refs(url)):
        # inside the repository's schemas/ tree and outside it: the same refusal
        for where in (repo_copy / "schemas" / "order-events" / "v1", tmp_path):
            path = where / f"hostile{index}.schema.json"
            path.write_text(json.dumps(_schema(ref)))
            result = CliRunner().invoke(schema_cli, ["validate", "--schema", str(path), "--payload", str(payload)])
            assert result.exit_code == 2, result.output
            assert str(path) in result.output and f"$.properties.p.$ref '{ref}'" in result.output
            assert "Traceback" not in result.output
    assert seen == []


def test_validate_document_refuses_file_and_parsed_schema(tmp_path: Path, schema_host: tuple[str, list[str]]) -> None:
    url, seen = schema_host
    for ref in _hostile_refs(url):
        path = tmp_path / "hostile.schema.json"
        path.write_text(json.dumps(_schema(ref)))
        os.utime(path, ns=(1, hash(ref) & 0xFFFFFFFF))  # a new mtime: the cached validator is not reused
        with pytest.raises(SchemaError) as from_file:
            validate_document(path, {"p": 1})
        assert from_file.value.source == str(path) and f"'{ref}'" in from_file.value.message
        with pytest.raises(SchemaError, match="nothing is fetched"):
            validate_document(_schema(ref), {"p": 1}, schema_type="JSON")
    assert seen == []


def test_unknown_meta_schema_is_refused_before_compiling(tmp_path: Path, schema_host: tuple[str, list[str]]) -> None:
    """jsonschema-rs would retrieve an unknown `$schema` to learn its vocabulary."""
    url, seen = schema_host
    with pytest.raises(SchemaError, match=r"\$schema .*no other meta-schema is ever retrieved"):
        validate_document({"$schema": f"{url}/meta", "type": "object"}, {}, schema_type="JSON")
    assert seen == []
    assert validate_document({"$schema": "http://json-schema.org/draft-07/schema#", "type": "object"}, {},
                             schema_type="JSON") == []


def test_refs_under_data_keywords_are_values_and_property_names_are_names(schema_host: tuple[str, list[str]]) -> None:
    url, seen = schema_host
    schema = {"type": "object", "properties": {"$ref": {"type": "string"}, "default": {"$ref": "#/$defs/n"}},
              "$defs": {"n": {"type": "integer"}}, "examples": [{"$ref": f"{url}/data"}], "enum": [{"$ref": url}]}
    assert validate_document(schema, {"$ref": url}, schema_type="JSON") == []
    assert validate_document(schema, {"$ref": 1}, schema_type="JSON") != []
    bad = {"type": "object", "properties": {"default": {"$ref": f"{url}/under-a-property-called-default"}}}
    with pytest.raises(SchemaError, match=r"\$\.properties\.default\.\$ref"):
        validate_document(bad, {}, schema_type="JSON")
    assert seen == []


def test_both_back_ends_refuse_retrieval_even_unchecked(schema_host: tuple[str, list[str]]) -> None:
    """Defence in depth: were a ref to slip past the check, the back ends have nothing to fetch it with."""
    url, seen = schema_host
    for ref in (f"{url}/rs", "file:///etc/passwd", "file:///dev/zero"):
        with pytest.raises(ValueError, match="refused"):
            refs.compiled({"$ref": ref}, refs.Resolution())
    explainer = refs.explainer(jsonschema.Draft202012Validator, {"$ref": f"{url}/py"}, refs.Resolution())
    with pytest.raises(referencing.exceptions.Unresolvable):
        list(explainer.iter_errors("a"))
    assert seen == []


def _plant_address(repo_copy: Path) -> Path:
    """A sibling kit schema and one that refers to it relatively."""
    v1 = repo_copy / "schemas" / "order-events" / "v1"
    (v1 / "address.schema.json").write_text(json.dumps({
        "$schema": "https://json-schema.org/draft/2020-12/schema", "$id": f"{KIT}/address.schema.json",
        "type": "object", "required": ["city"], "properties": {"city": {"type": "string"}},
        "additionalProperties": False}))
    shipping = v1 / "shipping.schema.json"
    shipping.write_text(json.dumps({
        "$schema": "https://json-schema.org/draft/2020-12/schema", "$id": f"{KIT}/shipping.schema.json",
        "type": "object", "required": ["to"], "properties": {"to": {"$ref": "address.schema.json"}}}))
    return shipping


def test_relative_ref_to_a_sibling_kit_schema_resolves_from_the_index(repo_copy: Path, tmp_path: Path) -> None:
    shipping = _plant_address(repo_copy)
    assert validate_document(shipping, {"to": {"city": "Oslo"}}) == []
    assert validate_document(shipping, {"to": {"city": 7}}) == ["$.to.city: 7 is not of type 'string'"]
    good, bad = tmp_path / "good.json", tmp_path / "bad.json"
    good.write_text('{"to": {"city": "Oslo"}}')
    bad.write_text('{"to": {}}')
    result = CliRunner().invoke(schema_cli, ["validate", "--schema", str(shipping), "--payload", str(good),
                                             "--payload", str(bad)])
    assert result.exit_code == 1
    assert f"{good}: valid" in result.output and f"{bad}: $.to: 'city' is a required property" in result.output
    # a parsed schema reaches the tree only when told where it is
    parsed = json.loads(shipping.read_text())
    assert validate_document(parsed, {"to": {}}, schema_type="JSON", schemas_root=repo_copy / "schemas") == \
        ["$.to: 'city' is a required property"]
    with pytest.raises(SchemaError, match="address.schema.json"):
        validate_document(parsed, {"to": {}}, schema_type="JSON")
    # compatibility compares within one document: a ref out of it is named, never followed
    with pytest.raises(SchemaError, match="only references inside the document"):
        check_compatibility("JSON", parsed, [parsed], "BACKWARD")


def test_a_changed_sibling_recompiles_the_cached_validator(repo_copy: Path) -> None:
    shipping = _plant_address(repo_copy)
    assert validate_document(shipping, {"to": {"city": "Oslo", "zip": "0150"}}) == \
        ["$.to: Additional properties are not allowed ('zip' was unexpected)"]
    address = repo_copy / "schemas" / "order-events" / "v1" / "address.schema.json"
    opened = json.loads(address.read_text())
    del opened["additionalProperties"]
    address.write_text(json.dumps(opened))
    os.utime(address, ns=(1, address.stat().st_mtime_ns + 1_000_000_000))
    assert validate_document(shipping, {"to": {"city": "Oslo", "zip": "0150"}}) == []


def test_a_sibling_that_refs_outside_is_refused_naming_the_sibling(repo_copy: Path,
                                                                    schema_host: tuple[str, list[str]]) -> None:
    url, seen = schema_host
    shipping = _plant_address(repo_copy)
    address = repo_copy / "schemas" / "order-events" / "v1" / "address.schema.json"
    leaky = json.loads(address.read_text())
    leaky["properties"]["city"] = {"$ref": f"{url}/city"}
    address.write_text(json.dumps(leaky))
    with pytest.raises(SchemaError) as caught:
        validator_for(shipping)
    assert caught.value.source == str(address) and f"{url}/city" in caught.value.message
    assert seen == []


def test_a_symlink_out_of_the_tree_is_not_a_kit_schema(repo_copy: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside.schema.json"
    outside.write_text(json.dumps({"$id": f"{KIT}/outside.schema.json", "type": "integer"}))
    (repo_copy / "schemas" / "order-events" / "v1" / "outside.schema.json").symlink_to(outside)
    (repo_copy / "schemas" / "order-events" / "v1" / "zero.schema.json").symlink_to("/dev/zero")
    path = repo_copy / "schemas" / "order-events" / "v1" / "uses-outside.schema.json"
    path.write_text(json.dumps(_schema("outside.schema.json")))
    with pytest.raises(SchemaError, match=f"{KIT}/outside.schema.json is outside the document"):
        validator_for(path)


def test_an_id_claimed_by_two_files_is_refused_naming_both(repo_copy: Path) -> None:
    shipping = _plant_address(repo_copy)
    v1 = repo_copy / "schemas" / "order-events" / "v1"
    (v1 / "address-copy.schema.json").write_text((v1 / "address.schema.json").read_text())
    with pytest.raises(SchemaError, match="is the \\$id of several files") as caught:
        validator_for(shipping)
    assert str(v1 / "address-copy.schema.json") in caught.value.message
    assert str(v1 / "address.schema.json") in caught.value.message


def _post(url: str, body: dict) -> tuple[int, dict]:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/vnd.schemaregistry.v1+json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_registry_answers_42201_for_a_hostile_ref(repo_copy: Path, schema_host: tuple[str, list[str]]) -> None:
    url, seen = schema_host
    with running(Registry.from_repository(repo_copy / "schemas")) as registry_url:
        for ref in _hostile_refs(url):
            for path in ("/subjects/hostile-value/versions", "/subjects/hostile-value",
                         "/compatibility/subjects/hostile-value/versions/latest"):
                status, body = _post(f"{registry_url}{path}", {"schema": json.dumps(_schema(ref)),
                                                               "schemaType": "JSON"})
                assert (status, body["error_code"]) == (422, 42201), (path, body)
                assert ref in body["message"]
        status, body = _post(f"{registry_url}/subjects/hostile-value/versions",
                             {"schema": json.dumps({"$schema": f"{url}/meta"}), "schemaType": "JSON"})
        assert (status, body["error_code"]) == (422, 42201)
    assert seen == []


def test_registry_resolves_a_sibling_from_the_index_built_at_load(repo_copy: Path) -> None:
    shipping = _plant_address(repo_copy)
    with running(Registry.from_repository(repo_copy / "schemas")) as registry_url:
        status, body = _post(f"{registry_url}/subjects/shipping-value/versions",
                             {"schema": shipping.read_text(), "schemaType": "JSON"})
        assert status == 200 and isinstance(body["id"], int)
    with running(Registry()) as registry_url:  # no repository: nothing outside the document resolves
        status, body = _post(f"{registry_url}/subjects/shipping-value/versions",
                             {"schema": shipping.read_text(), "schemaType": "JSON"})
        assert (status, body["error_code"]) == (422, 42201) and "address.schema.json" in body["message"]
