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


def dispatched(d: Deployment, saga_id: str) -> list[tuple[str, str, int]]:
    from edakit.saga.store import history
    return [(t.step, t.phase, t.attempt) for t in history(d.saga_db, saga_id) if t.event == "dispatched"]


def test_a_timed_out_action_is_retried_then_compensated_itself_by_default(tmp_path: Path) -> None:
    d = Deployment(tmp_path, saga_yaml(), script(Charge_action=["silent"]))
    saga_id = d.start()
    d.pump()
    assert d.state(saga_id) == "Failed"
    # States.Timeout is a callback's default retryable error: 2 retries, 30 s each, then the charge is refunded.
    assert dispatched(d, saga_id) == [("Reserve", "action", 1), ("Charge", "action", 1), ("Charge", "action", 2),
                                      ("Charge", "action", 3), ("Charge", "compensation", 1),
                                      ("Reserve", "compensation", 1)]
    # The participant applied the charge once: the resent commands were duplicates of (saga, Charge, action).
    assert [e[:2] for e in d.effects()].count(("Charge", "action")) == 1
    assert d.events(saga_id).count("timed_out") == 3


def test_compensate_on_empty_leaves_a_timed_out_action_alone(tmp_path: Path) -> None:
    d = Deployment(tmp_path, saga_yaml(max_attempts=0, compensate_on="compensate_on: []"),
                   script(Charge_action=["silent"]))
    saga_id = d.start()
    d.pump()
    assert dispatched(d, saga_id)[-1] == ("Reserve", "compensation", 1)
    assert ("Charge", "compensation", 1) not in dispatched(d, saga_id)


def test_compensate_on_failure_undoes_a_failed_action_too(tmp_path: Path) -> None:
    d = Deployment(tmp_path, saga_yaml(compensate_on="compensate_on: [failure, timeout]"),
                   script(Charge_action=[("fail", "Declined")]))
    saga_id = d.start()
    d.pump()
    assert dispatched(d, saga_id)[-2:] == [("Charge", "compensation", 1), ("Reserve", "compensation", 1)]


def test_a_compensation_failing_once_is_retried_and_the_saga_ends_failed(tmp_path: Path) -> None:
    d = Deployment(tmp_path, saga_yaml(errors=', errors: ["States.ALL"]'),
                   script(Ship_action=[("fail", "X")], Charge_compensation=[("fail", "Glitch"), "ok"]))
    saga_id = d.start()
    d.pump()
    assert d.state(saga_id) == "Failed"
    assert dispatched(d, saga_id)[-4:] == [("Ship", "action", 3), ("Charge", "compensation", 1),
                                           ("Charge", "compensation", 2), ("Reserve", "compensation", 1)]


def test_a_compensation_failing_for_good_waits_for_a_person_then_retry_finishes_it(tmp_path: Path) -> None:
    broken = {"on": True}

    def behaviour(command):
        if (command.step, command.phase) == ("Ship", "action"):
            return ("fail", "Declined")
        if (command.step, command.phase) == ("Charge", "compensation") and broken["on"]:
            return ("fail", "RefundRejected")
        return "ok"

    d = Deployment(tmp_path, saga_yaml(), behaviour)
    saga_id = d.start()
    d.pump()
    assert d.state(saga_id) == "CompensationFailed"  # RefundRejected is not retryable (errors: States.Timeout)
    assert ("Reserve", "compensation", 1) not in dispatched(d, saga_id)
    broken["on"] = False  # the fix
    d.orchestrator.retry_compensation(saga_id)
    d.pump()
    assert d.state(saga_id) == "Failed"
    assert dispatched(d, saga_id)[-2:] == [("Charge", "compensation", 1), ("Reserve", "compensation", 1)]
    with pytest.raises(ValueError, match="is Failed; retry applies to CompensationFailed sagas only"):
        d.orchestrator.retry_compensation(saga_id)
    with pytest.raises(LookupError, match="no Trial saga with id 'nope'"):
        d.orchestrator.retry_compensation("nope")


def test_the_saga_timeout_compensates_the_completed_steps_and_the_step_in_flight(tmp_path: Path) -> None:
    d = Deployment(tmp_path, saga_yaml(timeout="timeout_seconds: 45"), script(Charge_action=["silent"]))
    saga_id = d.start()
    d.pump()
    assert d.state(saga_id) == "Failed"
    assert "saga_timed_out" in d.events(saga_id)
    # Charge attempt 1 timed out at 30 s, attempt 2 was in flight at 45 s: no attempt 3, Charge refunded.
    assert dispatched(d, saga_id) == [("Reserve", "action", 1), ("Charge", "action", 1), ("Charge", "action", 2),
                                      ("Charge", "compensation", 1), ("Reserve", "compensation", 1)]
    from edakit.saga.store import get_instance
    assert get_instance(d.saga_db, saga_id).data["failure"]["Error"] == "SagaTimedOut"


def test_abort_compensates_a_running_saga(tmp_path: Path) -> None:
    d = Deployment(tmp_path, saga_yaml(), script(Charge_action=["silent"]))
    saga_id = d.start()
    for _ in range(3):
        d.step_once()
    d.orchestrator.abort(saga_id)
    d.pump()
    assert d.state(saga_id) == "Failed"
    assert dispatched(d, saga_id)[-2:] == [("Charge", "compensation", 1), ("Reserve", "compensation", 1)]


def test_duplicate_and_late_replies_are_ignored_and_recorded(tmp_path: Path) -> None:
    from edakit.runtime.message import Message
    from edakit.saga.protocol import parse_command, reply_payload, Command

    d = Deployment(tmp_path, saga_yaml())
    saga_id = d.start()
    d.pump()
    reply_channel = d.saga.reply_channel
    # A late reply: for the Ship command, after the saga ended; and the same message published twice.
    late = Command("Trial", saga_id, "Ship", "action", 1, "an-old-command", {}, reply_channel)
    message = Message.new("edakit.saga.reply", reply_payload(late, "succeeded", output={}), source="/test")
    d.broker.publisher().publish(reply_channel, [message, message])
    d.pump()
    events = d.events(saga_id)
    assert events.count("late_reply_ignored") == 1 and events.count("duplicate_reply_ignored") == 1
    assert d.state(saga_id) == "Succeeded"


def test_a_malformed_reply_goes_to_the_dead_letter_queue(tmp_path: Path) -> None:
    from edakit.runtime.message import Message

    d = Deployment(tmp_path, saga_yaml())
    d.broker.publisher().publish(d.saga.reply_channel, [Message.new("edakit.saga.reply", b"[1]", source="/t")])
    d.step_once()
    dead = d.broker.dead_letter_subscriber(d.saga.reply_channel, f"{d.saga.reply_channel}-orchestrator")
    [delivery] = dead.receive(10, 0.1)
    assert delivery.message.payload == b"[1]"


def test_a_missed_heartbeat_times_the_step_out_and_a_heartbeat_postpones_it(tmp_path: Path) -> None:
    yaml = saga_yaml(max_attempts=0).replace(
        '''action: {service: sqs, resource: "arn:aws:sqs:eu-west-1:123456789012:charge"}''',
        '''action: {service: sqs, resource: "arn:aws:sqs:eu-west-1:123456789012:charge", heartbeat_seconds: 5}''')
    d = Deployment(tmp_path, yaml, script(Charge_action=["silent"]))
    saga_id = d.start()
    while d.step_once():
        pass
    from edakit.saga.protocol import parse_command
    from edakit.saga.store import get_instance, history
    instance = get_instance(d.saga_db, saga_id)
    # the participant (still working) sends a heartbeat at 4 s: the deadline moves to 9 s
    from edakit.saga.protocol import Command
    running = Command("Trial", saga_id, "Charge", "action", 1, instance.awaiting, {}, d.saga.reply_channel)
    d.clock.now += 4
    d.participant.heartbeat(running, d.broker.publisher())
    while d.step_once():
        pass
    d.clock.now += 4  # 8 s after dispatch: a timeout without the heartbeat, none with it
    while d.step_once():
        pass
    assert d.state(saga_id) == "Running"
    d.pump()
    timed_out = [t for t in history(d.saga_db, saga_id) if t.event == "timed_out"]
    assert [(t.step, t.detail["error"]) for t in timed_out] == [("Charge", "States.HeartbeatTimeout")]
    assert d.state(saga_id) == "Failed"
