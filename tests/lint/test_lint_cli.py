"""`edakit lint`: exit codes 0 (clean or warnings only), 1 (error findings), 2 (bad input)."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from edakit.cli import main

FIXTURES = Path(__file__).parent / "fixtures"


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["lint", *args])
    return result.exit_code, result.stdout, result.stderr


def test_clean_spec_exits_0() -> None:
    code, out, _ = run(str(FIXTURES / "EDA004" / "pass" / "spec.yaml"))
    assert code == 0 and out.strip().endswith("0 finding(s)")


def test_warnings_alone_exit_0() -> None:
    code, out, _ = run(str(FIXTURES / "EDA017" / "fail" / "spec.yaml"))
    assert code == 0 and "EDA017" in out


def test_error_findings_exit_1_in_every_format() -> None:
    spec = str(FIXTURES / "EDA013" / "fail" / "spec.yaml")
    assert run(spec)[0] == 1
    code, out, _ = run(spec, "--format", "json")
    assert code == 1 and {row["rule"] for row in json.loads(out)} == {"EDA013"}
    code, out, _ = run(spec, "--format", "sarif")
    assert code == 1 and json.loads(out)["runs"][0]["results"][0]["ruleId"] == "EDA013"


def test_env_selects_the_environment() -> None:
    spec = str(FIXTURES / "EDA008" / "fail" / "spec.yaml")
    assert run(spec, "--env", "prod")[0] == 1


def test_bad_input_exits_2_naming_file_and_line(tmp_path: Path) -> None:
    broken = tmp_path / "spec.yaml"
    broken.write_text("name: x\nbroker: [\n", encoding="utf-8")
    code, _, err = run(str(broken))
    assert code == 2 and f"{broken}:" in err
    unknown = tmp_path / "unknown-module.auto.tfvars.json"
    unknown.write_text("{}", encoding="utf-8")
    code, _, err = run(str(unknown))
    assert code == 2 and "unknown module 'unknown-module'" in err
    not_object = tmp_path / "gcp-pubsub.auto.tfvars.json"
    not_object.write_text("[1, 2]", encoding="utf-8")
    code, _, err = run(str(not_object))
    assert code == 2 and f"{not_object}:1:1" in err
    code, _, err = run(str(tmp_path / "notes.txt"))
    assert code == 2 and "expected a spec" in err


def test_unknown_environment_exits_2() -> None:
    code, _, err = run(str(FIXTURES / "EDA004" / "pass" / "spec.yaml"), "--env", "prod")
    assert code == 2 and "no environment 'prod'" in err


def test_a_huge_tfvars_file_is_one_located_problem(tmp_path) -> None:
    tfvars = tmp_path / "aws-sns-sqs-fanout.auto.tfvars.json"
    with tfvars.open("w") as out:
        out.write('{"name": "' + "x" * (2 * 1024 * 1024) + '"}')
    code, out, err = run(str(tfvars))
    assert code == 2 and "Traceback" not in out + err
    assert f"{tfvars}:1:1" in out + err and "tfvars file" in out + err
