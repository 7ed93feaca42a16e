"""Payload validation: errors by JSON path, Draft 2020-12 and Draft 7 with formats, NDJSON batches, and the
compiled fast path agreeing with the explaining validator."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import fastavro
import jsonschema
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from edakit.cli.schema import schema as schema_cli
from edakit.schemas.validate import PayloadValidator, read_json, validate_ndjson

ORDER_V2 = Path("schemas/order-events/v2")
VALID = {"event_id": "0b9f2a52-6c1d-4f0e-8d8a-3c1f5e2b7a10", "event_time": 1767225600000, "order_id": "o-1",
         "customer_id": "c-1", "items": [{"product_id": "p-1", "quantity": 2, "unit_price": 3.5}],
         "total_amount": 7.0}


@pytest.fixture(scope="module")
def validators(repo_root: Path) -> dict[str, PayloadValidator]:
    return {kind: PayloadValidator(kind, read_json(repo_root / ORDER_V2 / f"order-placed{suffix}"))
            for kind, suffix in (("AVRO", ".avsc"), ("JSON", ".schema.json"))}


def test_valid_payload_has_no_errors(validators: dict[str, PayloadValidator]) -> None:
    for validator in validators.values():
        assert validator.errors(VALID) == []


def test_errors_carry_json_paths(validators: dict[str, PayloadValidator]) -> None:
    bad = {**VALID, "items": [{"product_id": "p-1", "quantity": "two", "unit_price": 3.5}]}
    (json_error,) = validators["JSON"].errors(bad)
    assert json_error.startswith("$.items[0].quantity:")
    (avro_error,) = validators["AVRO"].errors(bad)
    assert avro_error.startswith("$.items[0].quantity:") and '"int"' in avro_error


def test_avro_union_and_missing_fields(validators: dict[str, PayloadValidator]) -> None:
    bad = {k: v for k, v in VALID.items() if k != "order_id"} | {"shipping_address": {"line1": "x"}}
    errors = validators["AVRO"].errors(bad)
    assert "$: required field 'order_id' is missing" in errors
    assert any(e.startswith("$.shipping_address:") and "union" in e for e in errors)


def test_formats_are_checked(validators: dict[str, PayloadValidator]) -> None:
    (error,) = validators["JSON"].errors({**VALID, "event_id": "not-a-uuid"})
    assert error == "$.event_id: 'not-a-uuid' is not a 'uuid'"


def test_draft7_and_draft2020_12() -> None:
    draft7 = PayloadValidator("JSON", {"$schema": "http://json-schema.org/draft-07/schema#", "type": "object",
                                       "properties": {"when": {"type": "string", "format": "date-time"},
                                                      "pair": {"type": "array", "items": [{"type": "string"},
                                                                                          {"type": "integer"}]}}})
    assert draft7.errors({"when": "2026-01-01T00:00:00Z", "pair": ["a", 1]}) == []
    assert [e.split(":")[0] for e in draft7.errors({"when": "yesterday", "pair": ["a", "b"]})] == \
        ["$.pair[1]", "$.when"]
    draft2020 = PayloadValidator("JSON", {"$schema": "https://json-schema.org/draft/2020-12/schema",
                                          "prefixItems": [{"type": "string"}], "items": False})
    assert draft2020.errors(["a"]) == []
    assert draft2020.errors(["a", 1])


def test_bad_schema_is_an_input_error() -> None:
    from edakit.schemas import SchemaError

    with pytest.raises(SchemaError, match="not a valid JSON Schema"):
        PayloadValidator("JSON", {"type": "strin"}, "x.schema.json")
    with pytest.raises(SchemaError, match="not a valid Avro schema"):
        PayloadValidator("AVRO", {"type": "record", "name": "R", "fields": [{"name": "a", "type": "nope"}]}, "x.avsc")


def test_ndjson_reports_per_line(repo_root: Path) -> None:
    lines = [json.dumps(VALID).encode(), b"", b"{oops", json.dumps({**VALID, "total_amount": "x"}).encode()]
    reports = list(validate_ndjson(repo_root / ORDER_V2 / "order-placed.schema.json", lines, "stream"))
    assert [(r.line, r.valid) for r in reports] == [(1, True), (3, False), (4, False)]
    assert "not valid JSON" in reports[1].errors[0]
    assert str(reports[2]).startswith("stream:4: $.total_amount:")


# --- the compiled validator and the explaining validator agree ----------------------------------------------
payload_values = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 3) | st.floats(allow_nan=False, allow_infinity=False, width=32)
    | st.sampled_from(["", "x", "0b9f2a52-6c1d-4f0e-8d8a-3c1f5e2b7a10", "web"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(
        ["product_id", "quantity", "unit_price", "line1", "city", "postal_code", "country"]), inner, max_size=4),
    max_leaves=8,
)
order_like = st.fixed_dictionaries({}, optional={k: payload_values for k in [
    "event_id", "event_time", "order_id", "customer_id", "items", "total_amount", "currency", "shipping_address",
    "sales_channel"]})


@settings(max_examples=200, deadline=None)
@given(st.one_of(order_like, order_like.map(lambda p: {**VALID, **p})))
def test_compiled_verdict_matches_jsonschema_and_fastavro(validators: dict[str, PayloadValidator], payload) -> None:
    schema = validators["JSON"].schema
    expected = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
    assert validators["JSON"].is_valid(payload) == expected.is_valid(payload)
    assert (validators["JSON"].errors(payload) == []) == expected.is_valid(payload)
    avro = validators["AVRO"]
    assert avro.is_valid(payload) == fastavro.validate(payload, fastavro.parse_schema(avro.schema), raise_errors=False)
    assert (avro.errors(payload) == []) == avro.is_valid(payload)


# --- command line -------------------------------------------------------------------------------------------
def test_cli_exit_codes(repo_root: Path, tmp_path: Path) -> None:
    schema = str(repo_root / ORDER_V2 / "order-placed.avsc")
    good, bad = tmp_path / "good.json", tmp_path / "bad.json"
    good.write_text(json.dumps(VALID))
    bad.write_text(json.dumps({**VALID, "items": "none"}))
    runner = CliRunner()
    assert runner.invoke(schema_cli, ["validate", "--schema", schema, "--payload", str(good)]).exit_code == 0
    result = runner.invoke(schema_cli, ["validate", "--schema", schema, "--payload", str(good), "--payload", str(bad)])
    assert result.exit_code == 1 and f"{bad}: $.items:" in result.output
    result = runner.invoke(schema_cli, ["validate", "--schema", schema, "--ndjson", "-", "--format", "json"],
                           input=json.dumps(VALID) + "\n[]\n")
    assert result.exit_code == 1
    assert [(r["line"], r["valid"]) for r in json.loads(result.output)] == [(1, True), (2, False)]
    not_json = tmp_path / "broken.json"
    not_json.write_text("{")
    result = runner.invoke(schema_cli, ["validate", "--schema", schema, "--payload", str(not_json)])
    assert result.exit_code == 2 and "broken.json: not valid JSON" in result.output
    assert runner.invoke(schema_cli, ["validate", "--schema", schema]).exit_code == 2


def test_standalone_script(repo_root: Path, tmp_path: Path) -> None:
    payload = tmp_path / "p.json"
    payload.write_text(json.dumps({**VALID, "event_id": "x"}))
    script = repo_root / "tools" / "schema_validator.py"
    schema = repo_root / ORDER_V2 / "order-placed.schema.json"
    done = subprocess.run([sys.executable, str(script), "--schema", str(schema), "--payload", str(payload)],
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 1
    assert "$.event_id: 'x' is not a 'uuid'" in done.stdout
