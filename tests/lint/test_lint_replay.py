"""EDA018: the idempotency window against every redelivery source, module defaults included."""

from __future__ import annotations

from pathlib import Path

import pytest

from edakit.lint import lint_paths

SPEC = """\
name: fx-replay
broker: sqs-sns
sqs_sns:
  region: eu-west-1
consumer:
  idempotency_window_hours: {window}
events:
  OrderPlaced:
    schema: schemas/order-events/v1/order-placed.avsc
    version: 1
channels:
  orders:
    events: [OrderPlaced]
subscribers:
  billing:
    channel: orders
"""


def findings(tmp_path: Path, window: int) -> list[str]:
    (tmp_path / "schemas").symlink_to(Path(__file__).parents[2] / "schemas")
    spec = tmp_path / "spec.yaml"
    spec.write_text(SPEC.format(window=window), encoding="utf-8")
    return [f.message for f in lint_paths([spec]) if f.rule_id == "EDA018"]


@pytest.mark.parametrize(("window", "fires"), [(24, True), (335, True), (336, False)])
def test_the_module_default_dlq_retention_counts_when_the_spec_says_none(tmp_path: Path, window: int,
                                                                         fires: bool) -> None:
    # the fan-out module keeps dead letters 1209600 s (336 h) unless told otherwise
    messages = findings(tmp_path, window)
    assert bool(messages) is fires
    if fires:
        assert messages == [f"subscriber 'billing' can be redelivered events 336 h old by a redrive of its DLQ, "
                            f"longer than consumer.idempotency_window_hours ({window}); raise "
                            "consumer.idempotency_window_hours to at least 336, or waive it with "
                            "`# edakit: ignore[EDA018] reason: ...`"]
