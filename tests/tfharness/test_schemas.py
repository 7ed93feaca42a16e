"""The committed provider schemas: what the catalog asks for, well-formed, and the extractor's naming rules."""

from __future__ import annotations

from typing import Any

import pytest

from edakit.tfharness.catalog import PROVIDERS
from edakit.tfharness.extract import _storage_type, _tf_name
from edakit.tfharness.plugin import block_proto, load_schema


def _valid_type(cty_type: Any) -> bool:
    if cty_type in ("string", "number", "bool", "dynamic"):
        return True
    if not isinstance(cty_type, list):
        return False
    if cty_type[0] in ("list", "set", "map"):
        return len(cty_type) == 2 and _valid_type(cty_type[1])
    return cty_type[0] == "object" and all(_valid_type(t) for t in cty_type[1].values())


def _problems(block: dict[str, Any], path: str) -> list[str]:
    problems = []
    for name, attribute in block["attributes"].items():
        flags = (attribute.get("required", False), attribute.get("optional", False), attribute.get("computed", False))
        if flags not in {(True, False, False), (False, True, False), (False, False, True), (False, True, True)}:
            problems.append(f"{path}.{name}: required/optional/computed {flags}")
        if not _valid_type(attribute["type"]):
            problems.append(f"{path}.{name}: type {attribute['type']!r}")
    for name, nested in block["blocks"].items():
        if nested["nesting"] not in ("single", "list", "set") or nested["max_items"] and \
                nested["min_items"] > nested["max_items"]:
            problems.append(f"{path}.{name}: nesting {nested['nesting']} {nested['min_items']}..{nested['max_items']}")
        problems += _problems(nested["block"], f"{path}.{name}")
    return problems


@pytest.mark.parametrize("name", PROVIDERS)
def test_schema_serves_exactly_the_catalog(name: str) -> None:
    provider, schema = PROVIDERS[name], load_schema(name)
    assert (schema["source"], schema["version"]) == (provider.source, provider.version)
    assert set(schema["resources"]) == set(provider.resources)
    assert set(schema["data_sources"]) == set(provider.data_sources)


@pytest.mark.parametrize("name", PROVIDERS)
def test_schema_is_well_formed(name: str) -> None:
    schema = load_schema(name)
    blocks = {"provider": schema["provider"]} | schema["resources"] | schema["data_sources"]
    assert [p for n, b in blocks.items() for p in _problems(b, n)] == []
    for resource, block in (schema["resources"] | schema["data_sources"]).items():
        assert block["attributes"]["id"].get("computed"), resource  # Terraform needs an id it can plan unknown
        assert block_proto(block).attributes


def test_schemas_carry_what_the_real_providers_require() -> None:
    aws, azurerm = load_schema("aws"), load_schema("azurerm")
    queue = aws["resources"]["aws_sqs_queue_redrive_policy"]["attributes"]
    assert queue["redrive_policy"] == {"type": "string", "required": True}
    subscription = aws["resources"]["aws_sns_topic_subscription"]["attributes"]
    assert subscription["filter_policy_scope"] == {"type": "string", "optional": True}
    assert subscription["arn"] == {"type": "string", "computed": True}
    assert azurerm["provider"]["blocks"]["features"]["min_items"] == 1
    statement = aws["data_sources"]["aws_iam_policy_document"]["blocks"]["statement"]["block"]
    assert statement["blocks"]["principals"]["nesting"] == "set"
    assert "alias" not in aws["provider"]["attributes"]  # a Terraform meta-argument


def test_extractor_naming_rules() -> None:
    linked = {"name": "filterPolicyScope", "docs": {"summary": "Docs at Terraform Registry: {@link "
              "https://registry.terraform.io/providers/hashicorp/aws/6.25.0/docs/resources/sns_topic_subscription"
              "#filter_policy_scope SnsTopicSubscription#filter_policy_scope}."}}
    assert _tf_name(linked) == "filter_policy_scope"
    assert _tf_name({"name": "s3BucketArn", "docs": {"summary": "cut short"}}) == "s3_bucket_arn"
    assert _storage_type("numberListList", "list") == ["list", ["list", "number"]]
    assert _storage_type("stringList", "set") == ["set", "string"]
    assert _storage_type("booleanMap", "map") == ["map", "bool"]
