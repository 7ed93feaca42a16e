"""`edakit registry serve` (Confluent REST API subset), `edakit schema push/diff`, and confluent-kafka's own
SchemaRegistryClient + Avro serde against it over HTTP."""

from __future__ import annotations

import copy
import json
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from click.testing import CliRunner
from confluent_kafka.schema_registry import Schema, SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer
from confluent_kafka.schema_registry.error import SchemaRegistryError
from confluent_kafka.serialization import MessageField, SerializationContext

from edakit.cli.registry import registry as registry_cli
from edakit.cli.schema import schema as schema_cli
from edakit.devservers import free_port, wait_for_port
from edakit.schemas.client import RegistryClient, RegistryHTTPError, diff, push
from edakit.schemas.repo import check_repository

SUBJECT = "orders.order-placed-value"


def _order_placed(root: Path, version: int) -> dict:
    return json.loads((root / f"schemas/order-events/v{version}/order-placed.avsc").read_text())


def _v3(root: Path, quantity_type: str = "int") -> dict:
    schema = _order_placed(root, 2)
    schema["fields"].append({"name": "coupon", "type": ["null", "string"], "default": None})
    schema["fields"][4]["type"]["items"]["fields"][1]["type"] = quantity_type
    return schema


def _error(call) -> RegistryHTTPError:
    with pytest.raises(RegistryHTTPError) as caught:
        call()
    return caught.value


def test_reads(registry_url: str, repo_copy: Path) -> None:
    client = RegistryClient(registry_url)
    assert SUBJECT in client.request("GET", "/subjects")
    assert client.request("GET", f"/subjects/{SUBJECT}/versions") == [1, 2]
    latest = client.request("GET", f"/subjects/{SUBJECT}/versions/latest")
    assert latest["version"] == 2 and json.loads(latest["schema"]) == _order_placed(repo_copy, 2)
    assert json.loads(client.request("GET", f"/schemas/ids/{latest['id']}")["schema"]) == _order_placed(repo_copy, 2)
    assert client.request("GET", f"/subjects/{SUBJECT}/versions/1/schema") == _order_placed(repo_copy, 1)
    assert client.request("GET", "/config") == {"compatibilityLevel": "BACKWARD"}
    assert client.request("GET", "/config/payments-com.edakit.payments.PaymentFailed") == {"compatibilityLevel": "FULL"}
    found = client.request("POST", f"/subjects/{SUBJECT}", {"schema": json.dumps(_order_placed(repo_copy, 1))})
    assert (found["version"], found["subject"]) == (1, SUBJECT)
    assert _error(lambda: client.request("GET", "/subjects/nope/versions")).body["error_code"] == 40401
    assert _error(lambda: client.request("GET", f"/subjects/{SUBJECT}/versions/7")).body["error_code"] == 40402
    assert _error(lambda: client.request("GET", "/schemas/ids/999")).body["error_code"] == 40403
    unknown = _error(lambda: client.request("POST", f"/subjects/{SUBJECT}", {"schema": json.dumps(_v3(repo_copy))}))
    assert unknown.body["error_code"] == 40403


def test_compatibility_endpoint(registry_url: str, repo_copy: Path) -> None:
    client = RegistryClient(registry_url)
    path = f"/compatibility/subjects/{SUBJECT}/versions/latest"
    assert client.request("POST", path, {"schema": json.dumps(_v3(repo_copy))})["is_compatible"] is True
    verdict = client.request("POST", path, {"schema": json.dumps(_v3(repo_copy, "string"))})
    assert verdict["is_compatible"] is False
    assert any("field 'items.quantity'" in m for m in verdict["messages"])


def test_register_persists_compatible_and_rejects_incompatible(registry_url: str, repo_copy: Path) -> None:
    client = RegistryClient(registry_url)
    rejected = _error(lambda: client.request("POST", f"/subjects/{SUBJECT}/versions",
                                             {"schema": json.dumps(_v3(repo_copy, "string"))}))
    assert rejected.status == 409 and "items.quantity" in rejected.body["message"]
    assert not (repo_copy / "schemas/order-events/v3").exists()
    invalid = _error(lambda: client.request("POST", f"/subjects/{SUBJECT}/versions", {"schema": '{"type": "nope"}'}))
    assert invalid.status == 422 and invalid.body["error_code"] == 42201

    registered = client.request("POST", f"/subjects/{SUBJECT}/versions", {"schema": json.dumps(_v3(repo_copy))})
    assert client.request("GET", f"/subjects/{SUBJECT}/versions") == [1, 2, 3]
    again = client.request("POST", f"/subjects/{SUBJECT}/versions", {"schema": json.dumps(_v3(repo_copy))})
    assert again == registered  # the same schema is the same version
    assert _order_placed(repo_copy, 3) == _v3(repo_copy)
    assert check_repository(repo_copy) == []

    client.request("PUT", f"/config/{SUBJECT}", {"compatibility": "NONE"})
    client.request("POST", f"/subjects/{SUBJECT}/versions", {"schema": json.dumps(_v3(repo_copy, "string"))})
    assert client.request("GET", f"/subjects/{SUBJECT}/versions") == [1, 2, 3, 4]
    assert _error(lambda: client.request("PUT", "/config", {"compatibility": "SOMETIMES"})).body["error_code"] == 42203


def test_json_schema_subject(empty_registry_url: str, repo_copy: Path) -> None:
    client = RegistryClient(empty_registry_url)
    v1 = json.loads((repo_copy / "schemas/order-events/v1/order-placed.schema.json").read_text())
    body = {"schema": json.dumps(v1), "schemaType": "JSON"}
    first = client.request("POST", "/subjects/orders-json-value/versions", body)
    assert client.request("GET", f"/schemas/ids/{first['id']}")["schemaType"] == "JSON"
    closed_drop = copy.deepcopy(v1)
    del closed_drop["properties"]["currency"]
    rejected = _error(lambda: client.request("POST", "/subjects/orders-json-value/versions",
                                             {"schema": json.dumps(closed_drop), "schemaType": "JSON"}))
    assert rejected.status == 409 and "#/properties/currency" in rejected.body["message"]


def test_push_then_diff(empty_registry_url: str, repo_copy: Path) -> None:
    schemas = repo_copy / "schemas"
    drifts, _ = diff(schemas, empty_registry_url)
    assert {str(d) for d in drifts} >= {f"{SUBJECT}: only in the repository (not registered)"}
    results, problems = push(schemas, empty_registry_url)
    assert problems == [] and all(r.error is None for r in results)
    assert [r.version for r in results if r.subject == SUBJECT] == [1, 2]
    assert diff(schemas, empty_registry_url) == ([], [])
    assert push(schemas, empty_registry_url)[0] == results  # pushing again changes nothing

    client = RegistryClient(empty_registry_url)
    client.request("POST", f"/subjects/{SUBJECT}/versions", {"schema": json.dumps(_v3(repo_copy))})
    client.request("PUT", "/config/orders.order-shipped-value", {"compatibility": "FULL"})
    client.request("POST", "/subjects/stray-value/versions", {"schema": '"string"'})
    assert sorted(str(d) for d in diff(schemas, empty_registry_url)[0]) == [
        f"{SUBJECT}: registry version 3 is not in the repository",
        "orders.order-shipped-value: compatibility is FULL in the registry, BACKWARD in the repository",
        "stray-value: only in the registry",
    ]
    runner = CliRunner()
    result = runner.invoke(schema_cli, ["diff", "--url", empty_registry_url, "--schemas", str(schemas)])
    assert result.exit_code == 1 and "stray-value: only in the registry" in result.output


def test_push_reports_rejections(registry_url: str, repo_copy: Path) -> None:
    (repo_copy / "schemas/order-events/v3").mkdir()
    (repo_copy / "schemas/order-events/v3/order-placed.avsc").write_text(json.dumps(_v3(repo_copy, "string")))
    result = CliRunner().invoke(schema_cli, ["push", "--url", registry_url, "--schemas", str(repo_copy / "schemas")])
    assert result.exit_code == 1
    assert f"{SUBJECT} v3: REJECTED HTTP 409" in result.output


def test_confluent_kafka_avro_round_trip(registry_url: str, repo_copy: Path) -> None:
    client = SchemaRegistryClient({"url": registry_url})
    assert client.get_latest_version(SUBJECT).version == 2
    payload = json.loads((repo_copy / "examples/payloads/order-events/order-placed/v2-with-shipping-address.json")
                         .read_text())
    context = SerializationContext("orders.order-placed", MessageField.VALUE)
    serializer = AvroSerializer(client, json.dumps(_order_placed(repo_copy, 2)))
    data = serializer(payload, context)
    assert data[0] == 0 and int.from_bytes(data[1:5], "big") == client.get_latest_version(SUBJECT).schema_id
    decoded = AvroDeserializer(client)(data, context)
    assert str(decoded["event_id"]) == payload["event_id"]
    assert int(decoded["event_time"].timestamp() * 1000) == payload["event_time"]
    assert {k: v for k, v in decoded.items() if k not in ("event_id", "event_time")} == \
        {k: v for k, v in payload.items() if k not in ("event_id", "event_time")}

    # a serializer with an incompatible schema is refused by the registry it auto-registers with
    with pytest.raises(SchemaRegistryError) as refused:
        AvroSerializer(client, json.dumps(_v3(repo_copy, "string")))(payload, context)
    assert refused.value.http_status_code == 409
    # and the client's own compatibility call agrees with ours
    assert client.test_compatibility(SUBJECT, Schema(json.dumps(_v3(repo_copy)), "AVRO")) is True


def test_serve_command(repo_root: Path) -> None:
    port = free_port()
    server = subprocess.Popen([str(Path(sys.executable).with_name("edakit")), "registry", "serve", "--port", str(port),
                               "--schemas", str(repo_root / "schemas")],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        wait_for_port(port, server)
        assert SUBJECT in RegistryClient(f"http://127.0.0.1:{port}").request("GET", "/subjects")
        assert SUBJECT in SchemaRegistryClient({"url": f"http://localhost:{port}"}).get_subjects()
        # a DNS-rebinding page's requests carry its own name as Host
        rebinding = urllib.request.Request(f"http://127.0.0.1:{port}/subjects", headers={"Host": "evil.example"})
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(rebinding, timeout=10)
        assert refused.value.code == 421
    finally:
        server.terminate()
        server.wait(timeout=10)
    assert f"schema registry on http://127.0.0.1:{port}" in server.stderr.read().decode()  # loopback by default


def test_serve_command_fails_cleanly_on_a_taken_port(repo_root: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        result = CliRunner().invoke(registry_cli, ["serve", "--port", str(taken.getsockname()[1]),
                                                   "--schemas", str(repo_root / "schemas")])
    assert result.exit_code == 2 and "cannot listen on 127.0.0.1" in result.output
    assert "Traceback" not in result.output and "warning" not in result.output


def test_serve_command_warns_before_listening_off_loopback(repo_root: Path) -> None:
    """The warning comes before the bind (here the bind fails on a taken port, so nothing is exposed)."""
    with socket.socket() as taken:
        taken.bind(("0.0.0.0", 0))  # noqa: S104 - held, never accepting, to make the server's bind fail
        result = CliRunner().invoke(registry_cli, ["serve", "--host", "0.0.0.0", "--port",  # noqa: S104
                                                   str(taken.getsockname()[1]), "--schemas",
                                                   str(repo_root / "schemas")])
    assert result.exit_code == 2
    assert "warning: listening on 0.0.0.0, not loopback" in result.output and "no authentication" in result.output
