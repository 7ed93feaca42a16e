"""The spec's per-subscriber alert thresholds reach the cloud modules' alarms: `edakit render` writes them as each
module's `alarm_thresholds`, and Terraform plans the alarms with exactly those figures (the kit's offline harness)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from ruamel.yaml import YAML

from edakit.observability.cloud_alarms import MODULE_KEYS, alarm_thresholds, whole_minutes
from edakit.render import render_tfvars
from edakit.spec import load_spec
from edakit.spec.model import AlertThresholds, DlqPolicy, RetryPolicy, Subscriber
from edakit.tfharness import Harness

ROOT = Path(__file__).resolve().parents[2]
MODULES = ROOT / "terraform" / "modules"
# Billing's own thresholds, over the spec-wide ones: 125 s is not whole minutes, so the modules get 180 s.
BILLING_ALERTS = {"lag_messages": 777, "lag_seconds": 95, "dlq_messages": 2, "for_seconds": 125}


@given(st.integers(min_value=0, max_value=86400))
def test_whole_minutes_rounds_up_to_the_next_minute(seconds: int) -> None:
    rounded = whole_minutes(seconds)
    assert rounded % 60 == 0 and seconds <= rounded < seconds + 60


@given(lag=st.integers(1, 10**9), age=st.integers(1, 10**6), dlq=st.integers(0, 10**6), hold=st.integers(0, 86400))
def test_each_module_gets_its_keys_from_the_subscriber_s_alerts(lag: int, age: int, dlq: int, hold: int) -> None:
    subscriber = _subscriber(AlertThresholds(lag, age, dlq, 0.05, hold))
    for module, keys in MODULE_KEYS.items():
        rendered = alarm_thresholds(module, subscriber)
        assert tuple(rendered) == keys
        expected = {"lag_messages": lag, "lag_seconds": age, "dlq_messages": dlq, "for_seconds": whole_minutes(hold)}
        if module.startswith("aws-"):
            expected["for_seconds"] = max(60, expected["for_seconds"])  # CloudWatch evaluates one period at least
        assert rendered == {key: expected[key] for key in keys}


def test_every_module_declares_the_keys_it_is_rendered() -> None:
    """The keys the renderer writes are the ones each module's variables.tf declares in alarm_thresholds."""
    for module, keys in MODULE_KEYS.items():
        text = (MODULES / module / "variables.tf").read_text(encoding="utf-8")
        block = text[text.index("alarm_thresholds = optional(object({"):]
        block = block[:block.index("})")]
        declared = tuple(line.split("=")[0].strip() for line in block.splitlines()[1:] if "=" in line)
        assert sorted(declared) == sorted(keys), module


@pytest.fixture(scope="module")
def harness() -> Harness:
    return Harness(ROOT)


def test_sns_spec_thresholds_reach_the_cloudwatch_alarms(harness: Harness, tmp_path: Path) -> None:
    planned = _plan_with_billing_alerts(harness, tmp_path, "order-events-sns.yaml", "aws-sns-sqs-fanout")
    billing = "orders-sns-prod-order-placed-billing"
    backlog = planned['aws_cloudwatch_metric_alarm.backlog["billing"]']
    assert (backlog["threshold"], backlog["evaluation_periods"], backlog["period"]) == (777, 3, 60)
    assert backlog["dimensions"] == {"QueueName": billing}
    assert planned['aws_cloudwatch_metric_alarm.oldest_message_age["billing"]']["evaluation_periods"] == 3
    assert planned['aws_cloudwatch_metric_alarm.dead_letter_depth["billing"]']["threshold"] == 2
    # A subscriber without alerts of its own keeps the spec-wide defaults.
    assert planned['aws_cloudwatch_metric_alarm.backlog["email"]']["threshold"] == 1000
    assert planned['aws_cloudwatch_metric_alarm.dead_letter_depth["email"]']["threshold"] == 0
    assert backlog["alarm_description"].endswith("Runbook: alerts/README.md#consumerlaghigh")
    widgets = json.loads(planned["aws_cloudwatch_dashboard.this[0]"]["dashboard_body"])["widgets"]
    drawn = {w["properties"]["metrics"][0][3]: w["properties"]["annotations"]["horizontal"][0]["value"]
             for w in widgets if w["properties"].get("annotations", {}).get("horizontal")
             and w["properties"]["metrics"][0][1] == "ApproximateNumberOfMessagesVisible"}
    assert drawn[billing] == 777 and drawn[f"{billing}-dlq"] == 2


def test_pubsub_spec_thresholds_reach_the_alert_policies(harness: Harness, tmp_path: Path) -> None:
    planned = _plan_with_billing_alerts(harness, tmp_path, "order-events-pubsub.yaml", "gcp-pubsub",
                                        vars={"kms_key_name": "projects/orders-platform/locations/europe-west1/"
                                                              "keyRings/orders/cryptoKeys/topics"})
    billing = "orders-pubsub-prod-order-placed-billing"

    def condition(kind: str, name: str = billing) -> dict[str, Any]:
        return planned[f'google_monitoring_alert_policy.{kind}["{name}"]']["conditions"][0]["condition_threshold"][0]

    assert (condition("backlog")["threshold_value"], condition("backlog")["duration"]) == (777, "180s")
    assert (condition("oldest_unacked")["threshold_value"], condition("oldest_unacked")["duration"]) == (95, "180s")
    assert condition("dead_letters")["threshold_value"] == 2
    assert condition("backlog", "orders-pubsub-prod-order-placed-audit")["threshold_value"] == 1000


def _plan_with_billing_alerts(harness: Harness, tmp_path: Path, spec_file: str, module: str,
                              vars: dict[str, str] | None = None) -> dict[str, dict[str, Any]]:
    """Give the spec's billing subscriber alerts of its own, render prod, plan `module` with the rendered tfvars;
    the planned resources' values by address."""
    yaml = YAML()
    data = yaml.load((ROOT / "configs" / spec_file).read_text(encoding="utf-8"))
    data["subscribers"]["billing"]["alerts"] = dict(BILLING_ALERTS)
    spec_path = tmp_path / spec_file
    with spec_path.open("w", encoding="utf-8") as out:
        yaml.dump(data, out)
    rendered = render_tfvars(load_spec(spec_path, "prod", root=ROOT))[module]
    var_file = tmp_path / f"{module}.auto.tfvars.json"
    var_file.write_text(json.dumps(rendered), encoding="utf-8")
    directory = MODULES / module
    assert harness.init(directory).ok
    result = harness.plan(directory, var_files=[var_file], vars=vars)
    assert result.ok, [f"{d.summary}: {d.detail}" for d in result.diagnostics]
    return {change["address"]: change["change"]["after"] for change in result.data["resource_changes"]}


def _subscriber(alerts: AlertThresholds) -> Subscriber:
    return Subscriber(name="billing", channel="c", filter=None, retry=RetryPolicy(1, 2, 60),
                      dlq=DlqPolicy(True, 5, 24), parallelism=1, queue=None, consumer_group=None, event_grid=None,
                      pubsub=None, eventbridge=None, principals=(), description=None, alerts=alerts)
