"""Plan and data-source logic of the schema-serving provider, checked against the committed real schemas."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from edakit.tfharness import datasources, values
from edakit.tfharness.plugin import load_schema

SCHEMAS = {name: load_schema(name) for name in ("aws", "azurerm", "google", "kafka")}
RESOURCES = [(p, r) for p, s in SCHEMAS.items() for r in s["resources"]]


def _value_of(cty_type: Any) -> st.SearchStrategy[Any]:
    if cty_type == "string":
        return st.text(max_size=8)
    if cty_type == "number":
        return st.integers(-1000, 1000)
    if cty_type == "bool":
        return st.booleans()
    if isinstance(cty_type, list) and cty_type[0] in ("list", "set") and cty_type[1] == "string":
        return st.lists(st.text(max_size=5), max_size=3)
    if isinstance(cty_type, list) and cty_type[0] == "map" and cty_type[1] == "string":
        return st.dictionaries(st.text(max_size=5), st.text(max_size=5), max_size=3)
    return st.none()


@st.composite
def config_for(draw: st.DrawFn, block: dict[str, Any], depth: int = 0) -> dict[str, Any]:
    """A decoded proposed state for `block`: each attribute set or null, nested blocks 0-2 items."""
    value: dict[str, Any] = {}
    for name, attribute in block["attributes"].items():
        settable = attribute.get("required") or attribute.get("optional")
        value[name] = draw(st.one_of(st.none(), _value_of(attribute["type"]))) if settable else None
    for name, nested in block["blocks"].items():
        if depth >= 2:
            value[name] = None if nested["nesting"] == "single" else []
        elif nested["nesting"] == "single":
            value[name] = draw(st.one_of(st.none(), config_for(nested["block"], depth + 1)))
        else:
            value[name] = draw(st.lists(config_for(nested["block"], depth + 1), max_size=2))
    return value


@st.composite
def resource_and_config(draw: st.DrawFn) -> tuple[dict[str, Any], dict[str, Any]]:
    provider, resource = draw(st.sampled_from(RESOURCES))
    block = SCHEMAS[provider]["resources"][resource]
    return block, draw(config_for(block))


def _assert_planned(block: dict[str, Any], config: dict[str, Any], planned: dict[str, Any],
                    prior: dict[str, Any] | None) -> None:
    for name, attribute in block["attributes"].items():
        if config[name] is not None:
            assert planned[name] == config[name], name
        elif attribute.get("computed"):
            known = (prior or {}).get(name)
            assert planned[name] == known if known is not None else values.is_unknown(planned[name]), name
        else:
            assert planned[name] is None, name
    for name, nested in block["blocks"].items():
        items = config[name]
        if nested["nesting"] == "single":
            items, planned_items = ([items], [planned[name]]) if items is not None else ([], [])
        else:
            planned_items = planned[name]
        assert len(planned_items) == len(items)
        for item, planned_item in zip(items, planned_items):
            _assert_planned(nested["block"], item, planned_item, None)


@settings(max_examples=60, deadline=None)
@given(resource_and_config())
def test_plan_keeps_config_and_marks_unset_computed_unknown(case: tuple[dict[str, Any], dict[str, Any]]) -> None:
    block, config = case
    planned = values.decode(values.encode(values.plan(block, config, None)))  # survives the wire
    _assert_planned(block, config, planned, None)


@settings(max_examples=30, deadline=None)
@given(resource_and_config(), st.text(min_size=1, max_size=8))
def test_plan_keeps_computed_values_the_prior_state_knows(
    case: tuple[dict[str, Any], dict[str, Any]], known: str
) -> None:
    block, config = case
    prior = {name: known for name, a in block["attributes"].items() if a.get("computed")}
    planned = values.plan(block, config, prior)
    for name in prior:
        assert planned[name] == (config[name] if config[name] is not None else known)


@given(st.integers(0, 4), st.integers(0, 3), st.integers(0, 3))
def test_block_count_problems_exactly_when_out_of_range(count: int, min_items: int, max_items: int) -> None:
    block = {"attributes": {}, "blocks": {"rule": {"nesting": "list", "min_items": min_items, "max_items": max_items,
                                                   "block": {"attributes": {}, "blocks": {}}}}}
    problems = values.block_count_problems(block, {"rule": [{}] * count})
    expected = []
    if max_items and count > max_items:
        expected.append("Too many rule blocks")
    if count < min_items:
        expected.append("Insufficient rule blocks")
    assert [summary for _, summary, _ in problems] == expected
    assert all(path == ("rule",) for path, _, _ in problems)


def test_block_count_problems_skip_unknown_dynamic_blocks() -> None:
    block = SCHEMAS["aws"]["resources"]["aws_s3_bucket_versioning"]
    assert values.block_count_problems(block, {"versioning_configuration": values.UNKNOWN}) == []
    assert [p[1] for p in values.block_count_problems(block, {"versioning_configuration": []})] == [
        "Insufficient versioning_configuration blocks"]


def _type_matches(cty_type: Any, value: Any) -> bool:
    if cty_type == "string":
        return isinstance(value, str)
    if cty_type == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if cty_type == "bool":
        return isinstance(value, bool)
    if cty_type == "dynamic":
        return isinstance(value, list) and len(value) == 2
    kind, inner = cty_type
    if kind == "object":
        return set(value) == set(inner) and all(_type_matches(t, value[k]) for k, t in inner.items())
    return isinstance(value, dict if kind == "map" else list)


def test_every_data_source_returns_known_values_of_the_right_type() -> None:
    for schema in SCHEMAS.values():
        for name, block in schema["data_sources"].items():
            config = {attr: None for attr in block["attributes"]} | {b: [] for b in block["blocks"]}
            state = values.fill_computed(block, config, datasources.read(name, config))
            for attr, spec in block["attributes"].items():
                if spec.get("computed"):
                    assert state[attr] is not None and _type_matches(spec["type"], state[attr]), (name, attr)


def test_data_sources_the_modules_rely_on() -> None:
    assert datasources.read("aws_caller_identity", {})["account_id"] == "123456789012"
    assert datasources.read("aws_region", {})["region"] == "us-east-1"
    assert datasources.read("aws_region", {"region": "eu-west-1"})["name"] == "eu-west-1"
    assert datasources.read("aws_partition", {})["partition"] == "aws"
    assert datasources.read("google_project", {})["number"].isdigit()
    assert datasources.read("azurerm_resource_group", {"name": "rg"})["id"].endswith("/resourceGroups/rg")


_IDENT = st.text("abcdefghijklmnopqrstuvwxyz:*", min_size=1, max_size=10)


@st.composite
def statements(draw: st.DrawFn) -> dict[str, Any]:
    return {
        "sid": draw(st.one_of(st.none(), st.text("ABCxyz", min_size=1, max_size=5))),
        "effect": draw(st.sampled_from([None, "Allow", "Deny"])),
        "actions": draw(st.lists(_IDENT, min_size=1, max_size=3, unique=True)),
        "resources": draw(st.lists(_IDENT, max_size=3, unique=True)),
        "principals": draw(st.lists(st.fixed_dictionaries(
            {"type": st.sampled_from(["AWS", "Service"]), "identifiers": st.lists(_IDENT, min_size=1, max_size=2)}),
            max_size=2)),
        "condition": [],
    }


@given(st.lists(statements(), max_size=4))
def test_iam_policy_document_renders_each_statement(blocks: list[dict[str, Any]]) -> None:
    rendered = datasources.iam_policy_document({"statement": blocks})
    document = json.loads(rendered["json"])
    assert document == json.loads(rendered["minified_json"])
    assert document["Version"] == "2012-10-17" and len(document["Statement"]) == len(blocks)
    for block, statement in zip(blocks, document["Statement"]):
        assert statement["Effect"] == (block["effect"] or "Allow")
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        assert actions == sorted(block["actions"])
        assert len(block["actions"]) > 1 or isinstance(statement["Action"], str)
        assert ("Sid" in statement) == bool(block["sid"])
        assert ("Principal" in statement) == bool(block["principals"])


def test_iam_policy_document_overrides_statements_by_sid() -> None:
    source = json.dumps({"Statement": [{"Sid": "A", "Effect": "Allow", "Action": "s3:GetObject"}]})
    override = json.dumps({"Statement": [{"Sid": "A", "Effect": "Deny", "Action": "s3:*"}]})
    rendered = datasources.iam_policy_document({
        "source_policy_documents": [source], "override_policy_documents": [override],
        "statement": [{"sid": "B", "actions": ["sqs:SendMessage"], "condition": [{"test": "ArnEquals",
                       "variable": "aws:SourceArn", "values": ["arn:aws:sns:x"]}]}],
    })
    statements_out = json.loads(rendered["json"])["Statement"]
    assert statements_out == [
        {"Sid": "A", "Effect": "Deny", "Action": "s3:*"},
        {"Sid": "B", "Effect": "Allow", "Action": "sqs:SendMessage",
         "Condition": {"ArnEquals": {"aws:SourceArn": "arn:aws:sns:x"}}},
    ]


def test_from_json_fills_absent_attributes_and_blocks() -> None:
    block = SCHEMAS["aws"]["resources"]["aws_s3_bucket_versioning"]
    value = values.from_json(block, {"bucket": "b", "versioning_configuration": [{"status": "Enabled"}]})
    assert value["bucket"] == "b" and value["id"] is None
    assert value["versioning_configuration"][0]["status"] == "Enabled"
    assert set(value) == set(block["attributes"]) | set(block["blocks"])
