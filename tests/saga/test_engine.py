"""The Python orchestrator against the generated ASL's semantics, on the embedded broker and SQLite.

Each test runs a real deployment (tests/saga/saga_harness.py): outbox, relays, broker, participants with their
idempotency records, the orchestrator's reply subscriber; only the clock is the test's.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from saga_harness import Deployment

ARN = "arn:aws:sqs:eu-west-1:123456789012:{}"


def saga_yaml(max_attempts: int = 2, errors: str = "", compensate_on: str = "", timeout: str = "") -> str:
    retry = f"{{max_attempts: {max_attempts}, interval_seconds: 2, backoff_rate: 2.0{errors}}}"
    return f"""
saga: Trial
{timeout}
defaults:
  timeout_seconds: 30
  retry: {retry}
steps:
  - name: Reserve
    channel: reserve-commands
    action: {{service: sqs, resource: "{ARN.format('reserve')}"}}
    compensation: {{service: sqs, resource: "{ARN.format('release')}"}}
  - name: Charge
    channel: charge-commands
    {compensate_on}
    action: {{service: sqs, resource: "{ARN.format('charge')}"}}
    compensation: {{service: sqs, resource: "{ARN.format('refund')}"}}
  - name: Ship
    channel: ship-commands
    compensate_on: []
    action: {{service: sqs, resource: "{ARN.format('ship')}"}}
"""


def script(**rules):
    """rules: "Step_phase" -> list of behaviours per attempt (the last repeats)."""
    def behaviour(command):
        plan = rules.get(f"{command.step}_{command.phase}", ["ok"])
        return plan[min(command.attempt, len(plan)) - 1]
    return behaviour


def test_all_steps_succeed_and_their_outputs_are_kept(tmp_path: Path) -> None:
    d = Deployment(tmp_path, saga_yaml())
    saga_id = d.start()
    d.pump()
    assert d.state(saga_id) == "Succeeded"
    assert d.calls == [("Reserve", "action", 1), ("Charge", "action", 1), ("Ship", "action", 1)]
    from edakit.saga.store import get_instance
    data = get_instance(d.saga_db, saga_id).data
    assert data["results"]["Charge"] == {"output": {"done": "Charge/action"}}
    assert data["order_id"] == "o-1"


def test_a_declared_failure_is_not_retried_and_compensates_completed_steps_in_reverse(tmp_path: Path) -> None:
    d = Deployment(tmp_path, saga_yaml(), script(Ship_action=[("fail", "Declined")]))
    saga_id = d.start()
    d.pump()
    assert d.state(saga_id) == "Failed"
    assert d.calls == [("Reserve", "action", 1), ("Charge", "action", 1), ("Ship", "action", 1),
                       ("Charge", "compensation", 1), ("Reserve", "compensation", 1)]


def test_retryable_error_is_retried_with_backoff_then_succeeds(tmp_path: Path) -> None:
    d = Deployment(tmp_path, saga_yaml(errors=', errors: ["Busy"]'),
                   script(Charge_action=[("fail", "Busy"), ("fail", "Busy"), "ok"]))
    saga_id = d.start()
    start = d.clock.now
    d.pump()
    assert d.state(saga_id) == "Succeeded"
    assert [c for c in d.calls if c[0] == "Charge"] == [("Charge", "action", 1), ("Charge", "action", 2),
                                                        ("Charge", "action", 3)]
    assert d.clock.now - start == pytest.approx(2 + 4)  # IntervalSeconds 2, BackoffRate 2
