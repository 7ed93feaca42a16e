"""pytest plugin: plan a Terraform module offline in a test and assert on what it would create.

For teams that copied the kit's modules into their own infrastructure repository. Load it from a conftest.py,

    pytest_plugins = ["edakit.tfharness.pytest_plugin"]

(or `pytest -p edakit.tfharness.pytest_plugin`) and use the `tf_plan` fixture:

    def test_billing_has_a_dlq(tf_plan):
        plan = tf_plan("terraform/modules/fanout", {"name": "orders-staging", "subscribers": {"billing": {}}})
        assert plan.resources['aws_sqs_queue.dead_letter["billing"]']["message_retention_seconds"] == 1209600
        assert plan.outputs["topic_name"] == "orders-staging"

Planning goes through the kit's harness (edakit.tfharness.Harness): the pinned Terraform and providers served from
the kit's schemas, so no credentials, no network and no state; nothing is applied. Variables are passed as a JSON
var file written to the test's tmp_path, so maps, lists, numbers and booleans reach Terraform with their types. A
plan that fails (a `validation` block, an unknown argument) fails the test with Terraform's diagnostics, each with
its file:line. Terraform writes `.terraform/` and a lock file into the module directory, as `terraform init` does.

Relative module and var-file paths are from pytest's rootdir, which also holds the harness cache `.edakit-cache/`
(`$EDAKIT_CACHE` moves it).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from edakit.tfharness.runner import Harness


class _Unknown:
    """A value Terraform knows only after apply (an ARN, an id); outputs holding one compare equal to UNKNOWN."""

    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN = _Unknown()


@dataclass(frozen=True)
class Plan:
    """What `terraform plan` would do, from `terraform show -json` of the plan."""

    module: Path
    data: Mapping[str, Any]

    def _planned(self) -> list[dict[str, Any]]:
        found, pending = [], [self.data.get("planned_values", {}).get("root_module", {})]
        while pending:
            module = pending.pop()
            found += module.get("resources", [])
            pending += module.get("child_modules", [])
        return sorted(found, key=lambda r: r["address"])

    @property
    def resources(self) -> dict[str, dict[str, Any]]:
        """Planned attribute values by resource address (child modules included, as `module.x.aws_sqs_queue.y`);
        computed attributes not known before apply are absent."""
        return {r["address"]: r.get("values", {}) for r in self._planned()}

    def of_type(self, resource_type: str) -> dict[str, dict[str, Any]]:
        """The planned resources of one type (`aws_sqs_queue`), by address."""
        return {r["address"]: r.get("values", {}) for r in self._planned() if r.get("type") == resource_type}

    @property
    def actions(self) -> dict[str, list[str]]:
        """Each resource change's actions by address (offline there is no state: every action is `create`)."""
        return {c["address"]: c["change"]["actions"] for c in self.data.get("resource_changes", [])}

    @property
    def outputs(self) -> dict[str, Any]:
        """Root module outputs by name; UNKNOWN for one known only after apply."""
        planned = self.data.get("planned_values", {}).get("outputs", {})
        return {name: output["value"] if "value" in output else UNKNOWN for name, output in sorted(planned.items())}


PlanFixture = Callable[..., Plan]


@pytest.fixture(scope="session")
def tf_harness(pytestconfig: pytest.Config) -> Harness:
    """The harness (pinned Terraform, provider mirror) for the session, rooted at pytest's rootdir."""
    return Harness(pytestconfig.rootpath)


@pytest.fixture
def tf_plan(tf_harness: Harness, tmp_path: Path) -> PlanFixture:
    """`tf_plan(module_dir, variables=None, var_files=())` -> Plan, or the test fails with the diagnostics."""
    count = 0

    def plan(module_dir: str | Path, variables: Mapping[str, Any] | None = None,
             var_files: Sequence[str | Path] = ()) -> Plan:
        nonlocal count
        module = Path(module_dir)
        module = (module if module.is_absolute() else tf_harness.root / module).resolve()
        if not module.is_dir() or not any(module.glob("*.tf")):
            pytest.fail(f"tf_plan: {module}: not a directory holding *.tf files", pytrace=False)
        files = [Path(f) if Path(f).is_absolute() else tf_harness.root / f for f in var_files]
        if missing := [f for f in files if not f.is_file()]:
            pytest.fail(f"tf_plan: var file {missing[0]} does not exist", pytrace=False)
        if variables:
            count += 1
            written = tmp_path / f"tf_plan-{count}.tfvars.json"
            written.write_text(json.dumps(variables, indent=2))
            files.append(written)  # last, so the test's variables win over its var files
        for step in (lambda: tf_harness.init(module), lambda: tf_harness.plan(module, var_files=files)):
            result = step()
            if not result.ok:
                problems = "\n".join(d.format(tf_harness.root) for d in result.errors or result.diagnostics)
                shown = module.relative_to(tf_harness.root) if module.is_relative_to(tf_harness.root) else module
                pytest.fail(f"terraform {result.step} of {shown} failed:\n{problems}", pytrace=False)
        return Plan(module, result.data)

    return plan
