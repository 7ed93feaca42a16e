"""Both schema parsers, through the kit's own entry points, never crash (issue 10, item 6): whatever JSON-shaped
input they get, the only exceptions are the kit's own (`SchemaError`, and `RegistryError` at the registry), and a
schema nested past the bound is a clear error, not a RecursionError.

Entry points: `PayloadValidator` (compile) and its `errors` (explain), `check_compatibility` (both walkers),
`parse_avro`, `parse_schema_text` (schema text as a registry request carries it) and the registry's schema check.
"""

from __future__ import annotations

import json
from typing import Any

import orjson
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edakit.cli.schema import schema as schema_cli
from edakit.schemas import SchemaError, check_compatibility
from edakit.schemas.avro_compat import parse_avro
from edakit.schemas.registry import Registry, RegistryError
from edakit.schemas.validate import SCHEMA_MAX_DEPTH, PayloadValidator, parse_schema_text, validate_document

EXAMPLES = 2000
FAST = settings(max_examples=EXAMPLES, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
LEVELS = st.sampled_from(["BACKWARD", "FORWARD", "FULL", "FULL_TRANSITIVE"])

# a small alphabet: names, refs and JSON punctuation matter here, and it spares hypothesis a costly Unicode setup
ALPHABET = "ab1._-$#/:[]{}\"'é\u0000 "
text = st.text(alphabet=ALPHABET, max_size=6)
names = st.sampled_from(["a", "b", "id", "R", "com.x.R", "x.y", "", "1bad", "$ref", "default"]) | text
scalars = (st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.floats(allow_nan=True, allow_infinity=False)
           | text)
json_values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(names, inner,
                                                                                                   max_size=3),
                           max_leaves=8)

# --- JSON Schema ------------------------------------------------------------------------------------------------
REFS = ["#", "#/$defs/a", "#/$defs/nope", "#/properties/a", "#a", "#/items/0", "a.schema.json",
        "https://schemas.edakit.dev/x/v1/a.schema.json", "http://127.0.0.1:9/x", "file:///etc/passwd",
        "file:///dev/zero", "urn:x", "//host/x", "", "#/$defs/a/$ref", "//[#", "http://[x", "a b"]
META = ["https://json-schema.org/draft/2020-12/schema", "http://json-schema.org/draft-07/schema#",
        "http://json-schema.org/draft-04/schema#", "https://json-schema.org/draft/2019-09/schema",
        "http://127.0.0.1:9/meta", "", "x"]
TYPES = ["string", "number", "integer", "object", "array", "boolean", "null", "nope"]
PATTERNS = ["^a", "a+", "[", "(?<=a)b", "\\p{L}", "(a|", "\\d{2,1}", ".*"]
FORMATS = ["date-time", "uuid", "email", "uri", "regex", "nope", "ipv4"]


def _json_schema(inner: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    keyword = st.one_of(
        st.tuples(st.just("type"), st.sampled_from(TYPES) | st.lists(st.sampled_from(TYPES), max_size=3) | scalars),
        st.tuples(st.sampled_from(["properties", "$defs", "definitions", "patternProperties", "dependentSchemas",
                                   "dependencies"]), st.dictionaries(names, inner, max_size=3) | scalars),
        st.tuples(st.sampled_from(["items", "additionalProperties", "not", "contains", "unevaluatedProperties",
                                   "additionalItems", "if", "then", "else", "propertyNames"]), inner),
        st.tuples(st.sampled_from(["allOf", "anyOf", "oneOf", "prefixItems", "items"]),
                  st.lists(inner, max_size=3) | scalars),
        st.tuples(st.sampled_from(["required", "enum"]), st.lists(names | json_values, max_size=3) | scalars),
        st.tuples(st.sampled_from(["minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf",
                                   "minLength", "maxLength", "minItems", "maxItems", "minProperties"]),
                  st.integers(-3, 5) | st.floats(-1, 10) | scalars),
        st.tuples(st.sampled_from(["$ref", "$dynamicRef", "$recursiveRef"]), st.sampled_from(REFS) | scalars),
        st.tuples(st.just("$schema"), st.sampled_from(META) | scalars),
        st.tuples(st.sampled_from(["$id", "id", "$anchor"]),
                  st.sampled_from(["https://schemas.edakit.dev/x/v1/a.schema.json", "a", "#a", "http://x/", "//["])
                  | scalars),
        st.tuples(st.just("pattern"), st.sampled_from(PATTERNS) | text),
        st.tuples(st.just("format"), st.sampled_from(FORMATS)),
        st.tuples(st.sampled_from(["const", "default", "title", "uniqueItems"]), json_values),
    )
    return st.lists(keyword, max_size=5).map(dict) | st.booleans()


json_schemas = st.recursive(st.booleans() | st.just({}) | st.builds(dict, type=st.sampled_from(TYPES)),
                            _json_schema, max_leaves=8)


def _kit_errors_only(call: Any, *args: Any, **kwargs: Any) -> Any:
    try:
        return call(*args, **kwargs)
    except (SchemaError, RegistryError):
        return None


@FAST
@given(json_schemas, json_schemas, json_values, LEVELS)
def test_json_schema_entry_points_raise_only_kit_errors(schema: Any, other: Any, payload: Any, level: str) -> None:
    validator = _kit_errors_only(PayloadValidator, "JSON", schema, "fuzz.schema.json")
    if validator is not None:
        errors = validator.errors(payload)
        assert isinstance(errors, list) and all(isinstance(e, str) for e in errors)
        assert (errors == []) == validator.is_valid(payload)
    verdict = _kit_errors_only(check_compatibility, "JSON", schema, [other], level)
    assert verdict is None or isinstance(verdict.compatible, bool)


# --- Avro -------------------------------------------------------------------------------------------------------
PRIMITIVES = ["null", "boolean", "int", "long", "float", "double", "bytes", "string"]


def _avro_schema(inner: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    field = st.fixed_dictionaries({"name": names, "type": inner},
                                  optional={"default": json_values, "aliases": st.lists(names, max_size=2) | scalars,
                                            "doc": text, "order": st.sampled_from(["ascending", "x"])})
    named = {"name": names, "namespace": st.sampled_from(["com.x", "", "1x"]) | scalars,
             "aliases": st.lists(names, max_size=2) | scalars}
    return st.one_of(
        st.lists(inner, max_size=3),  # a union
        st.fixed_dictionaries({"type": st.just("record"), "fields": st.lists(field, max_size=3) | scalars},
                              optional={**named, "name": names}),
        st.fixed_dictionaries({"type": st.just("enum"), "symbols": st.lists(names, max_size=3) | scalars},
                              optional={**named, "default": names}),
        st.fixed_dictionaries({"type": st.just("fixed"), "size": st.integers(-1, 20) | scalars}, optional=named),
        st.fixed_dictionaries({"type": st.just("array"), "items": inner}),
        st.fixed_dictionaries({"type": st.just("map"), "values": inner}),
        st.fixed_dictionaries({"type": inner}, optional={"logicalType": st.sampled_from(
            ["decimal", "uuid", "timestamp-millis", "date", "x"]), "precision": st.integers(-1, 40) | scalars,
            "scale": st.integers(-1, 40)}),
        st.dictionaries(names, json_values, max_size=3),  # junk objects
    )


avro_schemas = st.recursive(st.sampled_from(PRIMITIVES + ["R", "com.x.R", "nope"]) | scalars, _avro_schema,
                            max_leaves=8)


@FAST
@pytest.mark.filterwarnings("ignore::avro.errors.IgnoredLogicalType")  # avro's own notice, not a failure
@given(avro_schemas, avro_schemas, json_values, LEVELS)
def test_avro_entry_points_raise_only_kit_errors(schema: Any, other: Any, payload: Any, level: str) -> None:
    validator = _kit_errors_only(PayloadValidator, "AVRO", schema, "fuzz.avsc")
    if validator is not None:
        errors = validator.errors(payload)
        assert isinstance(errors, list) and all(isinstance(e, str) for e in errors)
    _kit_errors_only(parse_avro, schema, "fuzz.avsc")
    verdict = _kit_errors_only(check_compatibility, "AVRO", schema, [other], level)
    assert verdict is None or isinstance(verdict.compatible, bool)


# --- schema text, as a registry request or a file carries it ----------------------------------------------------
@settings(FAST, max_examples=EXAMPLES // 2)
@given(st.one_of(json_schemas.map(json.dumps), avro_schemas.map(json.dumps), st.text(alphabet=ALPHABET, max_size=40),
                 st.binary(max_size=40), st.integers(1, 5000).map(lambda n: "[" * n + "]" * n),
                 st.integers(1, 5000).map(lambda n: '{"a":' * n + "1" + "}" * n)),
       st.sampled_from(["AVRO", "JSON", "PROTOBUF", "json"]))
def test_schema_text_raises_only_kit_errors(text: str | bytes, schema_type: str) -> None:
    _kit_errors_only(parse_schema_text, text, "request")
    registry = Registry()  # the registry checks the schema text before anything else sees it
    if isinstance(text, str):
        _kit_errors_only(registry.register, "fuzz-value", text, schema_type)
        _kit_errors_only(registry.compatibility, "fuzz-value", text, schema_type, None)


# --- nesting bound ----------------------------------------------------------------------------------------------
def _nested_json_schema(levels: int) -> dict:
    schema: dict = {"type": "string"}
    for _ in range(levels):
        schema = {"type": "array", "items": schema}
    return schema


def _nested_avro(levels: int) -> Any:
    schema: Any = "string"
    for index in range(levels):
        schema = {"type": "record", "name": f"R{index}", "fields": [{"name": "f", "type": schema}]}
    return schema


@pytest.mark.parametrize("levels", [SCHEMA_MAX_DEPTH, 5000])
def test_a_deeply_nested_schema_is_a_clear_error(levels: int) -> None:
    for schema_type, schema in (("JSON", _nested_json_schema(levels)), ("AVRO", _nested_avro(levels))):
        with pytest.raises(SchemaError, match=f"nested deeper than {SCHEMA_MAX_DEPTH} levels"):
            PayloadValidator(schema_type, schema, "deep")
        with pytest.raises(SchemaError, match="nested deeper"):
            validate_document(schema, {}, schema_type=schema_type)
        with pytest.raises(SchemaError, match="nested deeper"):
            check_compatibility(schema_type, schema, [schema], "FULL")


def test_a_schema_just_inside_the_bound_works() -> None:
    schema = _nested_json_schema(SCHEMA_MAX_DEPTH - 1)
    assert validate_document(schema, [[[]]], schema_type="JSON") == []
    assert check_compatibility("JSON", schema, [schema], "FULL").compatible


def test_a_deeply_nested_schema_file_is_a_located_error(tmp_path: Any) -> None:
    """orjson stops at 1024 levels, the kit's bound far earlier; either way the error names the file."""
    for levels in (SCHEMA_MAX_DEPTH + 1, 100_000):
        path = tmp_path / f"deep{levels}.schema.json"
        path.write_bytes(b'{"items":' * levels + b"{}" + b"}" * levels)
        with pytest.raises(SchemaError) as caught:
            validate_document(path, {})
        assert caught.value.source == str(path)
        result = CliRunner().invoke(schema_cli, ["compat", str(path), "--previous", str(path)])
        assert result.exit_code == 2 and str(path) in result.output and "Traceback" not in result.output


def test_the_repository_schemas_are_well_inside_the_bound(repo_root: Any) -> None:
    from edakit.schemas.validate import check_depth, read_schema_json

    for path in sorted((repo_root / "schemas").rglob("*.*s*")):
        if path.suffix in (".avsc", ".json"):
            check_depth(read_schema_json(path), SCHEMA_MAX_DEPTH // 4, str(path))


def test_a_big_schema_file_is_refused_unread(tmp_path: Any) -> None:
    path = tmp_path / "big.schema.json"
    path.write_bytes(b'{"description": "' + b"x" * (2 * 1024 * 1024) + b'"}')
    with pytest.raises(SchemaError, match="byte limit"):
        validate_document(path, {})
    with pytest.raises(SchemaError, match="byte limit"):
        parse_schema_text(orjson.dumps({"description": "x" * (2 * 1024 * 1024)}), "request")


def test_payload_files_are_bounded_too(tmp_path: Any, repo_root: Any) -> None:
    schema = repo_root / "schemas/order-events/v1/order-placed.schema.json"
    deep, big = tmp_path / "deep.json", tmp_path / "big.json"
    deep.write_bytes(b'{"a":' * 300 + b"1" + b"}" * 300)
    big.write_bytes(b'{"a": "' + b"x" * (10 * 1024 * 1024) + b'"}')
    for payload, message in ((deep, "nested deeper than 256 levels"), (big, "byte limit")):
        result = CliRunner().invoke(schema_cli, ["validate", "--schema", str(schema), "--payload", str(payload)])
        assert result.exit_code == 2 and f"{payload}: " in result.output and message in result.output


def test_an_ndjson_stream_is_read_a_bounded_line_at_a_time(repo_root: Any, tmp_path: Any) -> None:
    schema = repo_root / "schemas/order-events/v1/order-placed.schema.json"
    result = CliRunner().invoke(schema_cli, ["validate", "--schema", str(schema), "--ndjson", "/dev/zero"])
    assert result.exit_code == 1 and "/dev/zero:1: line longer than the 10485760-byte limit" in result.output
    stream = tmp_path / "deep.ndjson"
    stream.write_bytes(b"[" * 300 + b"]" * 300 + b"\n" + b"[" * 2000 + b"]" * 2000 + b"\n")
    result = CliRunner().invoke(schema_cli, ["validate", "--schema", str(schema), "--ndjson", str(stream)])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert f"{stream}:1: nested deeper than 256 levels" in result.output
    assert f"{stream}:2: not valid JSON" in result.output
