"""The saga's alarm targets come from the spec: `saga.alarm_actions` reaches the aws-saga-stepfunctions tfvars, with
the module's own default when the spec leaves it out."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from edakit.docs.terraform import variable_defaults
from edakit.render import render_spec
from edakit.spec import load_spec
from edakit.spec.errors import SpecError

REPO = Path(__file__).resolve().parents[2]
TEXT = (REPO / "configs" / "order-saga.yaml").read_text()
ANCHOR = "  log_retention_days: 365\n"
TOPIC = "arn:aws:sns:eu-west-1:123456789012:orders-oncall"


def _saga_tfvars(tmp_path: Path, extra: str) -> dict:
    assert ANCHOR in TEXT
    spec_file = tmp_path / "order-saga.yaml"
    spec_file.write_text(TEXT.replace(ANCHOR, ANCHOR + extra, 1))
    out = tmp_path / "out"
    files = render_spec(load_spec(spec_file, root=REPO), out)
    saga = [f for f in files if "saga" in f.name]
    assert len(saga) == 1
    return json.loads(saga[0].read_text())


def _module_default(variable: str) -> str:
    """The default as Terraform source text (what tests/brokers compares the profiles' defaults with)."""
    return variable_defaults(REPO / "terraform/modules/aws-saga-stepfunctions")[variable]


def test_the_specs_alarm_actions_reach_the_module(tmp_path):
    tfvars = _saga_tfvars(tmp_path, f"  alarm_actions: [{TOPIC}]\n")
    assert tfvars["alarm_actions"] == [TOPIC]


def test_left_out_it_is_the_modules_default(tmp_path):
    tfvars = _saga_tfvars(tmp_path, "")
    assert tfvars["alarm_actions"] == json.loads(_module_default("alarm_actions")) == []


@pytest.mark.parametrize(("extra", "key"), [
    ("  alarm_actions: [orders-oncall]\n", "saga.alarm_actions[0]"),
    ("  alarm_actions: orders-oncall\n", "saga.alarm_actions"),
])
def test_values_the_module_would_refuse_are_spec_errors(tmp_path, extra, key):
    spec_file = tmp_path / "order-saga.yaml"
    spec_file.write_text(TEXT.replace(ANCHOR, ANCHOR + extra, 1))
    with pytest.raises(SpecError, match=key.replace("[", r"\[").replace("]", r"\]")):
        load_spec(spec_file, root=REPO)
