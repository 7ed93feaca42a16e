"""`make validate` end to end on copies of the repository: clean passes, planted mistakes fail with locations."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from edakit.cli import main
from edakit.validate import BAD_INPUT, FINDINGS, OK, STEPS, pattern_roots_using, validate
from click.testing import CliRunner

ROOT = Path(__file__).resolve().parents[2]
IGNORE = shutil.ignore_patterns(".terraform", ".terraform.lock.hcl", "__pycache__")

pytestmark = pytest.mark.slow


def _copy(tmp_path: Path, *parts: str) -> Path:
    """A repository copy with just `parts` (pyproject.toml marks its root, as in a user's checkout)."""
    for part in ("pyproject.toml", *parts):
        source = ROOT / part
        if source.is_dir():
            shutil.copytree(source, tmp_path / part, ignore=IGNORE)
        else:
            (tmp_path / part).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, tmp_path / part)
    return tmp_path


def _steps(*names: str):
    chosen = [step for step in STEPS if any(step.name.startswith(name) for name in names)]
    assert len(chosen) == len(names), [s.name for s in STEPS]
    return chosen


def test_planted_unknown_module_argument_fails_terraform_step_with_file_and_line(tmp_path: Path) -> None:
    root = _copy(tmp_path, "terraform/modules/kafka-topics")
    main_tf = root / "terraform/modules/kafka-topics/main.tf"
    lines = main_tf.read_text().splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith('resource "kafka_topic"'))
    lines.insert(at + 1, '  partition_count_typo = 3')
    main_tf.write_text("\n".join(lines) + "\n")
    out: list[str] = []

    status = validate(root, out.append, steps=_steps("terraform: fmt"))

    assert status == FINDINGS
    text = "\n".join(out)
    assert f"terraform/modules/kafka-topics/main.tf:{at + 2}" in text, text
    assert "partition_count_typo" in text


def test_planted_bad_spec_value_fails_with_file_line_column(tmp_path: Path) -> None:
    root = _copy(tmp_path, "configs", "schemas")
    spec = root / "configs/order-events-sns.yaml"
    text = spec.read_text()
    line_no = next(i for i, line in enumerate(text.splitlines(), 1) if "max_receive_count: 3" in line)
    spec.write_text(text.replace("max_receive_count: 3", "max_receive_count: 0", 1))
    out: list[str] = []

    status = validate(root, out.append, steps=_steps("specs"))

    assert status == BAD_INPUT
    assert re.search(rf"configs/order-events-sns\.yaml:{line_no}:\d+ subscribers\.billing\.dlq\.max_receive_count: "
                     r"0 is less than the minimum of 1", "\n".join(out)), out


def test_cli_exit_code_is_2_for_a_spec_that_cannot_be_read(tmp_path: Path) -> None:
    root = _copy(tmp_path, "configs", "schemas")
    (root / "configs/order-events-kafka.yaml").write_text("name: [unclosed\n")

    result = CliRunner().invoke(main, ["validate", str(root)])

    assert result.exit_code == 2, result.output
    assert "order-events-kafka.yaml:2:1 (root): invalid YAML" in result.output


def test_shipped_specs_render_lint_and_route_cleanly(tmp_path: Path) -> None:
    root = _copy(tmp_path, "configs", "schemas", "examples")
    out: list[str] = []
    status = validate(root, out.append, steps=_steps("specs", "sagas", "lint", "routes", "schemas"))
    assert status == OK, "\n".join(out)
    assert any("aws-sns-sqs-fanout.auto.tfvars.json" in line for line in out)


def test_pattern_roots_are_found_by_the_modules_they_call() -> None:
    using = pattern_roots_using(ROOT)
    assert ROOT / "terraform/patterns/fan-out/aws-sns-sqs" in using["aws-sns-sqs-fanout"]
    assert ROOT / "terraform/patterns/fan-out/kafka" in using["kafka-topics"]


def test_unknown_pattern_root_is_a_located_spec_problem(tmp_path: Path) -> None:
    root = _copy(tmp_path, "configs", "schemas", "terraform/patterns/fan-out")
    spec = root / "configs/order-events-sns.yaml"
    text = spec.read_text()
    line_no = next(i for i, line in enumerate(text.splitlines(), 1) if line.startswith("pattern:"))
    spec.write_text(text.replace("pattern: fan-out/aws-sns-sqs", "pattern: fan-out/aws-sns-sq", 1))
    out: list[str] = []

    assert validate(root, out.append, steps=_steps("specs", "terraform: plan")) == FINDINGS
    assert re.search(rf"order-events-sns\.yaml:{line_no}:\d+ pattern: no Terraform root at "
                     r"terraform/patterns/fan-out/aws-sns-sq; did you mean 'fan-out/aws-sns-sqs'", "\n".join(out)), out
