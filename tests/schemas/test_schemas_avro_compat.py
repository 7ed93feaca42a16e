"""Avro compatibility: Apache Avro's own cases in full, a differential test against `avro.compatibility`, and the
messages and fixes our checker adds."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from avro.compatibility import ReaderWriterCompatibilityChecker, SchemaCompatibilityType
from avro.schema import parse
from hypothesis import given, settings
from hypothesis import strategies as st

from edakit.schemas import LEVELS, check_compatibility
from edakit.schemas.avro_compat import incompatibilities, parse_avro

# Cases of the conformance file we decide differently, with the reason. Aim: none.
DECIDED_DIFFERENTLY: dict[str, str] = {}


def _conformance(conformance_dir: Path) -> dict:
    return json.loads((conformance_dir / "avro_compat_apache_py.json").read_text())


def test_every_reader_writer_pair_of_apache_avro(conformance_dir: Path) -> None:
    cases = _conformance(conformance_dir)["cases"]
    assert len(cases) == 131
    wrong = [c["id"] for c in cases if c["id"] not in DECIDED_DIFFERENTLY and
             (not incompatibilities(parse_avro(c["reader_schema"]), parse_avro(c["writer_schema"])))
             != c["expected_compatible"]]
    assert wrong == []


def test_every_confluent_level_case(conformance_dir: Path) -> None:
    cases = _conformance(conformance_dir)["level_cases"]
    assert len(cases) == 361
    wrong = [c["id"] for c in cases if c["id"] not in DECIDED_DIFFERENTLY and
             check_compatibility("AVRO", c["schema_new"], [c["schema_old"]], c["level"]).compatible
             != c["expected_compatible"]]
    assert wrong == []


def test_incompatible_level_cases_explain_themselves(conformance_dir: Path) -> None:
    for case in _conformance(conformance_dir)["level_cases"]:
        result = check_compatibility("AVRO", case["schema_new"], [case["schema_old"]], case["level"])
        assert result.compatible == (not result.messages), case["id"]
        assert all("errorType:" in m and "oldSchemaVersion: 1" in m for m in result.messages), case["id"]


# --- differential: same verdict as Apache's checker on generated schemas -------------------------------------
PRIMITIVES = ["null", "boolean", "int", "long", "float", "double", "bytes", "string"]


def _avro_types() -> st.SearchStrategy:
    leaf = st.one_of(
        st.sampled_from(PRIMITIVES),
        st.builds(lambda syms, default: {"type": "enum", "name": "E", "symbols": syms,
                                         **({"default": syms[0]} if default else {})},
                  st.lists(st.sampled_from(["A", "B", "C", "D"]), min_size=1, max_size=4, unique=True), st.booleans()),
        st.builds(lambda size: {"type": "fixed", "name": "F", "size": size}, st.integers(1, 3)),
    )

    def extend(inner: st.SearchStrategy) -> st.SearchStrategy:
        return st.one_of(
            st.builds(lambda t: {"type": "array", "items": t}, inner),
            st.builds(lambda t: {"type": "map", "values": t}, inner),
            st.lists(st.sampled_from(["null", "int", "long", "string", "double"]), min_size=1, max_size=3,
                     unique=True),
        )

    return st.recursive(leaf, extend, max_leaves=3)


@st.composite
def avro_records(draw: st.DrawFn) -> dict:
    names = draw(st.lists(st.sampled_from(["a", "b", "c", "d", "e"]), min_size=1, max_size=4, unique=True))
    fields = []
    for name in names:
        field: dict = {"name": name, "type": draw(_avro_types())}
        if draw(st.booleans()) and field["type"] == "int":
            field["default"] = 0
        elif draw(st.booleans()) and isinstance(field["type"], list) and field["type"][0] == "null":
            field["default"] = None
        fields.append(field)
    return {"type": "record", "name": draw(st.sampled_from(["R", "S"])), "fields": fields}


def _apache_verdict(reader: dict, writer: dict) -> bool:
    result = ReaderWriterCompatibilityChecker().get_compatibility(parse(json.dumps(reader)), parse(json.dumps(writer)))
    return result.compatibility is SchemaCompatibilityType.compatible


def _has_unique_named_types(schema: dict) -> bool:
    text = json.dumps(schema)
    return text.count('"name": "E"') <= 1 and text.count('"name": "F"') <= 1


NEAR = {"int": ["long", "float", "string"], "long": ["int", "double"], "float": ["double", "int"],
        "double": ["float", "long"], "string": ["bytes", "int"], "bytes": ["string"], "null": ["boolean"],
        "boolean": ["null"]}


@st.composite
def evolved(draw: st.DrawFn, schema: dict) -> dict:
    """A plausible next version: fields dropped, primitive types promoted or changed, defaults added or lost."""
    fields = []
    for original in schema["fields"]:
        if draw(st.integers(0, 4)) == 0:
            continue
        field = dict(original)
        if isinstance(field["type"], str) and draw(st.booleans()):
            field["type"] = draw(st.sampled_from(NEAR[field["type"]]))
            field.pop("default", None)
        fields.append(field)
    return {**schema, "fields": fields or schema["fields"]}


reader_writer_pairs = st.one_of(
    st.tuples(avro_records(), avro_records()),
    avro_records().flatmap(lambda r: st.tuples(st.just(r), evolved(r))),
    avro_records().flatmap(lambda w: st.tuples(evolved(w), st.just(w))),
)


@settings(max_examples=80, deadline=None)
@given(reader_writer_pairs)
def test_same_verdict_as_apache_avro(pair: tuple[dict, dict]) -> None:
    reader, writer = pair
    if not (_has_unique_named_types(reader) and _has_unique_named_types(writer)):
        return  # Avro forbids redefining a name; such schemas do not parse
    ours = not incompatibilities(parse_avro(reader), parse_avro(writer))
    assert ours == _apache_verdict(reader, writer)


@settings(max_examples=30, deadline=None)
@given(avro_records(), st.sampled_from(LEVELS))
def test_a_schema_is_compatible_with_itself_at_every_level(schema: dict, level: str) -> None:
    if _has_unique_named_types(schema):
        assert check_compatibility("AVRO", schema, [schema, schema], level).compatible


# --- what we add -------------------------------------------------------------------------------------------
def _record(fields: list, name: str = "Order", **extra) -> dict:
    return {"type": "record", "name": name, "namespace": "shop", "fields": fields, **extra}


def test_unqualified_alias_is_relative_to_the_namespace() -> None:
    """Java qualifies 'Old' to 'shop.Old'; the Python port compares it raw and would reject this rename."""
    old = _record([{"name": "id", "type": "string"}], name="Old")
    new = _record([{"name": "id", "type": "string"}], name="New", aliases=["Old"])
    assert check_compatibility("AVRO", new, [old], "BACKWARD").compatible
    assert not check_compatibility("AVRO", new, [old], "FORWARD").compatible


def test_messages_name_the_nested_field_inside_a_union() -> None:
    address_v1 = {"type": "record", "name": "Address", "fields": [{"name": "zip", "type": "int"}]}
    address_v2 = {"type": "record", "name": "Address", "fields": [{"name": "zip", "type": "string"}]}
    old = _record([{"name": "ship_to", "type": ["null", address_v1], "default": None}])
    new = _record([{"name": "ship_to", "type": ["null", address_v2], "default": None}])
    result = check_compatibility("AVRO", new, [old], "BACKWARD")
    assert not result.compatible
    assert any("field 'ship_to.zip'" in m and "/fields/0/type" in m for m in result.messages), result.messages


def test_missing_default_names_the_field_like_confluent() -> None:
    old = _record([{"name": "id", "type": "string"}])
    new = _record([{"name": "id", "type": "string"}, {"name": "channel", "type": "string"}])
    (message,) = check_compatibility("AVRO", new, [old], "BACKWARD").messages
    assert message.startswith("{errorType:'READER_FIELD_MISSING_DEFAULT_VALUE', description:'The field 'channel' at "
                              "path '/fields/1'")
    assert "in the new schema has no default value and is missing in the old schema" in message


def test_recursive_schema_terminates_and_detects_changes() -> None:
    def node(value_type: str) -> dict:
        return {"type": "record", "name": "Node", "fields": [
            {"name": "value", "type": value_type},
            {"name": "next", "type": ["null", "Node"], "default": None}]}

    assert check_compatibility("AVRO", node("long"), [node("int")], "BACKWARD").compatible
    assert not check_compatibility("AVRO", node("int"), [node("long")], "BACKWARD").compatible


# The versioning guide (schemas/README.md) promises these verdicts: BACKWARD, FORWARD, FULL.
ENUM = {"type": "enum", "name": "Channel", "symbols": ["WEB", "STORE"]}
GUIDE = [
    ("add a field with a default", [{"name": "a", "type": "int"}],
     [{"name": "a", "type": "int"}, {"name": "b", "type": "string", "default": "x"}], (True, True, True)),
    ("add a field without a default", [{"name": "a", "type": "int"}],
     [{"name": "a", "type": "int"}, {"name": "b", "type": "string"}], (False, True, False)),
    ("remove a field that had a default", [{"name": "a", "type": "int"}, {"name": "b", "type": "int", "default": 1}],
     [{"name": "a", "type": "int"}], (True, True, True)),
    ("remove a field without a default", [{"name": "a", "type": "int"}, {"name": "b", "type": "int"}],
     [{"name": "a", "type": "int"}], (True, False, False)),
    ("widen int to long", [{"name": "a", "type": "int"}], [{"name": "a", "type": "long"}], (True, False, False)),
    ("add an enum symbol", [{"name": "c", "type": ENUM}],
     [{"name": "c", "type": {**ENUM, "symbols": ["WEB", "STORE", "APP"]}}], (True, False, False)),
    ("add an enum symbol, old enum has a default", [{"name": "c", "type": {**ENUM, "default": "WEB"}}],
     [{"name": "c", "type": {**ENUM, "symbols": ["WEB", "STORE", "APP"], "default": "WEB"}}], (True, True, True)),
    ("add a union branch", [{"name": "a", "type": ["null", "int"]}], [{"name": "a", "type": ["null", "int", "string"]}],
     (True, False, False)),
    ("rename a field with an alias", [{"name": "a", "type": "int"}], [{"name": "b", "type": "int", "aliases": ["a"]}],
     (True, False, False)),
    ("change a fixed size", [{"name": "f", "type": {"type": "fixed", "name": "H", "size": 16}}],
     [{"name": "f", "type": {"type": "fixed", "name": "H", "size": 32}}], (False, False, False)),
]


@pytest.mark.parametrize(("old_fields", "new_fields", "expected"),
                         [pytest.param(*g[1:], id=g[0]) for g in GUIDE])
def test_versioning_guide_table(old_fields: list, new_fields: list, expected: tuple) -> None:
    old, new = _record(old_fields), _record(new_fields)
    got = tuple(check_compatibility("AVRO", new, [old], level).compatible for level in ("BACKWARD", "FORWARD", "FULL"))
    assert got == expected


def test_transitive_levels_check_every_earlier_version() -> None:
    """v2 drops 'a', v3 re-adds it as a string with a default: v3 reads v2 data but not v1's integers."""
    v1 = _record([{"name": "id", "type": "string"}, {"name": "a", "type": "int"}])
    v2 = _record([{"name": "id", "type": "string"}])
    v3 = _record([{"name": "id", "type": "string"}, {"name": "a", "type": "string", "default": ""}])
    assert check_compatibility("AVRO", v3, [v1, v2], "BACKWARD").compatible
    transitive = check_compatibility("AVRO", v3, [v1, v2], "BACKWARD_TRANSITIVE")
    assert [m.split("{oldSchemaVersion: ")[1][0] for m in transitive.messages] == ["1"]
    assert "field 'a'" in transitive.messages[0]
    assert not check_compatibility("AVRO", v3, [v1, v2], "FULL_TRANSITIVE").compatible
    assert check_compatibility("AVRO", v3, [v1, v2], "FULL").compatible
