"""Two engines, one trace: the same definition on the Python orchestrator and on moto's Step Functions server.

For every failure point — each action failing for good, each action timing out, each compensation failing once
and then succeeding, each compensation failing for good, and the path without failures — with retries enabled
(one retry of every error, 1 s apart; 2 s step timeouts), the ordered (step, phase, attempt) calls and the final status are the
same on both. Size: 1 definition x 11 failure points; all executions run at once on moto (moto really waits
the timeouts and retry intervals). Limits named, not skipped: moto runs Lambda only through Docker, so the
steps are SQS callbacks; moto evaluates no JSONata, so the saga deadline is compared in test_engine.py only; moto
resends a retried callback with its first attempt's task token (MOTO_LIMITS), so "fails once, then succeeds" is
compared by its calls up to that retry, and its end is asserted to be moto's (CompensationFailed) against the
Python engine's (Failed).
"""

from __future__ import annotations

import json
import time
from collections import Counter
from pathlib import Path

import boto3
import pytest
import requests

from edakit.saga import parse_saga, to_asl
from edakit.saga.store import history
from saga_harness import Deployment

ACCOUNT, REGION = "123456789012", "eu-west-1"
STEPS = ("Reserve", "Charge", "Ship")


def definition(prefix: str) -> str:
    arn = f"arn:aws:sqs:{REGION}:{ACCOUNT}:{prefix}"
    return f"""
saga: Differential
defaults:
  timeout_seconds: 2
  retry: {{max_attempts: 1, interval_seconds: 1, backoff_rate: 2.0, errors: ["States.ALL"]}}
steps:
  - name: Reserve
    channel: diff-reserve
    action: {{service: sqs, resource: "{arn}-reserve"}}
    compensation: {{service: sqs, resource: "{arn}-release"}}
  - name: Charge
    channel: diff-charge
    action: {{service: sqs, resource: "{arn}-charge"}}
    compensation: {{service: sqs, resource: "{arn}-refund"}}
  - name: Ship
    channel: diff-ship
    action: {{service: sqs, resource: "{arn}-ship"}}
"""


SCENARIOS = (["none"] + [f"fail:{s}" for s in STEPS] + [f"timeout:{s}" for s in STEPS]
             + [f"compensation_once:{s}" for s in STEPS[:2]] + [f"compensation_always:{s}" for s in STEPS[:2]])


# moto 5.2.5 resends a retried `.waitForTaskToken` task with the task token of its first attempt (AWS gives every
# attempt a new token), so an attempt after a Retry can never be answered and times out: a failure that is
# retried and then succeeds cannot be played on moto: the calls match up to that retry; the end does not.
MOTO_LIMITS = {f"compensation_once:{s}" for s in STEPS[:2]}


def outcome(scenario: str, step: str, phase: str, attempt: int):
    kind, _, target = scenario.partition(":")
    if phase == "action" and step == target and kind == "fail":
        return ("fail", "Boom")
    if phase == "action" and step == target and kind == "timeout":
        return "silent"
    if kind.startswith("compensation") and phase == "action" and step == "Ship":
        return ("fail", "Boom")  # a late failure, so that the compensation runs
    if kind.startswith("compensation") and phase == "compensation" and step == target and (
            kind == "compensation_always" or attempt == 1):
        return ("fail", "Glitch")
    return "ok"


def python_traces(tmp_path: Path) -> dict[str, tuple[list, str]]:
    d = Deployment(tmp_path, definition("py"),
                   lambda c: outcome(c.input["scenario"], c.step, c.phase, c.attempt))
    for scenario in SCENARIOS:
        d.start({"scenario": scenario}, scenario)
    d.pump()
    return {s: ([(t.step, t.phase, t.attempt) for t in history(d.saga_db, s) if t.event == "dispatched"], d.state(s))
            for s in SCENARIOS}


def moto_traces(moto_url: str) -> dict[str, tuple[list, str]]:
    requests.post(f"{moto_url}/moto-api/config", json={"stepfunctions": {"execute_state_machine": True}}, timeout=5)
    sqs = boto3.client("sqs", endpoint_url=moto_url)
    sfn = boto3.client("stepfunctions", endpoint_url=moto_url)
    urls = [sqs.create_queue(QueueName=f"diff-{q}")["QueueUrl"]
            for q in ("reserve", "release", "charge", "refund", "ship")]
    machine = sfn.create_state_machine(
        name=f"differential-{time.monotonic_ns()}", roleArn=f"arn:aws:iam::{ACCOUNT}:role/differential",
        definition=json.dumps(to_asl(parse_saga(definition("diff"), "differential.yaml"))))["stateMachineArn"]
    executions = {sfn.start_execution(stateMachineArn=machine, name=s.replace(":", "-"),
                                      input=json.dumps({"scenario": s}))["executionArn"]: s for s in SCENARIOS}
    answered: set[str] = set()
    stale_tokens: list = []
    late: list = []  # answers that came after the task had timed out: the worker was too slow for the timings
    ends: dict[str, str] = {}
    counts: Counter = Counter()
    running = dict(executions)
    polls = 0
    started = time.monotonic()
    deadline = time.monotonic() + 60
    while running:
        assert time.monotonic() < deadline, f"still running: {sorted(running.values())}"
        for url in urls:
            for message in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
                body = json.loads(message["Body"])
                scenario, step, phase = body["input"]["scenario"], body["step"], body["phase"]
                sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
                if body["task_token"] in answered:
                    # moto's Retry resends the first attempt's token (see MOTO_LIMITS): it cannot be answered
                    stale_tokens.append((scenario, step, phase))
                    continue
                answered.add(body["task_token"])
                counts[scenario, step, phase] += 1
                attempt = counts[scenario, step, phase]
                what = outcome(scenario, step, phase, attempt)
                try:
                    if what == "ok":
                        sfn.send_task_success(taskToken=body["task_token"], output="{}")
                    elif what != "silent":
                        sfn.send_task_failure(taskToken=body["task_token"], error=what[1], cause="scripted")
                except sfn.exceptions.InvalidToken:
                    late.append((scenario, step, phase, attempt, round(time.monotonic() - started, 2)))
        polls += 1
        for arn in list(running) if polls % 5 == 0 else ():  # answering comes first: the tasks time out in 2 s
            status = sfn.describe_execution(executionArn=arn)
            if status["status"] != "RUNNING":
                scenario = running.pop(arn)
                ended = {"SUCCEEDED": "Succeeded"}.get(status["status"])
                ended = ended or {"SagaFailed": "Failed", "CompensationFailed": "CompensationFailed"}.get(
                    status.get("error"), f"{status['status']}/{status.get('error')}")
                ends[scenario] = ended
    assert not late, f"worker too slow for the 2 s timeouts: {late}"
    assert stale_tokens, "moto now sends a retried callback a fresh task token: compare compensation_once too"
    # The order of the calls is the execution history's (the worker reads five queues, not in send order).
    return {s: (scheduled(sfn, arn), ends[s]) for arn, s in executions.items()}


def scheduled(sfn, execution: str) -> list[tuple[str, str, int]]:
    """(step, phase, attempt) of each TaskScheduled event: the task state entered last names step and phase."""
    events = sfn.get_execution_history(executionArn=execution, maxResults=1000)["events"]
    trace, state, counts = [], "", Counter()
    for event in sorted(events, key=lambda e: e["id"]):
        if event["type"] == "TaskStateEntered":
            state = event["stateEnteredEventDetails"]["name"]
        elif event["type"] == "TaskScheduled":
            phase = "compensation" if state.startswith("Compensate") else "action"
            step = state.removeprefix("Compensate")
            counts[step, phase] += 1
            trace.append((step, phase, counts[step, phase]))
    return trace


@pytest.mark.slow
def test_both_engines_make_the_same_calls_and_end_the_same_way(moto_url: str, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_DEFAULT_REGION": REGION}.items():
        monkeypatch.setenv(name, value)
    python, aws = python_traces(tmp_path), moto_traces(moto_url)
    for scenario in SCENARIOS:
        if scenario in MOTO_LIMITS:
            # the named limit: on moto the retried compensation cannot be answered, times out and fails for good
            assert (python[scenario][1], aws[scenario][1]) == ("Failed", "CompensationFailed"), scenario
            calls = aws[scenario][0]
            assert calls[-1][1:] == ("compensation", 2) and python[scenario][0][:len(calls)] == calls, scenario
            continue
        assert python[scenario] == aws[scenario], (scenario, python[scenario], aws[scenario])
    # the comparison is not vacuous: retries, timeouts and every end state occur
    assert python["timeout:Charge"][0] == [("Reserve", "action", 1), ("Charge", "action", 1), ("Charge", "action", 2),
                                           ("Charge", "compensation", 1), ("Reserve", "compensation", 1)]
    assert {state for _, state in python.values()} == {"Succeeded", "Failed", "CompensationFailed"}
