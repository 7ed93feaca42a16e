"""`edakit spec check` / `edakit spec schema` / `edakit render`: exit 0 ok, 2 with every problem listed."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from click.testing import CliRunner

from edakit.cli import main
from edakit.spec import SCHEMA_PATH

ROOT = Path(__file__).resolve().parents[2]
BAD = """
name: shop
broker: kafak
kafka: {bootstrap_servers: ["localhost:9092"], retention_hours: 0}
"""


def test_check_ok_names_what_it_checked() -> None:
    result = CliRunner().invoke(main, ["spec", "check", str(ROOT / "configs" / "order-events-sns.yaml")])
    assert result.exit_code == 0, result.output
    assert "1 events, 1 channels, 3 subscribers; environments: staging, prod" in result.output


def test_check_bad_input_exits_2_with_every_problem_and_no_traceback(write_spec: Callable[..., str]) -> None:
    path = write_spec(BAD)
    result = CliRunner().invoke(main, ["spec", "check", path, "--env", "prod"])
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        "configs/shop.yaml:1:1 (root): no environment 'prod' in the spec",
        "configs/shop.yaml:2:1 broker: \"kafak\" is not allowed; did you mean 'kafka'?",
        "configs/shop.yaml:3:48 kafka.retention_hours: 0 is less than the minimum of 1",
        "3 problem(s)",
    ]
    assert "Traceback" not in result.output


def test_schema_command_prints_the_schema_file() -> None:
    result = CliRunner().invoke(main, ["spec", "schema"])
    assert result.exit_code == 0
    assert json.loads(result.stdout) == json.loads(SCHEMA_PATH.read_text())


def test_render_writes_tfvars_and_rejects_bad_specs(write_spec: Callable[..., str], tmp_path: Path) -> None:
    spec = ROOT / "configs" / "order-events-kafka.yaml"
    result = CliRunner().invoke(main, ["render", str(spec), "--env", "prod", "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        str(tmp_path / "out" / "kafka-topics.auto.tfvars.json"),
        str(tmp_path / "out" / "provider.auto.tfvars.json"),
    ]
    bad = CliRunner().invoke(main, ["render", write_spec(BAD)])
    assert bad.exit_code == 2 and bad.stderr.endswith("2 problem(s)\n")
    unknown_env = CliRunner().invoke(main, ["render", str(spec), "--env", "qa"])
    assert unknown_env.exit_code == 2 and "no environment 'qa' in the spec" in unknown_env.stderr


def test_render_defaults_to_build_spec_env(write_spec: Callable[..., str], repo: Path) -> None:
    path = write_spec((ROOT / "configs" / "order-events-sns.yaml").read_text().replace(
        "schemas/order-events/v1/order-placed.avsc", "schemas/shop/v1/order-placed.avsc"))
    result = CliRunner().invoke(main, ["render", path, "--env", "staging"])
    assert result.exit_code == 0, result.output
    out = repo.resolve() / "build" / "orders-sns" / "staging"
    assert result.stdout.splitlines() == [
        str(out / "aws-sns-sqs-fanout.auto.tfvars.json"),
        str(out / "provider.auto.tfvars.json"),
    ]
