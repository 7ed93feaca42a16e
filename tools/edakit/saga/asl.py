"""Generate Amazon States Language for a saga: steps in order, a failure compensates completed steps in reverse.

A step whose action timed out (after its retries) is compensated itself first when its `compensate_on` says
"timeout" (the default: its effect may have happened), and after a reported failure when it says "failure".

The saga's `timeout_seconds` is a deadline, kept in JSONPath by three generated states per step, since ASL has no
catchable execution timeout: `SagaClock` (a JSONata Pass at the start) stores the deadline, StartTime + timeout, in
`$.saga_clock`; before each action `Deadline<Step>` (a JSONata Pass) computes the seconds left, and
`Expired<Step>` (a Choice) goes to `TimedOut<Step>`, which records the failure SagaTimedOut and enters the
compensations of the completed steps, when none are left. Otherwise the action's TimeoutSecondsPath is its own
timeout, cut to the seconds left, so an action in flight at the deadline times out then and is compensated by its
compensate_on rule. Compensations are not bounded by the deadline: the execution's own TimeoutSeconds is the
deadline plus the compensations' worst case, a backstop that the CloudWatch alarm on ExecutionsTimedOut watches.
A retry of the action in flight still runs after the deadline (each waits up to the seconds that were left).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .loader import COMPENSATION_PREFIX, load_saga
from .model import Invocation, Saga

SUCCEEDED, FAILED, COMPENSATION_FAILED = "SagaSucceeded", "SagaFailed", "CompensationFailed"
CLOCK, DEADLINE_PREFIX, EXPIRED_PREFIX, TIMED_OUT_PREFIX = "SagaClock", "Deadline", "Expired", "TimedOut"
TIMEOUT_ERRORS = ["States.Timeout", "States.HeartbeatTimeout"]
# A compensation with no timeout of its own is bounded by its service: a Lambda invocation runs 900 s at most.
UNBOUNDED_TASK_SECONDS = 900


def to_asl(saga: Saga) -> dict[str, Any]:
    """The state machine definition as a JSON-ready dict (deterministic order)."""
    states: dict[str, Any] = {}
    deadline = saga.timeout_seconds is not None
    if deadline:
        states[CLOCK] = _clock(saga)
    last_compensable: str | None = None  # the latest step before the current one that has a compensation
    for index, step in enumerate(saga.steps):
        on_failure = COMPENSATION_PREFIX + last_compensable if last_compensable else FAILED
        following = _entry(saga, index + 1) if index + 1 < len(saga.steps) else SUCCEEDED
        own = COMPENSATION_PREFIX + step.name
        catches = []
        if step.compensates_own("timeout"):
            catches.append((TIMEOUT_ERRORS, own))
        catches.append((["States.ALL"], own if step.compensates_own("failure") else on_failure))
        if deadline:
            states.update(_deadline_states(saga, step.name, step.action.timeout_seconds, on_failure))
        states[step.name] = _task(saga, step.name, "action", step.action, following, catches, deadline=deadline)
        if step.compensation:
            last_compensable = step.name
    states[SUCCEEDED] = {"Type": "Succeed"}

    # One chain, newest first: entering it at step N's compensation undoes N, then every earlier step.
    compensable = [step for step in saga.steps if step.compensation]
    for position in range(len(compensable) - 1, -1, -1):
        step = compensable[position]
        following = COMPENSATION_PREFIX + compensable[position - 1].name if position > 0 else FAILED
        states[COMPENSATION_PREFIX + step.name] = _task(
            saga, step.name, "compensation", step.compensation, following, [(["States.ALL"], COMPENSATION_FAILED)]
        )
    states[FAILED] = {"Type": "Fail", "Error": FAILED, "Cause": "A step failed; the completed steps were compensated."}
    states[COMPENSATION_FAILED] = {
        "Type": "Fail",
        "Error": COMPENSATION_FAILED,
        "Cause": "A compensation failed after its retries; the saga needs manual repair.",
    }

    definition: dict[str, Any] = {"Comment": saga.description or saga.name, "StartAt": CLOCK if deadline else _entry(saga, 0)}
    if saga.timeout_seconds is not None:
        definition["TimeoutSeconds"] = saga.timeout_seconds + compensation_budget(saga)
    definition["States"] = states
    return definition


def _entry(saga: Saga, index: int) -> str:
    """The first state of step `index`: its deadline check when the saga has a timeout, else its action."""
    name = saga.steps[index].name
    return DEADLINE_PREFIX + name if saga.timeout_seconds is not None else name


def compensation_budget(saga: Saga) -> int:
    """Seconds every compensation may take at worst (each attempt to its timeout, each retry interval)."""
    total = 0.0
    for step in saga.steps:
        if step.compensation is None:
            continue
        invocation, attempts = step.compensation, step.compensation.retry.max_attempts + 1
        total += attempts * (invocation.timeout_seconds or UNBOUNDED_TASK_SECONDS)
        total += sum(invocation.retry.interval_seconds * invocation.retry.backoff_rate ** n
                     for n in range(invocation.retry.max_attempts))
    return int(total) + 1


def _clock(saga: Saga) -> dict[str, Any]:
    deadline_ms = saga.timeout_seconds * 1000  # type: ignore[operator]
    return {
        "Type": "Pass", "QueryLanguage": "JSONata",
        "Comment": "The saga's deadline: the execution's start plus timeout_seconds, in epoch milliseconds.",
        "Output": "{% $merge([$states.input, {'saga_clock': {'deadline_ms': "
                  f"$toMillis($states.context.Execution.StartTime) + {deadline_ms}}}}}]) %}}",
        "Next": _entry(saga, 0),
    }


def _deadline_states(saga: Saga, step: str, timeout: int | None, on_expiry: str) -> dict[str, Any]:
    """Before an action: the seconds left until the deadline, a Choice on them, and the SagaTimedOut record."""
    cap = f"$min([{timeout}, $left])" if timeout is not None else "$left"
    return {
        DEADLINE_PREFIX + step: {
            "Type": "Pass", "QueryLanguage": "JSONata",
            "Output": "{% ($left := $ceil(($states.input.saga_clock.deadline_ms - "
                      "$toMillis($states.context.State.EnteredTime)) / 1000); "
                      "$merge([$states.input, {'saga_clock': $merge([$states.input.saga_clock, "
                      f"{{'expired': $left <= 0, 'timeout_seconds': $max([1, {cap}])}}])}}])) %}}",
            "Next": EXPIRED_PREFIX + step,
        },
        EXPIRED_PREFIX + step: {
            "Type": "Choice",
            "Choices": [{"Variable": "$.saga_clock.expired", "BooleanEquals": True, "Next": TIMED_OUT_PREFIX + step}],
            "Default": step,
        },
        TIMED_OUT_PREFIX + step: {
            "Type": "Pass",
            "Result": {"Error": "SagaTimedOut", "Cause": f"the saga did not finish within {saga.timeout_seconds} s"},
            "ResultPath": "$.failure",
            "Next": on_expiry,
        },
    }


def render_asl(path: str | Path) -> str:
    """Load a saga file and return its ASL as the JSON text the Terraform module's `definition` takes."""
    return json.dumps(to_asl(load_saga(path)), indent=2) + "\n"


def _task(
    saga: Saga, step: str, phase: str, invocation: Invocation, following: str,
    catches: list[tuple[list[str], str]], *, deadline: bool = False
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
    if deadline:
        state["TimeoutSecondsPath"] = "$.saga_clock.timeout_seconds"
    elif invocation.timeout_seconds is not None:
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
    state["Catch"] = [{"ErrorEquals": errors, "ResultPath": error_path, "Next": target} for errors, target in catches]
    state["Next"] = following
    return state


def queue_url(queue_arn: str) -> str:
    """SQS SendMessage takes the queue URL; the saga file names queues by ARN like every other resource."""
    _, partition, _, region, account, name = queue_arn.split(":", 5)
    domain = "amazonaws.com.cn" if partition == "aws-cn" else "amazonaws.com"
    return f"https://sqs.{region}.{domain}/{account}/{name}"
