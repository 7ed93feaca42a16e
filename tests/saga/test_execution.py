"""The generated ASL runs on a real ASL interpreter (moto's Step Functions, derived from LocalStack's):
callback workers answer through SQS/SNS, and a failure compensates the completed steps in reverse order."""

from __future__ import annotations

import json
import time

import boto3
import pytest
from moto import mock_aws

from edakit.saga import parse_saga, to_asl

ACCOUNT, REGION = "123456789012", "eu-west-1"
SAGA = f"""
saga: Fulfilment
defaults:
  timeout_seconds: 60
  retry: {{max_attempts: 0}}
steps:
  - name: Reserve
    action: {{service: sqs, resource: "arn:aws:sqs:{REGION}:{ACCOUNT}:reserve"}}
    compensation: {{service: sqs, resource: "arn:aws:sqs:{REGION}:{ACCOUNT}:release"}}
  - name: Charge
    action: {{service: sns, resource: "arn:aws:sns:{REGION}:{ACCOUNT}:charge"}}
    compensation: {{service: sqs, resource: "arn:aws:sqs:{REGION}:{ACCOUNT}:refund"}}
  - name: Ship
    action: {{service: sqs, resource: "arn:aws:sqs:{REGION}:{ACCOUNT}:ship"}}
"""
# The SNS step's worker reads the topic through this queue.
WORKER_QUEUES = ("reserve", "release", "charge-worker", "refund", "ship")


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch):
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": REGION}.items():
        monkeypatch.setenv(name, value)
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        sqs, sns = boto3.client("sqs"), boto3.client("sns")
        urls = {name: sqs.create_queue(QueueName=name)["QueueUrl"] for name in WORKER_QUEUES}
        topic = sns.create_topic(Name="charge")["TopicArn"]
        sns.subscribe(
            TopicArn=topic, Protocol="sqs", Endpoint=f"arn:aws:sqs:{REGION}:{ACCOUNT}:charge-worker",
            Attributes={"RawMessageDelivery": "true"},
        )
        yield sqs, boto3.client("stepfunctions"), urls


def run_saga(aws, failing_step: str | None, silent_step: str | None = None,
             saga: str = SAGA) -> tuple[dict, list[tuple[str, str]], list[dict]]:
    """Start the saga and play every worker: each answers success, except the failing step's action (failure) and
    the silent step's action (no answer: its task times out)."""
    sqs, sfn, urls = aws
    machine = sfn.create_state_machine(
        name="fulfilment", definition=json.dumps(to_asl(parse_saga(saga, "saga.yaml"))),
        roleArn=f"arn:aws:iam::{ACCOUNT}:role/fulfilment",
    )["stateMachineArn"]
    execution = sfn.start_execution(stateMachineArn=machine, input=json.dumps({"order_id": "o-1"}))["executionArn"]
    handled, compensation_inputs = [], []
    deadline = time.monotonic() + 20
    while (status := sfn.describe_execution(executionArn=execution))["status"] == "RUNNING":
        assert time.monotonic() < deadline, f"saga still running after {handled}"
        for queue, url in urls.items():
            for message in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
                body = json.loads(message["Body"])
                handled.append((body["step"], body["phase"]))
                if body["phase"] == "compensation":
                    compensation_inputs.append(body["input"])
                if (body["step"], body["phase"]) == (silent_step, "action"):
                    pass  # the charge went through, its answer is lost
                elif (body["step"], body["phase"]) == (failing_step, "action"):
                    sfn.send_task_failure(taskToken=body["task_token"], error="Declined", cause="card declined")
                else:
                    sfn.send_task_success(taskToken=body["task_token"], output=json.dumps({"by": queue}))
                sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        time.sleep(0.05)  # workers poll; the interpreter runs in its own thread
    return status, handled, compensation_inputs


def test_saga_without_failures_succeeds_and_keeps_each_result(aws) -> None:
    status, handled, _ = run_saga(aws, failing_step=None)
    assert status["status"] == "SUCCEEDED"
    assert handled == [("Reserve", "action"), ("Charge", "action"), ("Ship", "action")]
    output = json.loads(status["output"])
    assert output["order_id"] == "o-1"
    assert output["results"] == {"Reserve": {"output": {"by": "reserve"}}, "Charge": {"output": {"by": "charge-worker"}}, "Ship": {"output": {"by": "ship"}}}


@pytest.mark.parametrize(
    ("failing_step", "compensated"),
    [("Reserve", []), ("Charge", ["Reserve"]), ("Ship", ["Charge", "Reserve"])],
)
def test_failed_step_compensates_completed_steps_in_reverse(aws, failing_step: str, compensated: list[str]) -> None:
    status, handled, compensation_inputs = run_saga(aws, failing_step)
    assert status["status"] == "FAILED" and status["error"] == "SagaFailed"
    actions = ["Reserve", "Charge", "Ship"]
    expected = [(step, "action") for step in actions[: actions.index(failing_step) + 1]] + [(step, "compensation") for step in compensated]
    assert handled == expected
    for received in compensation_inputs:
        # Compensations see what failed and what the completed steps returned.
        assert received["failure"]["Error"] == "Declined"
        assert set(received["results"]) == set(actions[: actions.index(failing_step)])


def test_a_timed_out_action_is_compensated_itself_then_the_earlier_steps(aws) -> None:
    # compensate_on defaults to [timeout]: a charge whose answer never came may have gone through, so it is refunded.
    saga = SAGA.replace(
        f'resource: "arn:aws:sns:{REGION}:{ACCOUNT}:charge"}}', f'resource: "arn:aws:sns:{REGION}:{ACCOUNT}:charge", timeout_seconds: 1}}')
    assert saga != SAGA
    status, handled, _ = run_saga(aws, failing_step=None, silent_step="Charge", saga=saga)
    assert status["status"] == "FAILED" and status["error"] == "SagaFailed"
    assert handled == [("Reserve", "action"), ("Charge", "action"), ("Charge", "compensation"), ("Reserve", "compensation")]


def test_moto_does_not_evaluate_jsonata_so_the_saga_deadline_runs_on_aws_only(aws) -> None:
    """A named limit, not a skip: the deadline states are JSONata (moto parses them but has no JSONata engine). The
    deadline's behaviour is covered by the Python engine's tests and the ASL graph test."""
    status, handled, _ = run_saga(aws, failing_step=None, saga="timeout_seconds: 60\n" + SAGA)
    assert (status["status"], status.get("error"), handled) == ("FAILED", "States.Runtime", [])
