"""The tf_plan pytest plugin as a team uses it: a scratch infrastructure repository with a copied module and a test
file of its own, run by pytest in a subprocess; outcomes read from its JUnit report."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path

MODULE = "terraform/modules/aws-sns-sqs-fanout"

TEAM_TESTS = '''
from pathlib import Path

from edakit.tfharness.pytest_plugin import UNKNOWN

FANOUT = "infra/modules/fanout"


def test_planned_resources_and_outputs(tf_plan):
    plan = tf_plan(FANOUT, {"name": "orders-staging-order-placed",
                            "subscribers": {"billing": {"max_receive_count": 3}, "audit": {"create_dlq": False}}})
    queues = plan.of_type("aws_sqs_queue")
    assert sorted(queues) == ['aws_sqs_queue.dead_letter["billing"]', 'aws_sqs_queue.this["audit"]',
                              'aws_sqs_queue.this["billing"]']
    assert queues['aws_sqs_queue.this["billing"]']["name"] == "orders-staging-order-placed-billing"
    assert plan.resources["aws_sns_topic.this"]["name"] == "orders-staging-order-placed"
    assert plan.actions["aws_sns_topic.this"] == ["create"]
    assert plan.outputs["topic_name"] == "orders-staging-order-placed"
    assert plan.outputs["topic_arn"] is UNKNOWN  # known after apply only
    assert plan.module == Path(FANOUT).resolve()


def test_var_files_then_variables(tf_plan, tmp_path):
    var_file = tmp_path / "staging.tfvars"
    var_file.write_text('name = "from-the-file"\\nsubscribers = { email = {} }\\n')
    plan = tf_plan(FANOUT, {"name": "from-the-test"}, var_files=[var_file])
    assert plan.outputs["topic_name"] == "from-the-test"
    assert list(plan.of_type("aws_sns_topic_subscription")) == ['aws_sns_topic_subscription.this["email"]']


def test_a_validation_failure_fails_the_test(tf_plan):
    tf_plan(FANOUT, {"name": "Not A Valid Name!", "subscribers": {"billing": {}}})


def test_a_missing_module_fails_the_test(tf_plan):
    tf_plan("infra/modules/nothing-here")
'''


def test_a_copied_module_is_planned_by_the_teams_own_tests(repo_root: Path, tmp_path: Path):
    team = tmp_path / "team-infra"
    subprocess.run(["git", "init", "-q", str(team)], check=True)
    shutil.copytree(repo_root / MODULE, team / "infra/modules/fanout",
                    ignore=shutil.ignore_patterns(".terraform*", "tests", "examples"))
    (team / "pyproject.toml").write_text('[tool.pytest.ini_options]\ntestpaths = ["tests"]\n')
    (team / "tests").mkdir()
    (team / "tests/conftest.py").write_text('pytest_plugins = ["edakit.tfharness.pytest_plugin"]\n')
    (team / "tests/test_fanout.py").write_text(textwrap.dedent(TEAM_TESTS))

    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--junitxml=report.xml"],
                          cwd=team, capture_output=True, text=True, timeout=240)
    assert done.returncode == 1, done.stdout + done.stderr  # the two tests meant to fail did
    cases = {case.get("name"): case for case in ET.parse(team / "report.xml").getroot().iter("testcase")}
    failures = {name: case.find("failure") for name, case in cases.items()}
    assert failures["test_planned_resources_and_outputs"] is None, done.stdout
    assert failures["test_var_files_then_variables"] is None, done.stdout
    invalid = failures["test_a_validation_failure_fails_the_test"]
    message = invalid.get("message", "") if invalid is not None else ""
    assert message.startswith("Failed: terraform plan of infra/modules/fanout failed:\n"), message
    # Terraform points at the value (the var file the fixture wrote) and at the module's validation rule.
    assert re.search(r"/tf_plan-1\.tfvars\.json:\d+:\d+: error: Invalid value for variable: name ", message), message
    assert re.search(r"validation rule at variables\.tf:\d+", message), message
    assert "Traceback" not in (invalid.text or "")  # the diagnostics, not the plugin's stack
    missing = failures["test_a_missing_module_fails_the_test"]
    assert missing is not None and "nothing-here: not a directory holding *.tf files" in missing.get("message", "")
    assert (team / ".edakit-cache/terraform.rc").is_file()  # the harness cache lives in the team's repository

