"""The harness end to end: pinned Terraform + our schema-serving providers, offline."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from edakit.cli import main as cli
from edakit.tfharness import Harness, check_all
from edakit.tfharness.install import TERRAFORM_ENV, terraform_command

pytestmark = pytest.mark.slow

PROVIDERS = ["aws", "azurerm", "google", "kafka"]
# each fixture's tests/unit.tftest.hcl: how many runs it has
TEST_RUNS = {"aws": 2, "azurerm": 1, "google": 1, "kafka": 2}


def plant(module: Path, text: str) -> tuple[Path, int]:
    """Write `text` as planted.tf; return the file and the line of its `# here` marker."""
    path = module / "planted.tf"
    path.write_text(text)
    line = next(i for i, row in enumerate(text.splitlines(), 1) if "# here" in row)
    return path, line


def test_edakit_terraform_is_the_pinned_terraform(repo_root: Path) -> None:
    command = terraform_command()
    out = subprocess.run([*command, "version", "-json"], capture_output=True, text=True, check=True).stdout
    assert json.loads(out)["terraform_version"].startswith("1.15.")


def test_edakit_terraform_env_var_selects_another_binary(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(TERRAFORM_ENV, "/opt/other/terraform")
    assert terraform_command() == ("/opt/other/terraform",)


@pytest.mark.parametrize("provider", PROVIDERS)
def test_good_module_inits_validates_and_passes_its_tests(
    harness: Harness, module_copy: Callable[[str], Path], provider: str
) -> None:
    module = module_copy(provider)
    assert harness.init(module).ok
    validated = harness.validate(module)
    assert validated.ok, [d.format() for d in validated.diagnostics]
    tested = harness.test(module)
    assert tested.ok, [d.format() for d in tested.diagnostics]
    assert tested.data["passed"] == TEST_RUNS[provider] and tested.data["failed"] == 0


def test_init_is_cached_until_a_tf_file_changes(harness: Harness, module_copy: Callable[[str], Path]) -> None:
    module = module_copy("kafka")
    assert harness.init(module).data == {"cached": False}
    assert harness.init(module).data == {"cached": True}
    (module / "extra.tf").write_text('locals {\n  x = 1\n}\n')
    # a lock file from another interpreter's shims (other hashes) must not break the re-init
    (module / ".terraform.lock.hcl").write_text(
        'provider "registry.terraform.io/mongey/kafka" {\n  version     = "0.13.1"\n  constraints = "~> 0.13"\n'
        '  hashes = [\n    "h1:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=",\n  ]\n}\n')
    reinit = harness.init(module)
    assert reinit.ok and reinit.data == {"cached": False}, reinit.output


PLANTED = {
    "unknown argument": (
        'resource "aws_sqs_queue" "planted" {\n  name = "p"\n  colour = "blue" # here\n}\n',
        "Unsupported argument", 'An argument named "colour" is not expected here.'),
    "missing required argument": (
        'resource "aws_sqs_queue_redrive_policy" "planted" { # here\n  queue_url = "u"\n}\n',
        "Missing required argument", 'The argument "redrive_policy" is required'),
    "wrong type": (
        'resource "aws_sqs_queue" "planted" {\n  delay_seconds = "soon" # here\n}\n',
        "Incorrect attribute value type", "a number is required"),
    "unknown block": (
        'resource "aws_sqs_queue" "planted" {\n  name = "p"\n  retry {} # here\n}\n',
        "Unsupported block type", 'Blocks of type "retry" are not expected here.'),
    "too many blocks": (
        'resource "aws_s3_bucket_versioning" "planted" {\n  bucket = "b"\n'
        '  versioning_configuration { status = "Enabled" }\n'
        '  versioning_configuration { status = "Enabled" } # here\n}\n',
        "Too many versioning_configuration blocks", "No more than 1"),
    "missing required block": (
        'resource "aws_s3_bucket_versioning" "planted" { # here\n  bucket = "b"\n}\n',
        "Insufficient versioning_configuration blocks", "At least 1"),
}


@pytest.mark.parametrize("case", PLANTED)
def test_planted_error_fails_validate_naming_file_and_line(
    harness: Harness, module_copy: Callable[[str], Path], case: str
) -> None:
    text, summary, detail = PLANTED[case]
    module = module_copy("aws")
    path, line = plant(module, text)
    assert harness.init(module).ok
    result = harness.validate(module)
    assert not result.ok
    [error] = result.errors
    assert (error.summary, error.file, error.line) == (summary, path, line)
    assert detail in error.detail
    assert error.format(module).startswith(f"planted.tf:{line}:")


def test_azurerm_provider_requires_features_block(harness: Harness, module_copy: Callable[[str], Path]) -> None:
    module = module_copy("azurerm")
    main = module / "main.tf"
    main.write_text(main.read_text().replace("  features {}\n", ""))
    assert harness.init(module).ok
    result = harness.validate(module)
    assert [e.summary for e in result.errors] == ["Insufficient features blocks"]
    assert result.errors[0].file == main


def test_plan_marks_computed_unknown_keeps_config_and_reads_data_sources(
    harness: Harness, module_copy: Callable[[str], Path]
) -> None:
    module = module_copy("aws")
    assert harness.init(module).ok
    result = harness.plan(module, vars={"queue_name": "orders"})
    assert result.ok, [d.format() for d in result.diagnostics]
    changes = {c["address"]: c["change"] for c in result.data["resource_changes"]}
    queue = changes["aws_sqs_queue.main"]
    assert queue["actions"] == ["create"]
    assert queue["after"]["name"] == "orders" and queue["after"]["visibility_timeout_seconds"] == 30
    assert queue["after_unknown"]["arn"] is True and queue["after_unknown"]["url"] is True
    assert "arn" not in queue["after"]
    policy = json.loads(result.data["planned_values"]["outputs"]["policy_json"]["value"])
    assert policy["Statement"] == [{
        "Sid": "AllowTopic", "Effect": "Allow", "Action": "sqs:SendMessage",
        "Resource": "arn:aws:sqs:eu-west-1:123456789012:orders",
        "Principal": {"Service": "sns.amazonaws.com"},
    }]


def test_sensitive_attributes_are_served_as_sensitive(harness: Harness, module_copy: Callable[[str], Path]) -> None:
    module = module_copy("azurerm")
    output = module / "outputs.tf"
    output.write_text('output "key" {\n  value = azurerm_eventgrid_topic.orders.primary_access_key\n}\n')
    assert harness.init(module).ok
    result = harness.plan(module)
    assert [(e.summary, e.file, e.line) for e in result.errors] == [("Output refers to sensitive values", output, 1)]


def test_plan_reads_var_files_and_reports_bad_values(
    harness: Harness, module_copy: Callable[[str], Path], tmp_path: Path
) -> None:
    module = module_copy("aws")
    good = tmp_path / "good.auto.tfvars.json"
    good.write_text(json.dumps({"queue_name": "billing", "max_receive_count": 3}))
    result = harness.plan(module, var_files=[good]) if harness.init(module).ok else None
    assert result is not None and result.ok
    redrive = {c["address"]: c for c in result.data["resource_changes"]}["aws_sqs_queue_redrive_policy.main"]
    assert redrive["change"]["after_unknown"]["redrive_policy"] is True  # needs the DLQ's arn, known after apply
    bad = tmp_path / "bad.tfvars.json"
    bad.write_text(json.dumps({"queue_name": "no spaces allowed"}))
    failed = harness.plan(module, var_files=[bad])
    assert not failed.ok
    [error] = failed.errors
    assert error.summary == "Invalid value for variable" and error.file == bad.resolve()


def test_terraform_test_failure_names_run_and_assertion_line(
    harness: Harness, module_copy: Callable[[str], Path]
) -> None:
    module = module_copy("kafka")
    failing = module / "tests" / "unit.tftest.hcl"
    failing.write_text(failing.read_text().replace('== "604800000"', '== "1"'))
    assert harness.init(module).ok
    result = harness.test(module)
    assert not result.ok and result.data["failed"] == 1 and result.data["passed"] == 1
    [error] = result.errors
    assert error.summary == "run 'retention_in_ms': Test assertion failed"
    assert error.file == failing and error.line == 7


def test_fmt_check_names_badly_formatted_file_and_line(harness: Harness, module_copy: Callable[[str], Path]) -> None:
    module = module_copy("kafka")
    assert harness.fmt_check(module).ok
    ugly = module / "ugly.tf"
    ugly.write_text('locals {\n  a = 1\n}\n\nlocals {\n  b = 1\n  long_name = 2\n}\n')
    result = harness.fmt_check(module)
    assert not result.ok
    assert [(d.file, d.line) for d in result.errors] == [(ugly, 6)]


def _project(tmp_path: Path, module_copy: Callable[[str], Path]) -> Path:
    """A project tree with one module (the kafka fixture, which checkov passes) and a pattern root using it."""
    root = tmp_path / "project"
    module = root / "terraform" / "modules" / "kafka-topics"
    module.parent.mkdir(parents=True)
    module_copy("kafka").rename(module)
    pattern = root / "terraform" / "patterns" / "fan-out" / "kafka"
    pattern.mkdir(parents=True)
    (pattern / "main.tf").write_text('module "topics" {\n  source = "../../../modules/kafka-topics"\n}\n')
    return root


def test_check_all_reports_checkov_then_passes_then_fails_on_a_planted_argument(
    harness: Harness, module_copy: Callable[[str], Path], tmp_path: Path
) -> None:
    root = _project(tmp_path, module_copy)
    queues = root / "terraform" / "modules" / "sqs-queues"
    module_copy("aws").rename(queues)
    lines: list[str] = []
    # checkov runs once over terraform/: the aws fixture's queues have no encryption configured
    assert not check_all(root, echo=lines.append, harness=harness)
    assert lines[1].startswith("FAIL terraform [checkov ")
    queue_lines = [i for i, row in enumerate((queues / "main.tf").read_text().splitlines(), 1)
                   if row.startswith('resource "aws_sqs_queue" ')]
    unencrypted = sorted(line for line in lines if "CKV_AWS_27 " in line)
    assert unencrypted == [f"    terraform/modules/sqs-queues/main.tf:{n}:1: error: CKV_AWS_27 Ensure all data "
                           f"stored in the SQS queue is encrypted: resource aws_sqs_queue.{name}"
                           for n, name in zip(queue_lines, ("dlq", "main"))]
    assert all(line.startswith(("ok  ", "    ")) for line in lines[2:]), lines
    shutil.rmtree(queues)  # it was there for checkov; validating and testing it twice more shows nothing new (~2 s)

    lines.clear()
    assert check_all(root, echo=lines.append, harness=harness, checkov=False), lines
    assert any(line.startswith("ok   terraform/modules/kafka-topics") and "test 2 passed" in line for line in lines)
    assert any(line.startswith("ok   terraform/patterns/fan-out/kafka [init ") for line in lines)

    untested = root / "terraform" / "modules" / "untested"
    shutil.copytree(root / "terraform" / "modules" / "kafka-topics", untested, ignore=shutil.ignore_patterns("tests"))
    main = root / "terraform" / "modules" / "kafka-topics" / "main.tf"
    partitions = "  partitions         = 6\n"
    main.write_text(main.read_text().replace(partitions, partitions + '  colour             = "x"\n'))
    lines.clear()
    assert not check_all(root, echo=lines.append, harness=harness, checkov=False)
    assert "    validate: terraform/modules/kafka-topics/main.tf:27:3: error: Unsupported argument: " \
           'An argument named "colour" is not expected here.' in lines, lines
    assert any(line.startswith("FAIL terraform/modules/kafka-topics") for line in lines)
    assert any(line.startswith("FAIL terraform/modules/untested") for line in lines)
    assert any("test: terraform/modules/untested/tests:1:1: error: module has no tests" in line for line in lines)


def test_cli_check_exit_codes_and_plan(
    harness: Harness, module_copy: Callable[[str], Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EDAKIT_CACHE", str(harness.installation.cache))
    root = _project(tmp_path, module_copy)
    runner = CliRunner()
    module = root / "terraform" / "modules" / "kafka-topics"
    pattern = root / "terraform" / "patterns" / "fan-out" / "kafka"
    ok = runner.invoke(cli, ["tf", "check", "--no-checkov", "--root", str(root), str(pattern)])
    assert ok.exit_code == 0, ok.output
    assert ok.output.splitlines()[-1].startswith("ok   terraform/patterns/fan-out/kafka [init ")
    planned = runner.invoke(cli, ["tf", "plan", "--root", str(root), str(module), "--var", "retention_hours=24"])
    assert planned.exit_code == 0, planned.output
    assert "create kafka_topic.orders" in planned.output
    rejected = runner.invoke(cli, ["tf", "plan", "--root", str(root), str(module), "--var", "retention_hours=0"])
    assert rejected.exit_code == 1 and "retention_hours must be at least 1." in rejected.output
    usage = runner.invoke(cli, ["tf", "plan", "--root", str(root), str(module), "--var", "retention_hours"])
    assert usage.exit_code == 2 and "expected NAME=VALUE" in usage.output
    (pattern / "ugly.tf").write_text("locals {\n  a = 1\n  long_name = 2\n}\n")
    failed = runner.invoke(cli, ["tf", "check", "--no-checkov", "--root", str(root), str(pattern)])
    assert failed.exit_code == 1 and "ugly.tf:2:1: error: not in canonical format" in failed.output
