"""Load a saga YAML file: YAML syntax, then its JSON Schema, then cross-checks; every problem located.

YAML positions, problems and suggestions are the spec loader's (edakit.spec): a saga file reports like a spec.
"""

from __future__ import annotations

import json
import re
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any

import jsonschema

from edakit.spec import limits
from edakit.spec.errors import Problem, SpecError
from edakit.spec.schema import did_you_mean
from edakit.spec.source import Document, parse

from .model import Invocation, Retry, Saga, Step

# Package data, like the spec's schema: a symlink to configs/saga.schema.json in the repository (tests/packaging).
SCHEMA_PATH = files("edakit.saga") / "saga.schema.json"

# AWS's recommended retriable Lambda errors; business failures raised by the function are not among them.
LAMBDA_TRANSIENT_ERRORS = (
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
    "Lambda.TooManyRequestsException",
)
# A callback worker that never answered is retried by resending the command (workers are idempotent).
CALLBACK_TRANSIENT_ERRORS = ("States.Timeout",)
BUILTIN_RETRY = {"max_attempts": 2, "interval_seconds": 1, "backoff_rate": 2.0}

# State names the generator adds next to the steps' own.
RESERVED_STATE_NAMES = ("SagaSucceeded", "SagaFailed", "CompensationFailed", "SagaClock")
# Prefixes of the states generated per step (compensation; the deadline check when the saga has a timeout).
GENERATED_PREFIXES = ("Compensate", "Deadline", "Expired", "TimedOut")
COMPENSATION_PREFIX = "Compensate"
DEFAULT_COMPENSATE_ON = ["timeout"]
EXPECTED_DOCUMENT = "expected a mapping with keys saga and steps"


class SagaError(SpecError):
    """Every problem found in one saga file, sorted by position."""


@cache
def _validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(json.loads(SCHEMA_PATH.read_text(encoding="utf-8")))


def load_saga(path: str | Path) -> Saga:
    """Read, parse and validate a saga file; raise SagaError listing every problem with file:line:column."""
    text, problems = limits.read_text(path, max_bytes=limits.MAX_SAGA_BYTES, what="saga definition")
    if text is None:
        raise SagaError(problems)
    return parse_saga(text, str(path))


def parse_saga(text: str, source: str) -> Saga:
    """Validate saga YAML text; source names it in the problems reported. The text is held to the limits of
    edakit.spec.limits (size, nesting, alias expansion) like a saga file."""
    if all(not line.strip() or line.lstrip().startswith("#") for line in text.splitlines()):
        raise SagaError([Problem(source, 1, 1, "(root)", f"the file is empty; {EXPECTED_DOCUMENT}")])
    document, problems = parse(text, source, what="saga definition", max_bytes=limits.MAX_SAGA_BYTES)
    if not problems and not isinstance(document.data, dict):
        problems = [Problem(source, 1, 1, "(root)", EXPECTED_DOCUMENT)]
    if not problems:
        problems = _schema_problems(document) or _cross_check_problems(document)
    if problems:
        raise SagaError(problems)
    return _build(document.data)


def _schema_problems(document: Document) -> list[Problem]:
    problems = []
    for error in _validator().iter_errors(document.data):
        path = tuple(error.absolute_path)
        if error.validator == "additionalProperties":
            allowed = list(error.schema.get("properties", {}))
            problems += [
                document.problem((*path, key), f"unknown key '{key}'{did_you_mean(key, allowed)}")
                for key in error.instance
                if key not in allowed
            ]
        elif error.validator == "required":
            # jsonschema reports each missing key as its own error, naming it in the message.
            missing = next(k for k in error.validator_value if k not in error.instance and repr(k) in error.message)
            problems.append(document.problem(path, f"missing required key '{missing}'"))
        elif error.validator == "pattern" and "description" in error.schema:
            problems.append(document.problem(path, f"{error.instance!r} is not valid: {error.schema['description']}"))
        else:
            problems.append(document.problem(path, error.message))
    return problems


def _cross_check_problems(document: Document) -> list[Problem]:
    data = document.data
    problems = []

    def report(path: tuple[Any, ...], message: str) -> None:
        problems.append(document.problem(path, message))

    defaults = data.get("defaults", {})
    steps = data["steps"]
    generated = {*RESERVED_STATE_NAMES, *(prefix + step["name"] for step in steps for prefix in GENERATED_PREFIXES)}
    last = len(steps) - 1
    if "compensation" in steps[last] and not steps[last].get("compensate_on", DEFAULT_COMPENSATE_ON):
        report(("steps", last, "compensation"), "the last step's compensation never runs: once the last step succeeds "
               "the saga is complete, and its compensate_on is empty; remove it or set compensate_on")
    with_channel = [index for index, step in enumerate(steps) if "channel" in step]
    if with_channel:
        for index, step in enumerate(steps):
            if "channel" not in step:
                report(("steps", index), "missing required key 'channel': the Python orchestrator sends every "
                       "step's commands to a kit channel, and another step names one")
        reply = data.get("reply_channel", default_reply_channel(data["saga"]))
        for index in with_channel:
            if steps[index]["channel"] == reply:
                report(("steps", index, "channel"), f"channel {reply!r} is the saga's reply channel; "
                       "commands and replies need channels of their own")
    seen: set[str] = set()
    for index, step in enumerate(steps):
        if step["name"] in seen:
            report(("steps", index, "name"), f"duplicate step name {step['name']!r}; step names must be unique")
        if step["name"] in generated:
            report(("steps", index, "name"),
                   f"{step['name']!r} collides with a state name the generator adds; rename the step")
        seen.add(step["name"])
        for role in ("action", "compensation"):
            if role in step:
                for where, message in _invocation_problems(step[role], defaults):
                    report(("steps", index, role, *where), message)
    return problems


def _invocation_problems(invocation: dict[str, Any], defaults: dict[str, Any]) -> list[tuple[list[str], str]]:
    problems = []
    service = invocation["service"]
    arn_service = invocation["resource"].split(":")[2]
    if arn_service != service:
        problems.append((["resource"], f"service is {service} but the ARN is of {arn_service}; "
                                       f"expected arn:aws:{service}:..."))
    if service == "lambda" and ":function:" not in invocation["resource"]:
        problems.append((["resource"], "expected a Lambda function ARN (arn:aws:lambda:REGION:ACCOUNT:function:NAME)"))
    callback = _callback(invocation)
    if service != "lambda" and not callback:
        problems.append((["callback"], f"{service} cannot report an outcome by itself: "
                                       f"a {service} step must be a callback (callback: true)"))
    timeout = invocation.get("timeout_seconds", defaults.get("timeout_seconds"))
    if callback and timeout is None:
        problems.append((["service"], "a callback waits for the worker's answer: "
                                      "set timeout_seconds here or in defaults"))
    heartbeat = invocation.get("heartbeat_seconds")
    if heartbeat is not None and not callback:
        problems.append((["heartbeat_seconds"], "heartbeat_seconds applies only to callbacks (callback: true)"))
    if heartbeat is not None and timeout is not None and heartbeat >= timeout:
        problems.append((["heartbeat_seconds"],
                         f"heartbeat_seconds ({heartbeat}) must be less than timeout_seconds ({timeout})"))
    return problems


def default_reply_channel(saga: str) -> str:
    """OrderFulfilment -> order-fulfilment-replies: a kit channel name derived from the saga's PascalCase name."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "-", saga).lower() + "-replies"


def _callback(invocation: dict[str, Any]) -> bool:
    return bool(invocation.get("callback", invocation["service"] != "lambda"))


def _build(document: dict[str, Any]) -> Saga:
    defaults = document.get("defaults", {})

    def invocation(raw: dict[str, Any]) -> Invocation:
        callback = _callback(raw)
        retry = {**BUILTIN_RETRY, **defaults.get("retry", {}), **raw.get("retry", {})}
        errors = retry.get("errors") or (CALLBACK_TRANSIENT_ERRORS if callback else LAMBDA_TRANSIENT_ERRORS)
        return Invocation(
            service=raw["service"],
            resource=raw["resource"],
            callback=callback,
            timeout_seconds=raw.get("timeout_seconds", defaults.get("timeout_seconds")),
            heartbeat_seconds=raw.get("heartbeat_seconds"),
            retry=Retry(
                int(retry["max_attempts"]), int(retry["interval_seconds"]), float(retry["backoff_rate"]), tuple(errors)
            ),
        )

    steps = tuple(
        Step(
            name=step["name"],
            description=step.get("description"),
            action=invocation(step["action"]),
            compensation=invocation(step["compensation"]) if "compensation" in step else None,
            channel=step.get("channel"),
            compensate_on=tuple(step.get("compensate_on", DEFAULT_COMPENSATE_ON)),
        )
        for step in document["steps"]
    )
    reply_channel = document.get("reply_channel", default_reply_channel(document["saga"]))
    return Saga(document["saga"], document.get("description"), document.get("timeout_seconds"), steps, reply_channel)
