"""Replies and commands are untrusted input: any bytes either parse or raise ReplyError / CommandError (never
another exception); ASL's ErrorEquals matching as the engine applies it."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edakit.saga.engine import error_matches, retry_delay
from edakit.saga.model import Invocation, Retry
from edakit.saga.protocol import (MAX_REPLY_BYTES, Command, CommandError, ReplyError, parse_command, parse_reply,
                                  reply_payload)

JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=8),
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
                    max_leaves=12)
COMMAND = Command("Trial", "s-1", "Charge", "action", 2, "c-1", {"order_id": "o-1"}, "trial-replies")


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200) | JSON.map(lambda v: json.dumps(v).encode()))
def test_any_payload_parses_or_raises_reply_error(payload: bytes) -> None:
    for parse, error in ((parse_reply, ReplyError), (parse_command, CommandError)):
        try:
            parse(payload)
        except error:
            pass


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(["succeeded", "failed", "heartbeat"]), JSON, st.none() | st.text(min_size=1, max_size=20))
def test_a_reply_round_trips(status: str, output, error) -> None:
    reply = parse_reply(reply_payload(COMMAND, status, output=output, error=error, cause="why"))
    assert (reply.saga_id, reply.step, reply.phase, reply.attempt, reply.command_id) == ("s-1", "Charge", "action", 2, "c-1")
    assert (reply.status, reply.output, reply.error) == (status, output, error)


@pytest.mark.parametrize(("change", "message"), [
    ({"status": "done"}, "'status' must be succeeded, failed or heartbeat"),
    ({"attempt": 0}, "'attempt' must be an integer >= 1"),
    ({"attempt": True}, "'attempt' must be an integer >= 1"),
    ({"phase": "undo"}, "'phase' must be action or compensation"),
    ({"saga_id": ""}, "'saga_id' must be a non-empty string"),
])
def test_a_bad_reply_field_is_named(change, message) -> None:
    document = json.loads(reply_payload(COMMAND, "succeeded"))
    with pytest.raises(ReplyError, match=message):
        parse_reply(json.dumps({**document, **change}).encode())


def test_an_oversized_reply_is_refused_before_parsing() -> None:
    with pytest.raises(ReplyError, match=f"over the {MAX_REPLY_BYTES}-byte limit"):
        parse_reply(b" " * (MAX_REPLY_BYTES + 1))


@pytest.mark.parametrize(("errors", "error", "matches"), [
    (("States.ALL",), "Declined", True),
    (("States.ALL",), "States.Timeout", True),
    (("States.TaskFailed",), "Declined", True),
    (("States.TaskFailed",), "States.Timeout", False),  # ASL: TaskFailed matches everything but a timeout
    (("States.TaskFailed",), "States.HeartbeatTimeout", False),
    (("States.Timeout",), "States.HeartbeatTimeout", True),  # a heartbeat timeout is a timeout
    (("States.Timeout",), "Declined", False),
    (("Busy", "Declined"), "Declined", True),
    (("Busy",), "Declined", False),
])
def test_error_equals_follows_asl(errors, error, matches) -> None:
    assert error_matches(errors, error) is matches


def test_retry_delay_is_interval_times_backoff_to_the_retries_done() -> None:
    invocation = Invocation("sqs", "arn:aws:sqs:eu-west-1:123456789012:q", True, 10, None, Retry(3, 2, 3.0, ("X",)))
    assert [retry_delay(invocation, n) for n in range(3)] == [2, 6, 18]
