"""One participant codebase for both engines: the Participant answers the generated state machine's task tokens
on moto's Step Functions server (SendTaskSuccess / SendTaskFailure / SendTaskHeartbeat), deduplicated per
(execution, step, phase) in its SQLite database."""

from __future__ import annotations

import json
import time
from pathlib import Path

import boto3
import pytest
import requests

from edakit.saga import parse_saga, to_asl
from edakit.saga.worker import Participant, StepFailed, connect_sqlite

ACCOUNT, REGION = "123456789012", "eu-west-1"
SAGA = f"""
saga: Fulfilment
defaults:
  timeout_seconds: 30
  retry: {{max_attempts: 0}}
steps:
  - name: Reserve
    action: {{service: sqs, resource: "arn:aws:sqs:{REGION}:{ACCOUNT}:sfnw-reserve"}}
    compensation: {{service: sqs, resource: "arn:aws:sqs:{REGION}:{ACCOUNT}:sfnw-release"}}
  - name: Charge
    action: {{service: sqs, resource: "arn:aws:sqs:{REGION}:{ACCOUNT}:sfnw-charge", heartbeat_seconds: 1}}
"""
QUEUES = ("sfnw-reserve", "sfnw-release", "sfnw-charge")


@pytest.fixture
def aws(moto_url: str, monkeypatch: pytest.MonkeyPatch):
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_DEFAULT_REGION": REGION}.items():
        monkeypatch.setenv(name, value)
    requests.post(f"{moto_url}/moto-api/config", json={"stepfunctions": {"execute_state_machine": True}}, timeout=5)
    sqs = boto3.client("sqs", endpoint_url=moto_url)
    sfn = boto3.client("stepfunctions", endpoint_url=moto_url)
    urls = {name: sqs.create_queue(QueueName=name)["QueueUrl"] for name in QUEUES}
    machine = sfn.create_state_machine(
        name=f"sfnw-{time.monotonic_ns()}", definition=json.dumps(to_asl(parse_saga(SAGA, "saga.yaml"))),
        roleArn=f"arn:aws:iam::{ACCOUNT}:role/fulfilment")["stateMachineArn"]
    return sqs, sfn, urls, machine


def run(aws, tmp_path: Path, decline: bool) -> tuple[dict, list[tuple[str, str]], list]:
    sqs, sfn, urls, machine = aws
    effects: list[tuple[str, str]] = []

    def handle(command, tx):
        if command.step == "Charge":
            time.sleep(1.6)  # longer than HeartbeatSeconds: only the heartbeats keep the task alive
            if decline:
                raise StepFailed("Declined", "card declined")
        effects.append((command.step, command.phase))
        return {"done": command.step}

    participant = Participant("shop", connect_sqlite(str(tmp_path / "shop.sqlite3")), handle)
    participant.create_schema()
    execution = sfn.start_execution(stateMachineArn=machine, input=json.dumps({"order_id": "o-1"}))["executionArn"]
    answers = []
    deadline = time.monotonic() + 20
    while (status := sfn.describe_execution(executionArn=execution))["status"] == "RUNNING":
        assert time.monotonic() < deadline
        for url in urls.values():
            for message in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
                body = json.loads(message["Body"])
                answers.append(participant.answer_task_token(sfn, body, heartbeat_seconds=0.4))
                if body["step"] == "Reserve" and body["phase"] == "action":  # a redelivery of the same envelope
                    answers.append(participant.answer_task_token(sfn, body))
                sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        time.sleep(0.05)
    return status, effects, answers


def test_task_tokens_are_answered_once_per_step_and_heartbeats_keep_a_slow_step(aws, tmp_path: Path) -> None:
    status, effects, answers = run(aws, tmp_path, decline=False)
    assert status["status"] == "SUCCEEDED", status
    assert effects == [("Reserve", "action"), ("Charge", "action")]  # the redelivered Reserve ran once
    assert [a.duplicate for a in answers] == [False, True, False]
    assert json.loads(status["output"])["results"]["Charge"] == {"output": {"done": "Charge"}}


def test_a_step_failure_is_sent_as_task_failure_and_compensates(aws, tmp_path: Path) -> None:
    status, effects, answers = run(aws, tmp_path, decline=True)
    assert status["status"] == "FAILED" and status["error"] == "SagaFailed"
    assert effects == [("Reserve", "action"), ("Reserve", "compensation")]
    assert answers[2].error == "Declined"
