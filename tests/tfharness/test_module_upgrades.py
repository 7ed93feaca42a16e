"""Upgrading a module must not damage what users own: plans over a state written by an earlier module version."""

from __future__ import annotations

import json
import os
from pathlib import Path

from edakit.tfharness import Harness

QUEUE_URL = "https://sqs.eu-west-1.amazonaws.com/123456789012/review"


def _plan_actions(harness: Harness, root: Path) -> dict[str, list[str]]:
    assert harness.init(root).ok
    plan_file = root / "upgrade.tfplan"
    planned = harness.terraform(root, "plan", "-refresh=false", "-input=false", "-lock=false", "-no-color",
                                f"-out={plan_file}")
    assert planned.returncode == 0, planned.stdout + planned.stderr
    shown = json.loads(harness.terraform(root, "show", "-json", str(plan_file)).stdout)
    return {change["address"]: change["change"]["actions"] for change in shown.get("resource_changes", [])}


def test_eventbridge_target_policies_of_earlier_versions_are_forgotten_not_deleted(
    harness: Harness, repo_root: Path, tmp_path: Path,
) -> None:
    # Earlier versions wrote the policy of a target queue given with sqs_queue_url; the queue is its owner's, so
    # the upgrade must leave that policy in place (EventBridge keeps delivering until the owner merges theirs).
    module = repo_root / "terraform" / "modules" / "aws-eventbridge-routing"
    (tmp_path / "main.tf").write_text(f'''
provider "aws" {{
  region = "eu-west-1"
}}

module "routing" {{
  source = "{os.path.relpath(module, tmp_path)}"
  name   = "shop"
  routes = {{
    review = {{ event_pattern = "{{}}", targets = {{ queue = {{ arn = "arn:aws:sqs:eu-west-1:123456789012:review" }} }} }}
  }}
}}
''')
    (tmp_path / "versions.tf").write_text((module / "versions.tf").read_text())
    address = f'module.routing.aws_sqs_queue_policy.target["{QUEUE_URL}"]'
    state = {
        "version": 4, "terraform_version": "1.15.0", "serial": 1, "lineage": "00000000-0000-0000-0000-00000000e0b1",
        "outputs": {}, "check_results": None,
        "resources": [{
            "module": "module.routing", "mode": "managed", "type": "aws_sqs_queue_policy", "name": "target",
            "provider": 'provider["registry.terraform.io/hashicorp/aws"]',
            "instances": [{
                "index_key": QUEUE_URL, "schema_version": 0, "sensitive_attributes": [],
                "attributes": {"id": QUEUE_URL, "queue_url": QUEUE_URL, "region": "eu-west-1",
                               "policy": json.dumps({"Version": "2012-10-17", "Statement": []})},
            }],
        }],
    }
    (tmp_path / "terraform.tfstate").write_text(json.dumps(state))
    actions = _plan_actions(harness, tmp_path)
    assert actions[address] == ["forget"]
    assert not [a for a, planned in actions.items() if "delete" in planned], actions
