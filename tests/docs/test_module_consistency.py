"""The modules agree with each other: each has a complete example that plans, dead-letter outputs and alarm inputs
share their names, renames keep deprecated aliases and `moved` blocks, pattern root tests share one file name, and
the renderers emit no deprecated input."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import hcl2
import pytest

from edakit.tfharness import Harness
from edakit.tfharness.check import discover

ROOT = Path(__file__).resolve().parents[2]
MODULES = sorted(path for path in (ROOT / "terraform" / "modules").iterdir() if any(path.glob("*.tf")))
KMS_KEY = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
PROJECT = "orders-platform-staging"
# What an operator passes on the command line to each example (its header comment says the same).
EXAMPLE_VARS: dict[str, dict[str, str]] = {
    "aws-eventbridge-routing": {"alarm_topic_arn": "arn:aws:sns:eu-west-1:123456789012:ops-alerts",
                                "events_kms_key_arn": KMS_KEY},
    "aws-saga-stepfunctions": {"commands_kms_key_arn": KMS_KEY},
    "aws-sns-sqs-fanout": {"alarm_topic_arn": "arn:aws:sns:eu-west-1:123456789012:ops-alerts"},
    "azure-eventgrid": {"subscription_id": "00000000-0000-0000-0000-000000000000",
                        "webhook_delivery_secrets": '{"crm"="a-secret-of-32-characters-length"}'},
    "claim-check-store-aws-s3": {"payload_kms_key_arn": KMS_KEY},
    "claim-check-store-azure-blob": {"subscription_id": "00000000-0000-0000-0000-000000000000",
                                     "writer_principal_ids": '["11111111-1111-1111-1111-111111111111"]',
                                     "reader_principal_ids": '["22222222-2222-2222-2222-222222222222"]'},
    "claim-check-store-gcs": {
        "project_id": PROJECT,
        "kms_key_name": f"projects/{PROJECT}/locations/europe-west1/keyRings/orders/cryptoKeys/payloads"},
    "gcp-pubsub": {"project_id": PROJECT,
                   "kms_key_name": f"projects/{PROJECT}/locations/europe-west1/keyRings/orders/cryptoKeys/topics",
                   "oncall_notification_channel": f"projects/{PROJECT}/notificationChannels/123"},
    "kafka-topics": {"bootstrap_servers": '["kafka-1:9092"]'},
}
DEPRECATED = re.compile(r"^Deprecated: use (\w+)\b")


def _unquote(label: str) -> str:
    return label.strip('"')


def _blocks(directory: Path, kind: str) -> dict[str, dict[str, Any]]:
    """Top-level `kind` blocks (variable, output, module) of a directory's *.tf files, by name."""
    found = {}
    for file in sorted(directory.glob("*.tf")):
        for block in hcl2.loads(file.read_text(encoding="utf-8")).get(kind, []):
            ((name, body),) = block.items()
            found[_unquote(name)] = body
    return found


def _description(body: dict[str, Any]) -> str:
    return _unquote(str(body.get("description", "")))


def _resources(directory: Path) -> set[str]:
    addresses = set()
    for file in directory.glob("*.tf"):
        for block in hcl2.loads(file.read_text(encoding="utf-8")).get("resource", []):
            ((kind, named),) = block.items()
            addresses |= {f"{_unquote(kind)}.{_unquote(name)}" for name in named}
    return addresses


@pytest.fixture(scope="module")
def harness() -> Harness:
    return Harness(ROOT)


def test_example_vars_cover_every_module() -> None:
    assert sorted(EXAMPLE_VARS) == [module.name for module in MODULES]


@pytest.mark.parametrize("module", MODULES, ids=lambda path: path.name)
def test_every_module_has_a_complete_example_that_tf_check_picks_up(module: Path) -> None:
    example = module / "examples" / "complete"
    calls = _blocks(example, "module")
    assert calls, f"{example} calls no module"
    assert {_unquote(str(body["source"])) for body in calls.values()} == {"../.."}
    assert example in discover(ROOT), "edakit tf check (and make validate) must fmt/init/validate the example"


@pytest.mark.parametrize("module", MODULES, ids=lambda path: path.name)
def test_every_example_plans_with_the_module_s_validations(harness: Harness, module: Path) -> None:
    example = module / "examples" / "complete"
    assert harness.init(example).ok
    result = harness.plan(example, vars=EXAMPLE_VARS[module.name])
    assert result.ok, [f"{d.summary}: {d.detail}" for d in result.diagnostics]
    created = {change["address"] for change in result.data["resource_changes"]}
    assert any(address.startswith("module.") for address in created)


@pytest.mark.parametrize("directory", MODULES + sorted((ROOT / "terraform" / "patterns").glob("*/*/")),
                         ids=lambda path: str(path.relative_to(ROOT / "terraform")))
def test_dead_letter_outputs_are_named_dead_letter_and_old_names_are_aliases(directory: Path) -> None:
    outputs = _blocks(directory, "output")
    for name, body in outputs.items():
        alias = DEPRECATED.match(_description(body))
        if alias:
            target = alias.group(1)
            assert target in outputs, f"output {name} is deprecated for {target}, which {directory} lacks"
            assert body["value"] == outputs[target]["value"], f"deprecated output {name} must equal {target}"
        else:
            assert not re.search(r"(^|_)dlq(_|$)", name), f"output {name}: dead-letter outputs are dead_letter_*"


@pytest.mark.parametrize("module", MODULES, ids=lambda path: path.name)
def test_cloudwatch_alarm_modules_take_alarm_actions(module: Path) -> None:
    variables = _blocks(module, "variable")
    if any(address.startswith("aws_cloudwatch_metric_alarm.") for address in _resources(module)):
        assert "alarm_actions" in variables
    for name, body in variables.items():
        alias = DEPRECATED.match(_description(body))
        if alias:
            assert alias.group(1) in variables, f"variable {name} is deprecated for a variable {module} lacks"
        elif name.endswith("alarm_actions"):
            assert name == "alarm_actions", f"variable {name}: alarm action inputs are named alarm_actions"


@pytest.mark.parametrize("module", MODULES, ids=lambda path: path.name)
def test_moved_blocks_point_from_an_old_address_to_a_declared_resource(module: Path) -> None:
    resources = _resources(module)
    for file in module.glob("*.tf"):
        for moved in hcl2.loads(file.read_text(encoding="utf-8")).get("moved", []):
            old, new = (str(moved[key]).removeprefix("${").removesuffix("}") for key in ("from", "to"))
            assert new in resources and old not in resources, (file, old, new)


def test_the_sns_sqs_dlq_resources_were_moved_to_their_dead_letter_names() -> None:
    moved = [(str(block["from"]), str(block["to"])) for block in
             hcl2.loads((ROOT / "terraform/modules/aws-sns-sqs-fanout/main.tf").read_text(encoding="utf-8"))["moved"]]
    assert moved == [("${aws_sqs_queue.dlq}", "${aws_sqs_queue.dead_letter}"),
                     ("${aws_sqs_queue_policy.dlq}", "${aws_sqs_queue_policy.dead_letter}"),
                     ("${aws_cloudwatch_metric_alarm.dlq_depth}", "${aws_cloudwatch_metric_alarm.dead_letter_depth}")]


def test_pattern_root_tests_have_one_name() -> None:
    tests = sorted((ROOT / "terraform" / "patterns").glob("*/*/tests/*.tftest.hcl"))
    assert tests
    assert {path.name for path in tests} == {"root.tftest.hcl"}


def test_rendered_tfvars_set_only_current_inputs_of_their_module() -> None:
    goldens = sorted((ROOT / "tests" / "render" / "golden").glob("*/*/*.auto.tfvars.json"))
    assert goldens
    inputs: dict[Path, dict[str, dict[str, Any]]] = {}
    for golden in goldens:
        module = ROOT / "terraform" / "modules" / golden.name.removesuffix(".auto.tfvars.json")
        if not module.is_dir():
            continue  # provider.auto.tfvars.json: the pattern root's own provider settings
        if module not in inputs:
            inputs[module] = _blocks(module, "variable")
        variables = inputs[module]
        for key in json.loads(golden.read_text(encoding="utf-8")):
            assert key in variables, f"{golden}: {key} is no input of {module.name}"
            assert not DEPRECATED.match(_description(variables[key])), f"{golden}: {key} is deprecated"


def _state_resource(kind: str, name: str, attributes: dict[str, Any]) -> dict[str, Any]:
    return {"mode": "managed", "type": kind, "name": name,
            "provider": 'provider["registry.terraform.io/hashicorp/aws"]',
            "instances": [{"index_key": "billing", "schema_version": 0, "attributes": attributes}]}


def test_state_of_the_old_sns_sqs_dlq_addresses_moves_without_replacement(harness: Harness, tmp_path: Path) -> None:
    """A user's state from the release that named the DLQ resources `dlq`: the plan moves them, replacing nothing."""
    for file in (ROOT / "terraform/modules/aws-sns-sqs-fanout").iterdir():  # the module as a user copies it
        if file.is_file() and file.suffix in {".tf", ".json"}:
            (tmp_path / file.name).write_bytes(file.read_bytes())
    url = "https://sqs.eu-west-1.amazonaws.com/123456789012/orders-billing-dlq"
    state = {"version": 4, "terraform_version": "1.15.0", "serial": 1,
             "lineage": "6f1c1c52-0000-4000-8000-000000000000", "outputs": {}, "resources": [
                 _state_resource("aws_sqs_queue", "dlq", {
                     "id": url, "url": url, "name": "orders-billing-dlq", "fifo_queue": False,
                     "arn": "arn:aws:sqs:eu-west-1:123456789012:orders-billing-dlq"}),
                 _state_resource("aws_sqs_queue_policy", "dlq", {"id": url, "queue_url": url}),
                 _state_resource("aws_cloudwatch_metric_alarm", "dlq_depth", {
                     "id": "orders-billing-dlq-not-empty", "alarm_name": "orders-billing-dlq-not-empty"}),
             ]}
    (tmp_path / "terraform.tfstate").write_text(json.dumps(state), encoding="utf-8")
    assert harness.init(tmp_path).ok
    result = harness.plan(tmp_path, vars={"name": "orders", "subscribers": "{ billing = {} }"})
    assert result.ok, [f"{d.summary}: {d.detail}" for d in result.diagnostics]
    changes = {change["address"]: change for change in result.data["resource_changes"]}
    for old, new in [("aws_sqs_queue.dlq", "aws_sqs_queue.dead_letter"),
                     ("aws_sqs_queue_policy.dlq", "aws_sqs_queue_policy.dead_letter"),
                     ("aws_cloudwatch_metric_alarm.dlq_depth", "aws_cloudwatch_metric_alarm.dead_letter_depth")]:
        change = changes[f'{new}["billing"]']
        assert change.get("previous_address") == f'{old}["billing"]'
        assert not {"create", "delete"} & set(change["change"]["actions"]), change["change"]["actions"]
        assert f'{old}["billing"]' not in changes
