"""The messages between the orchestrator and its participants: a command per (step, phase, attempt), a reply each.

A command carries what the generated state machine's Task sends (saga, step, phase, input) plus the saga id, the
attempt and the command id the reply must quote. Replies are untrusted input to the orchestrator: bounded in size
and checked field by field; one that does not parse raises ReplyError (dead-lettered, never retried).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

from .model import Saga

COMMAND_TYPE, REPLY_TYPE = "edakit.saga.command", "edakit.saga.reply"
SUCCEEDED_REPLY, FAILED_REPLY, HEARTBEAT = "succeeded", "failed", "heartbeat"
MAX_REPLY_BYTES = 256 * 1024  # the SQS / Step Functions payload limit: an answer no engine could carry is refused
MAX_NAME = 256
# Reply ids derive from the command id, so a participant that answers one command twice sends one message id.
REPLY_NAMESPACE = uuid.UUID("4f3c1a9e-5d6b-4e8f-9a2b-7c1d0e3f5a6b")


class ReplyError(ValueError):
    """A reply (or command) that is not one: wrong type, too big, a field missing or of the wrong kind."""


class CommandError(ReplyError):
    """A command a participant cannot read."""


@dataclass(frozen=True)
class Command:
    saga: str
    saga_id: str
    step: str
    phase: str  # action | compensation
    attempt: int
    command_id: str
    input: dict[str, Any]  # the saga's data: the start input, results of completed steps, failure when compensating
    reply_to: str


@dataclass(frozen=True)
class Reply:
    saga_id: str
    step: str
    phase: str
    attempt: int
    command_id: str
    status: str  # succeeded | failed | heartbeat
    output: Any = None
    error: str | None = None
    cause: str | None = None


def command_payload(saga: Saga, saga_id: str, step: str, phase: str, attempt: int, command_id: str,
                    data: dict[str, Any]) -> bytes:
    return json.dumps({"saga": saga.name, "saga_id": saga_id, "step": step, "phase": phase, "attempt": attempt,
                       "command_id": command_id, "input": data, "reply_to": saga.reply_channel}).encode()


def reply_payload(command: Command, status: str, *, output: Any = None, error: str | None = None,
                  cause: str | None = None) -> bytes:
    return json.dumps({"saga_id": command.saga_id, "step": command.step, "phase": command.phase,
                       "attempt": command.attempt, "command_id": command.command_id, "status": status,
                       "output": output, "error": error, "cause": cause}).encode()


def reply_id(command: Command, status: str) -> str:
    return str(uuid.uuid5(REPLY_NAMESPACE, f"{command.command_id}/{status}"))


def _document(payload: bytes, error: type[ReplyError], what: str) -> dict[str, Any]:
    if len(payload) > MAX_REPLY_BYTES:
        raise error(f"{what} of {len(payload)} bytes is over the {MAX_REPLY_BYTES}-byte limit")
    try:
        document = json.loads(payload)
    except (ValueError, UnicodeDecodeError) as exc:
        raise error(f"{what} is not JSON: {exc}") from None
    if not isinstance(document, dict):
        raise error(f"{what} must be a JSON object")
    return document


def _text(document: dict[str, Any], key: str, error: type[ReplyError], what: str, *, optional: bool = False) -> Any:
    value = document.get(key)
    if value is None and optional:
        return None
    if not isinstance(value, str) or not value or len(value) > MAX_NAME * 16:
        raise error(f"{what}: '{key}' must be a non-empty string")
    return value


def _attempt(document: dict[str, Any], error: type[ReplyError], what: str) -> int:
    value = document.get("attempt")
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise error(f"{what}: 'attempt' must be an integer >= 1")
    return value


def _phase(document: dict[str, Any], error: type[ReplyError], what: str) -> str:
    phase = document.get("phase")
    if phase not in ("action", "compensation"):
        raise error(f"{what}: 'phase' must be action or compensation")
    return str(phase)


def parse_reply(payload: bytes) -> Reply:
    what = "saga reply"
    document = _document(payload, ReplyError, what)
    status = document.get("status")
    if status not in (SUCCEEDED_REPLY, FAILED_REPLY, HEARTBEAT):
        raise ReplyError(f"{what}: 'status' must be succeeded, failed or heartbeat")
    return Reply(
        saga_id=_text(document, "saga_id", ReplyError, what), step=_text(document, "step", ReplyError, what),
        phase=_phase(document, ReplyError, what), attempt=_attempt(document, ReplyError, what),
        command_id=_text(document, "command_id", ReplyError, what), status=str(status),
        output=document.get("output"), error=_text(document, "error", ReplyError, what, optional=True),
        cause=document.get("cause") if isinstance(document.get("cause"), str) else None,
    )


def parse_command(payload: bytes) -> Command:
    what = "saga command"
    document = _document(payload, CommandError, what)
    data = document.get("input")
    if not isinstance(data, dict):
        raise CommandError(f"{what}: 'input' must be a JSON object")
    return Command(
        saga=_text(document, "saga", CommandError, what), saga_id=_text(document, "saga_id", CommandError, what),
        step=_text(document, "step", CommandError, what), phase=_phase(document, CommandError, what),
        attempt=_attempt(document, CommandError, what), command_id=_text(document, "command_id", CommandError, what),
        input=data, reply_to=_text(document, "reply_to", CommandError, what),
    )
