"""A spec that declares channels and points at a saga file: the saga's step and reply channels are spec channels,
and one that is not is a problem located in the saga file (file, line, key), reported by the spec check."""

from __future__ import annotations

from pathlib import Path

import pytest

from edakit.saga.loader import default_reply_channel
from edakit.spec import SpecError, load_spec

SPEC = """name: shop
broker: sqs-sns
sqs_sns:
  region: eu-west-1
channels:
  order-commands: {}
  payment-commands: {}
  shop-replies: {}
saga:
  definition: configs/sagas/shop.yaml
  region: eu-west-1
"""
ARN = "arn:aws:sqs:eu-west-1:123456789012:q"
SAGA = f"""saga: Shop
reply_channel: shop-replies
steps:
  - name: Order
    channel: order-commands
    action: {{service: sqs, resource: "{ARN}"}}
  - name: Payment
    channel: payment-commands
    action: {{service: sqs, resource: "{ARN}"}}
"""


def problems(root: Path, spec: str, saga: str) -> list[str]:
    (root / "configs" / "sagas").mkdir(parents=True, exist_ok=True)
    (root / "configs" / "shop.yaml").write_text(spec)
    (root / "configs" / "sagas" / "shop.yaml").write_text(saga)
    try:
        load_spec(root / "configs" / "shop.yaml", root=root)
    except SpecError as exc:
        return [f"{Path(p.file).name}:{p.line}:{p.column} {p.path}: {p.message}" for p in exc.problems
                if "sagas" in str(p.file)]
    return []


def test_step_and_reply_channels_the_spec_declares_pass(tmp_path: Path) -> None:
    assert problems(tmp_path, SPEC, SAGA) == []


def test_an_unknown_step_channel_is_located_in_the_saga_file(tmp_path: Path) -> None:
    saga = SAGA.replace("channel: payment-commands", "channel: payment-comands")
    assert problems(tmp_path, SPEC, saga) == [
        "shop.yaml:8:5 steps[1].channel: step channel 'payment-comands' is not a channel of the spec; "
        "did you mean 'payment-commands'?"]


def test_the_reply_channel_and_its_default_are_checked(tmp_path: Path) -> None:
    assert problems(tmp_path, SPEC, SAGA.replace("reply_channel: shop-replies", "reply_channel: replies")) == [
        "shop.yaml:2:1 reply_channel: reply channel 'replies' is not a channel of the spec; "
        "did you mean 'shop-replies'?"]
    defaulted = problems(tmp_path, SPEC.replace("  shop-replies: {}\n", ""),
                         SAGA.replace("reply_channel: shop-replies\n", ""))
    assert defaulted == [f"shop.yaml:1:1 saga: default reply channel '{default_reply_channel('Shop')}' is not a "
                         "channel of the spec; expected one of: order-commands, payment-commands"]


def test_a_spec_without_channels_runs_its_saga_on_step_functions_only(tmp_path: Path) -> None:
    spec = SPEC.replace("channels:\n  order-commands: {}\n  payment-commands: {}\n  shop-replies: {}\n", "")
    assert problems(tmp_path, spec, SAGA.replace("order-commands", "nowhere")) == []


@pytest.mark.parametrize("broken", ["steps: 3\n", "saga: [\n"])
def test_a_saga_file_that_does_not_load_adds_no_channel_problem(tmp_path: Path, broken: str) -> None:
    assert problems(tmp_path, SPEC, broken) == []
