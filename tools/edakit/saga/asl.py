"""Generate Amazon States Language for a saga: steps in order, a failure compensates completed steps in reverse."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .loader import COMPENSATION_PREFIX, load_saga
from .model import Invocation, Saga

SUCCEEDED, FAILED, COMPENSATION_FAILED = "SagaSucceeded", "SagaFailed", "CompensationFailed"


def to_asl(saga: Saga) -> dict[str, Any]:
    """The state machine definition as a JSON-ready dict (deterministic order)."""
    states: dict[str, Any] = {}
    last_compensable: str | None = None  # the latest step before the current one that has a compensation
    for index, step in enumerate(saga.steps):
        on_failure = COMPENSATION_PREFIX + last_compensable if last_compensable else FAILED
        following = saga.steps[index + 1].name if index + 1 < len(saga.steps) else SUCCEEDED
        states[step.name] = _task(saga, step.name, "action", step.action, following, on_failure)
        if step.compensation:
            last_compensable = step.name
    states[SUCCEEDED] = {"Type": "Succeed"}

    # One chain, newest first: entering it at step N's compensation undoes N, then every earlier step.
    compensable = [step for step in saga.steps if step.compensation]
    for position in range(len(compensable) - 1, -1, -1):
        step = compensable[position]
        following = COMPENSATION_PREFIX + compensable[position - 1].name if position > 0 else FAILED
        states[COMPENSATION_PREFIX + step.name] = _task(
            saga, step.name, "compensation", step.compensation, following, COMPENSATION_FAILED
        )
    states[FAILED] = {"Type": "Fail", "Error": FAILED, "Cause": "A step failed; the completed steps were compensated."}
    states[COMPENSATION_FAILED] = {
        "Type": "Fail",
        "Error": COMPENSATION_FAILED,
        "Cause": "A compensation failed after its retries; the saga needs manual repair.",
    }

    definition: dict[str, Any] = {"Comment": saga.description or saga.name, "StartAt": saga.steps[0].name}
    if saga.timeout_seconds is not None:
        definition["TimeoutSeconds"] = saga.timeout_seconds
    definition["States"] = states
    return definition


def render_asl(path: str | Path) -> str:
    """Load a saga file and return its ASL as the JSON text the Terraform module's `definition` takes."""
    return json.dumps(to_asl(load_saga(path)), indent=2) + "\n"


def _task(
    saga: Saga, step: str, phase: str, invocation: Invocation, following: str, on_failure: str
) -> dict[str, Any]:
    """One Task state: the action of a step (phase "action") or its compensation (phase "compensation")."""
    partition = invocation.resource.split(":")[1]
    # What every worker receives, whatever the service: enough to act idempotently and to answer.
    envelope: dict[str, Any] = {
        "saga": saga.name, "step": step, "phase": phase, "execution.$": "$$.Execution.Id", "input.$": "$",
    }
    if invocation.callback:
        envelope["task_token.$"] = "$$.Task.Token"
    suffix = ".waitForTaskToken" if invocation.callback else ""

    if invocation.service == "lambda":
        resource = f"arn:{partition}:states:::lambda:invoke{suffix}"
        parameters: dict[str, Any] = {"FunctionName": invocation.resource, "Payload": envelope}
        # A synchronous invoke returns the SDK response; the function's own result is its Payload.
        selector = {"output.$": "$" if invocation.callback else "$.Payload"}
    elif invocation.service == "sqs":
        resource = f"arn:{partition}:states:::sqs:sendMessage{suffix}"
        parameters = {"QueueUrl": queue_url(invocation.resource), "MessageBody": envelope}
        selector = {"output.$": "$"}
    else:
        resource = f"arn:{partition}:states:::sns:publish{suffix}"
        parameters = {"TopicArn": invocation.resource, "Message": envelope}
        selector = {"output.$": "$"}

    # Results and errors land beside the saga's data, so compensations see what was done and what failed.
    result_path, error_path = (
        (f"$.results.{step}", "$.failure") if phase == "action" else (f"$.compensations.{step}", "$.compensation_failure")
    )
    state: dict[str, Any] = {
        "Type": "Task", "Resource": resource, "Parameters": parameters,
        "ResultSelector": selector, "ResultPath": result_path,
    }
    if invocation.timeout_seconds is not None:
        state["TimeoutSeconds"] = invocation.timeout_seconds
    if invocation.heartbeat_seconds is not None:
        state["HeartbeatSeconds"] = invocation.heartbeat_seconds
    if invocation.retry.max_attempts > 0:
        state["Retry"] = [{
            "ErrorEquals": list(invocation.retry.errors),
            "IntervalSeconds": invocation.retry.interval_seconds,
            "MaxAttempts": invocation.retry.max_attempts,
            "BackoffRate": invocation.retry.backoff_rate,
        }]
    state["Catch"] = [{"ErrorEquals": ["States.ALL"], "ResultPath": error_path, "Next": on_failure}]
    state["Next"] = following
    return state


def queue_url(queue_arn: str) -> str:
    """SQS SendMessage takes the queue URL; the saga file names queues by ARN like every other resource."""
    _, partition, _, region, account, name = queue_arn.split(":", 5)
    domain = "amazonaws.com.cn" if partition == "aws-cn" else "amazonaws.com"
    return f"https://sqs.{region}.{domain}/{account}/{name}"
