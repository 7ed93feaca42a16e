"""`validate_document`: in-memory payloads (parsed or JSON bytes) against a schema file or a parsed schema, through
the same cached validator as the file-based `validate_payload`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edakit.schemas import SchemaError, validate_document, validate_payload
from edakit.schemas.validate import _validator_of_document, read_json, validator_for

ORDER_V1 = Path("schemas/order-events/v1")
VALID = {"event_id": "0b9f2a52-6c1d-4f0e-8d8a-3c1f5e2b7a10", "event_time": 1767225600000, "order_id": "o-1",
         "customer_id": "c-1", "items": [{"product_id": "p-1", "quantity": 2, "unit_price": 3.5}],
         "total_amount": 7.0}
SUFFIXES = {"AVRO": ".avsc", "JSON": ".schema.json"}

json_values = st.recursive(st.none() | st.booleans() | st.integers(-2**40, 2**40) | st.text(max_size=5),
                           lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner,
                                                                                     max_size=3), max_leaves=8)
# Valid orders with one field replaced or dropped: a mix of valid and invalid payloads.
payloads = st.one_of(
    st.builds(lambda k, v: {**VALID, k: v}, st.sampled_from(sorted(VALID)), json_values),
    st.builds(lambda k: {f: v for f, v in VALID.items() if f != k}, st.sampled_from(sorted(VALID))),
)


def schema_file(repo_root: Path, schema_type: str) -> Path:
    return repo_root / ORDER_V1 / f"order-placed{SUFFIXES[schema_type]}"


@pytest.mark.parametrize("schema_type", ["AVRO", "JSON"])
@settings(max_examples=60, deadline=None)
@given(payload=payloads)
def test_every_form_gives_the_file_validators_verdict(repo_root: Path, schema_type: str, payload: dict[str, Any]):
    path = schema_file(repo_root, schema_type)
    expected = validator_for(path).errors(payload)
    assert validate_document(path, payload) == expected
    assert validate_document(path, orjson.dumps(payload)) == expected
    # a parsed schema is compiled from a key-sorted copy, which may list errors at one path in another order
    assert sorted(validate_document(read_json(path), payload, schema_type=schema_type)) == sorted(expected)


def test_the_file_and_document_forms_agree_on_a_payload_file(repo_root: Path, tmp_path: Path):
    bad = {**VALID, "items": [{"product_id": "p-1", "quantity": "two", "unit_price": 3.5}]}
    payload_file = tmp_path / "bad.json"
    payload_file.write_bytes(orjson.dumps(bad))
    path = schema_file(repo_root, "JSON")
    errors = validate_document(path, bad)
    assert errors and all(e.startswith("$.items[0].quantity") for e in errors)
    assert validate_payload(path, payload_file).errors == errors
    assert validate_document(path, VALID) == []


def test_equal_parsed_schemas_share_one_compiled_validator(repo_root: Path):
    schema = read_json(schema_file(repo_root, "JSON"))
    reordered = dict(reversed(list(schema.items())))
    _validator_of_document.cache_clear()
    validate_document(schema, VALID, schema_type="JSON")
    validate_document(reordered, {**VALID, "order_id": 5}, schema_type="JSON")
    assert _validator_of_document.cache_info().currsize == 1


def test_bytes_that_are_not_json_are_one_error(repo_root: Path):
    [error] = validate_document(schema_file(repo_root, "AVRO"), b'{"order_id": ')
    assert error.startswith("not valid JSON")


def test_bad_calls_say_what_was_expected(repo_root: Path):
    schema = read_json(schema_file(repo_root, "AVRO"))
    with pytest.raises(SchemaError, match="schema_type is required for a parsed schema: 'AVRO' or 'JSON'"):
        validate_document(schema, VALID)
    with pytest.raises(SchemaError, match="expected 'AVRO' or 'JSON', got 'PROTOBUF'"):
        validate_document(schema, VALID, schema_type="PROTOBUF")
    with pytest.raises(SchemaError, match="schema_type 'JSON' given, but the file is AVRO"):
        validate_document(schema_file(repo_root, "AVRO"), VALID, schema_type="JSON")
    with pytest.raises(SchemaError, match="not a valid Avro schema"):
        validate_document({"type": "record", "name": "R", "fields": "nope"}, VALID, schema_type="AVRO")
    with pytest.raises(SchemaError, match="schema file not found"):
        validate_document(repo_root / "schemas/missing.schema.json", VALID)
