"""`edakit claim-check settings`: the runtime's settings as a table or JSON; a spec it cannot follow exits 2 with one
line naming the key."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from edakit.cli import main

ROOT = Path(__file__).resolve().parents[3]
SPEC = str(ROOT / "configs" / "order-claim-check.yaml")


def run(*args: str):  # noqa: ANN201
    return CliRunner().invoke(main, ["claim-check", "settings", *args])


def test_json_has_each_channels_threshold_and_delete_setting() -> None:
    result = run(SPEC, "--env", "staging", "--format", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {"store": "s3", "name": "orders-claims-staging-claim-checks", "channels": [
        {"topic": "orders-claims-staging-order-documents", "threshold_bytes": 180_224, "always_offload": False,
         "delete_after_processing": False}]}


def test_table() -> None:
    result = run(SPEC, "--env", "prod")
    assert result.exit_code == 0
    assert "orders-claims-prod-order-documents  > 180,224 bytes    no (store expiry)" in result.output


def test_a_refused_block_is_one_line_and_exit_2(tmp_path: Path) -> None:
    (tmp_path / "schemas").symlink_to(ROOT / "schemas")  # the spec's event schemas, relative to its root
    spec = tmp_path / "spec.yaml"
    spec.write_text(Path(SPEC).read_text().replace("  payload_expiration_days: 30\n",
                                                   "  payload_expiration_days: 30\n  delete_after_processing: true\n"))
    result = CliRunner().invoke(main, ["claim-check", "settings", str(spec), "--env", "staging"])
    assert result.exit_code == 2 and "Traceback" not in result.stderr
    [line] = result.stderr.splitlines()
    assert line.startswith("error: ")
    assert "claim_check.delete_after_processing: channel 'order-documents' fans out" in line


def test_a_spec_without_the_block_exits_2() -> None:
    result = run(str(ROOT / "configs" / "order-events-sns.yaml"))
    assert result.exit_code == 2 and "no claim_check block" in result.output
