"""JSON Schema compatibility, cases written from Confluent's documented rules (content models, required, types,
bounds, enums, combined schemas, $ref) and properties that must hold for any schema."""

from __future__ import annotations

import copy

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edakit.schemas import LEVELS, check_compatibility
from edakit.schemas.json_compat import LENIENT, STRICT, differences

OPEN = {"type": "object", "properties": {"a": {"type": "string"}}}
CLOSED = {**OPEN, "additionalProperties": False}
PARTIAL = {**OPEN, "additionalProperties": {"type": "string"}}


def _with(schema: dict, **properties) -> dict:
    return {**schema, "properties": {**schema["properties"], **properties}}


# (name, original = old, update = new, BACKWARD-compatible under STRICT, under LENIENT, a difference type expected)
CASES = [
    ("identical", OPEN, OPEN, True, True, None),
    ("property added to open model", OPEN, _with(OPEN, b={"type": "integer"}), False, True,
     "PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL"),
    ("property with empty schema added to open model", OPEN, _with(OPEN, b={}), True, True,
     "PROPERTY_WITH_EMPTY_SCHEMA_ADDED_TO_OPEN_CONTENT_MODEL"),
    ("property removed from open model", _with(OPEN, b={"type": "integer"}), OPEN, True, True,
     "PROPERTY_REMOVED_FROM_OPEN_CONTENT_MODEL"),
    ("optional property added to closed model", CLOSED, _with(CLOSED, b={"type": "integer"}), True, True,
     "OPTIONAL_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL"),
    ("required property added to closed model", CLOSED,
     {**_with(CLOSED, b={"type": "integer"}), "required": ["b"]}, False, False,
     "REQUIRED_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL"),
    ("required property with default added to closed model", CLOSED,
     {**_with(CLOSED, b={"type": "integer", "default": 0}), "required": ["b"]}, True, True,
     "REQUIRED_PROPERTY_WITH_DEFAULT_ADDED_TO_UNOPEN_CONTENT_MODEL"),
    ("property removed from closed model", _with(CLOSED, b={"type": "integer"}), CLOSED, False, False,
     "PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL"),
    ("property with false schema removed from closed model", _with(CLOSED, b=False), CLOSED, True, True,
     "PROPERTY_WITH_FALSE_REMOVED_FROM_CLOSED_CONTENT_MODEL"),
    ("property added, covered by partially open model", PARTIAL, _with(PARTIAL, b={"type": "string"}), True, True,
     "PROPERTY_ADDED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL"),
    # the uncovered property's own differences (here TYPE_CHANGED) are reported too, so LENIENT rejects it as well
    ("property added, not covered by partially open model", PARTIAL, _with(PARTIAL, b={"type": "integer"}), False,
     False, "PROPERTY_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL"),
    ("property removed, covered by patternProperties", _with({**OPEN, "patternProperties": {"^x_": {"type": "string"}},
                                                               "additionalProperties": False}, x_b={"type": "string"}),
     {**OPEN, "patternProperties": {"^x_": {"type": "string"}}, "additionalProperties": False}, True, True,
     "PROPERTY_REMOVED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL"),
    ("property added, covered by unevaluatedProperties", {**OPEN, "unevaluatedProperties": {"type": "integer"}},
     _with({**OPEN, "unevaluatedProperties": {"type": "integer"}}, n={"type": "integer"}), True, True,
     "PROPERTY_ADDED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL"),
    ("unevaluatedProperties false added (closing)", OPEN, {**OPEN, "unevaluatedProperties": False}, False, False,
     "UNEVALUATED_PROPERTIES_REMOVED"),
    ("additionalProperties false added (closing)", OPEN, CLOSED, False, True, "ADDITIONAL_PROPERTIES_REMOVED"),
    ("additionalProperties false removed (opening)", CLOSED, OPEN, True, True, "ADDITIONAL_PROPERTIES_ADDED"),
    ("required removed", {**OPEN, "required": ["a"]}, OPEN, True, True, "REQUIRED_ATTRIBUTE_REMOVED"),
    ("required added", OPEN, {**OPEN, "required": ["a"]}, False, False, "REQUIRED_ATTRIBUTE_ADDED"),
    ("required added with default", OPEN, {"type": "object", "properties": {"a": {"type": "string", "default": "x"}},
                                           "required": ["a"]}, True, True, "REQUIRED_ATTRIBUTE_WITH_DEFAULT_ADDED"),
    ("integer widened to number", {"type": "integer"}, {"type": "number"}, True, True, "TYPE_EXTENDED"),
    ("number narrowed to integer", {"type": "number"}, {"type": "integer"}, False, False, "TYPE_NARROWED"),
    ("string changed to integer", {"type": "string"}, {"type": "integer"}, False, False, "TYPE_CHANGED"),
    ("type becomes a union with null", {"type": "string"}, {"type": ["string", "null"]}, True, True,
     "SUM_TYPE_EXTENDED"),
    ("union with null loses null", {"type": ["string", "null"]}, {"type": "string"}, False, False, "TYPE_CHANGED"),
    ("anything becomes a string", {}, {"type": "string"}, False, False, "TYPE_CHANGED"),
    ("a string becomes anything", {"type": "string"}, {}, True, True, None),
    ("maxLength increased", {"type": "string", "maxLength": 5}, {"type": "string", "maxLength": 9}, True, True,
     "MAX_LENGTH_INCREASED"),
    ("maxLength decreased", {"type": "string", "maxLength": 9}, {"type": "string", "maxLength": 5}, False, False,
     "MAX_LENGTH_DECREASED"),
    ("minLength added", {"type": "string"}, {"type": "string", "minLength": 1}, False, False, "MIN_LENGTH_ADDED"),
    ("pattern removed", {"type": "string", "pattern": "^a"}, {"type": "string"}, True, True, "PATTERN_REMOVED"),
    ("pattern changed", {"type": "string", "pattern": "^a"}, {"type": "string", "pattern": "^b"}, False, False,
     "PATTERN_CHANGED"),
    ("maximum increased", {"type": "number", "maximum": 5}, {"type": "number", "maximum": 10}, True, True,
     "MAXIMUM_INCREASED"),
    ("minimum increased", {"type": "number", "minimum": 0}, {"type": "number", "minimum": 1}, False, False,
     "MINIMUM_INCREASED"),
    ("exclusiveMinimum removed", {"type": "number", "exclusiveMinimum": 0}, {"type": "number"}, True, True,
     "EXCLUSIVE_MINIMUM_REMOVED"),
    ("multipleOf reduced", {"type": "integer", "multipleOf": 4}, {"type": "integer", "multipleOf": 2}, True, True,
     "MULTIPLE_OF_REDUCED"),
    ("multipleOf expanded", {"type": "integer", "multipleOf": 2}, {"type": "integer", "multipleOf": 4}, False, False,
     "MULTIPLE_OF_EXPANDED"),
    ("enum extended", {"enum": ["a", "b"]}, {"enum": ["a", "b", "c"]}, True, True, "ENUM_ARRAY_EXTENDED"),
    ("enum narrowed", {"enum": ["a", "b"]}, {"enum": ["a"]}, False, False, "ENUM_ARRAY_NARROWED"),
    ("const changed", {"const": 1}, {"const": 2}, False, False, "ENUM_ARRAY_CHANGED"),
    ("maxItems removed", {"type": "array", "maxItems": 3}, {"type": "array"}, True, True, "MAX_ITEMS_REMOVED"),
    ("uniqueItems added", {"type": "array"}, {"type": "array", "uniqueItems": True}, False, False,
     "UNIQUE_ITEMS_ADDED"),
    ("items type changed", {"type": "array", "items": {"type": "string"}},
     {"type": "array", "items": {"type": "integer"}}, False, False, "TYPE_CHANGED"),
    ("tuple item added to closed tuple", {"type": "array", "prefixItems": [{"type": "string"}], "items": False},
     {"type": "array", "prefixItems": [{"type": "string"}, {"type": "integer"}], "items": False}, True, True,
     "ITEM_ADDED_TO_CLOSED_CONTENT_MODEL"),
    ("tuple item added to open tuple", {"type": "array", "prefixItems": [{"type": "string"}]},
     {"type": "array", "prefixItems": [{"type": "string"}, {"type": "integer"}]}, False, False,
     "ITEM_ADDED_TO_OPEN_CONTENT_MODEL"),
    ("anyOf branch added", {"anyOf": [{"type": "string"}, {"type": "integer"}]},
     {"anyOf": [{"type": "string"}, {"type": "integer"}, {"type": "boolean"}]}, True, True, "SUM_TYPE_EXTENDED"),
    ("oneOf branch removed", {"oneOf": [{"type": "string"}, {"type": "integer"}]}, {"oneOf": [{"type": "string"}]},
     False, False, "SUM_TYPE_NARROWED"),
    ("allOf part removed", {"allOf": [{"type": "string"}, {"maxLength": 3}]}, {"allOf": [{"type": "string"}]},
     True, True, "PRODUCT_TYPE_NARROWED"),
    ("allOf part added", {"allOf": [{"type": "string"}]}, {"allOf": [{"type": "string"}, {"maxLength": 3}]},
     False, False, "PRODUCT_TYPE_EXTENDED"),
    ("oneOf becomes anyOf", {"oneOf": [{"type": "string"}, {"type": "integer"}]},
     {"anyOf": [{"type": "string"}, {"type": "integer"}]}, True, True, "COMBINED_TYPE_EXTENDED"),
    ("anyOf becomes allOf", {"anyOf": [{"type": "string"}, {"type": "integer"}]},
     {"allOf": [{"type": "string"}, {"type": "integer"}]}, False, False, "COMBINED_TYPE_CHANGED"),
    ("oneOf branches reordered", {"oneOf": [{"type": "string"}, {"type": "integer"}]},
     {"oneOf": [{"type": "integer"}, {"type": "string"}]}, True, True, None),
    ("not narrowed", {"not": {"type": "string"}}, {"not": {"enum": ["x"]}}, False, False, "NOT_TYPE_EXTENDED"),
    ("$ref target widened",
     {"$defs": {"Q": {"type": "integer"}}, "type": "object", "properties": {"q": {"$ref": "#/$defs/Q"}}},
     {"$defs": {"Q": {"type": "number"}}, "type": "object", "properties": {"q": {"$ref": "#/$defs/Q"}}}, True, True,
     "TYPE_EXTENDED"),
    ("$ref target narrowed (definitions, draft 7)",
     {"definitions": {"Q": {"type": "number"}}, "type": "object", "properties": {"q": {"$ref": "#/definitions/Q"}}},
     {"definitions": {"Q": {"type": "integer"}}, "type": "object", "properties": {"q": {"$ref": "#/definitions/Q"}}},
     False, False, "TYPE_NARROWED"),
    ("description and title changed", {"type": "string", "title": "A", "description": "x"},
     {"type": "string", "title": "B", "description": "y"}, True, True, "TITLE_CHANGED"),
]


@pytest.mark.parametrize("case", [pytest.param(c[1:], id=c[0]) for c in CASES])
def test_confluent_rules(case: tuple) -> None:
    original, update, strict, lenient, expected_type = case
    found = differences(original, update)
    assert check_compatibility("JSON", update, [original], "BACKWARD").compatible == strict
    assert check_compatibility("JSON", update, [original], "BACKWARD", policy="LENIENT").compatible == lenient
    if expected_type is None:
        assert all(d.type in STRICT for d in found)
    else:
        assert expected_type in {d.type for d in found}, found


def test_messages_name_the_path_of_the_property() -> None:
    old = {"type": "object", "additionalProperties": False,
           "properties": {"items": {"type": "array", "items": {"type": "object", "properties": {
               "quantity": {"type": "integer"}}}}}}
    new = copy.deepcopy(old)
    new["properties"]["items"]["items"]["properties"]["quantity"]["type"] = "string"
    (message,) = check_compatibility("JSON", new, [old], "BACKWARD").messages
    assert "'#/properties/items/items/properties/quantity'" in message
    assert message.startswith('{errorType:"TYPE_CHANGED", description:"A type at path')


def test_forward_swaps_the_roles() -> None:
    """Adding an optional property to a closed model: BACKWARD ok; FORWARD not (old readers reject it)."""
    new = _with(CLOSED, b={"type": "integer"})
    assert check_compatibility("JSON", new, [CLOSED], "BACKWARD").compatible
    forward = check_compatibility("JSON", new, [CLOSED], "FORWARD")
    assert not forward.compatible
    assert "The old schema has a closed content model" in forward.messages[0]
    assert not check_compatibility("JSON", new, [CLOSED], "FULL").compatible


def test_transitive_levels_check_every_earlier_version() -> None:
    """v2 drops 'a' from an open model, v3 brings it back with another type: fine against v2 (LENIENT), not v1."""
    v1 = {"type": "object", "properties": {"a": {"type": "integer"}}}
    v2 = {"type": "object", "properties": {}}
    v3 = {"type": "object", "properties": {"a": {"type": "string"}}}
    assert check_compatibility("JSON", v3, [v1, v2], "BACKWARD", policy="LENIENT").compatible
    transitive = check_compatibility("JSON", v3, [v1, v2], "BACKWARD_TRANSITIVE", policy="LENIENT")
    assert not transitive.compatible
    assert all("{oldSchemaVersion: 1}" in m and "#/properties/a" in m for m in transitive.messages)
    assert check_compatibility("JSON", v3, [v1, v2], "NONE").compatible


def test_recursive_schema_terminates() -> None:
    tree = {"$defs": {"Node": {"type": "object", "properties": {"value": {"type": "integer"},
                                                                  "children": {"type": "array",
                                                                               "items": {"$ref": "#/$defs/Node"}}}}},
            "$ref": "#/$defs/Node"}
    wider = copy.deepcopy(tree)
    wider["$defs"]["Node"]["properties"]["value"]["type"] = "number"
    assert check_compatibility("JSON", tree, [tree], "FULL_TRANSITIVE").compatible
    assert check_compatibility("JSON", wider, [tree], "BACKWARD").compatible
    assert not check_compatibility("JSON", tree, [wider], "BACKWARD").compatible


def test_bad_ref_is_an_input_error() -> None:
    from edakit.schemas import SchemaError

    with pytest.raises(SchemaError, match="#/\\$defs/Missing"):
        check_compatibility("JSON", {"$ref": "#/$defs/Missing"}, [{"type": "string"}], "BACKWARD")


# --- properties ---------------------------------------------------------------------------------------------
def _scalar() -> st.SearchStrategy[dict]:
    return st.one_of(
        st.builds(lambda mx, mn: {"type": "string", **({"maxLength": mx} if mx else {}),
                                  **({"minLength": mn} if mn else {})}, st.integers(0, 9), st.integers(0, 3)),
        st.builds(lambda t, mx: {"type": t, **({"maximum": mx} if mx is not None else {})},
                  st.sampled_from(["integer", "number"]), st.none() | st.integers(-5, 5)),
        st.builds(lambda vals: {"enum": vals}, st.lists(st.sampled_from(["a", "b", "c", 1, None]), min_size=1,
                                                        max_size=3, unique=True)),
        st.sampled_from([{"type": "boolean"}, {"type": "null"}, {}, {"type": ["string", "null"]}]),
    )


json_schemas = st.recursive(
    _scalar(),
    lambda inner: st.one_of(
        st.builds(lambda props, req, closed: {
            "type": "object", "properties": props, "required": sorted(set(req) & set(props)),
            **({"additionalProperties": False} if closed else {})},
            st.dictionaries(st.sampled_from(["a", "b", "c"]), inner, max_size=3),
            st.lists(st.sampled_from(["a", "b", "c"]), max_size=2), st.booleans()),
        st.builds(lambda items, mx: {"type": "array", "items": items, **({"maxItems": mx} if mx else {})},
                  inner, st.integers(0, 4)),
        st.builds(lambda subs, c: {c: subs}, st.lists(inner, min_size=1, max_size=3),
                  st.sampled_from(["anyOf", "oneOf", "allOf"])),
    ),
    max_leaves=6,
)


@settings(max_examples=150, deadline=None)
@given(json_schemas, st.sampled_from(LEVELS), st.sampled_from(["STRICT", "LENIENT"]))
def test_a_schema_is_compatible_with_itself(schema: dict, level: str, policy: str) -> None:
    assert check_compatibility("JSON", schema, [schema, copy.deepcopy(schema)], level, policy).compatible


@settings(max_examples=100, deadline=None)
@given(json_schemas, st.sampled_from(["x", "y"]), _scalar())
def test_adding_an_optional_property(inner: dict, name: str, added: dict) -> None:
    """Closed model: backward yes, forward no. Open model: backward no (unless the new property's schema is empty),
    forward yes; LENIENT accepts the open-model addition."""
    for closed in (True, False):
        old = {"type": "object", "properties": {"p": inner}, **({"additionalProperties": False} if closed else {})}
        new = {**old, "properties": {"p": inner, name: added}}
        backward = check_compatibility("JSON", new, [old], "BACKWARD").compatible
        forward = check_compatibility("JSON", new, [old], "FORWARD").compatible
        if closed:
            assert (backward, forward) == (True, False)
        else:
            assert (backward, forward) == (added == {}, True)
            assert check_compatibility("JSON", new, [old], "BACKWARD", policy="LENIENT").compatible


@settings(max_examples=100, deadline=None)
@given(json_schemas, json_schemas)
def test_full_is_backward_and_forward(old: dict, new: dict) -> None:
    def ok(level: str) -> bool:
        return check_compatibility("JSON", new, [old], level).compatible

    assert ok("FULL") == (ok("BACKWARD") and ok("FORWARD"))
    assert ok("NONE")


def test_lenient_is_a_superset_of_strict() -> None:
    assert STRICT < LENIENT


def test_recursion_through_a_nullable_type_terminates() -> None:
    """A type list becomes a union on one side only: the walk must still recognise the cycle."""
    old = {"$defs": {"N": {"type": "object", "properties": {"next": {"$ref": "#/$defs/N"}}}}, "$ref": "#/$defs/N"}
    new = {"$defs": {"N": {"type": ["object", "null"], "properties": {"next": {"$ref": "#/$defs/N"}}}},
           "$ref": "#/$defs/N"}
    assert check_compatibility("JSON", new, [old], "BACKWARD").compatible
    assert not check_compatibility("JSON", new, [old], "FORWARD").compatible
