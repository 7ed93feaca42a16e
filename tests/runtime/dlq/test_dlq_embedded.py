"""DLQ tooling on the embedded broker: library and `edakit dlq` CLI."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from edakit.cli.dlq import dlq as dlq_cli
from edakit.runtime.adapters.base import DeadLetterReason
from edakit.runtime.dlq import DeadLetter, DeadLetterQueue, Selection
from edakit.runtime.adapters.urls import BrokerUrlError, open_broker
from edakit.runtime.message import Message

T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)


def dead_letter_all(embedded, messages: list[Message], errors: list[str]) -> None:
    """Publish to orders and dead-letter each from group billing with the given error type."""
    sub = embedded.subscriber("orders", "billing")
    embedded.publisher().publish("orders", messages)
    deliveries = sub.receive(len(messages), timeout=1)
    assert len(deliveries) == len(messages)
    for i, (delivery, error) in enumerate(zip(deliveries, errors, strict=True)):
        delivery.dead_letter(DeadLetterReason(error, f"boom {i}", 3, T0 + timedelta(hours=i),
                                              T0 + timedelta(hours=i, minutes=5), "orders"))


@pytest.fixture
def stocked(embedded):
    messages = [Message.new(t, json.dumps({"i": i}).encode(), source="/orders")
                for i, t in enumerate(["OrderPlaced", "OrderPlaced", "OrderCancelled"])]
    dead_letter_all(embedded, messages, ["ValueError", "TimeoutError", "ValueError"])
    return messages


def test_list_filters_and_leaves_everything_in_place(embedded, stocked):
    q = DeadLetterQueue(embedded, "orders", "billing", wait=0.2)
    assert [x.message for x in q.list()] == stocked
    assert [x.message for x in q.list(Selection(error_type="Value*"))] == [stocked[0], stocked[2]]
    assert [x.message for x in q.list(Selection(event_type="OrderPlaced", error_type="ValueError"))] == [stocked[0]]
    assert [x.message for x in q.list(Selection(failed_after=T0 + timedelta(hours=1)))] == stocked[1:]
    assert [x.message for x in q.list(Selection(event_ids=frozenset({stocked[1].id})))] == [stocked[1]]
    letter = q.list()[0]
    assert (letter.reason.error_message, letter.reason.attempts, letter.reason.original_source) == ("boom 0", 3, "orders")
    assert len(q.list()) == 3  # listing twice changes nothing


def test_replay_sends_the_same_event_back_and_removes_only_the_selected(embedded, stocked):
    q = DeadLetterQueue(embedded, "orders", "billing", wait=0.2)
    dry = q.replay(Selection(error_type="ValueError"), dry_run=True)
    assert [x.message.id for x in dry.done] == [stocked[0].id, stocked[2].id] and dry.kept == 1
    assert len(q.list()) == 3
    assert embedded.subscriber("orders", "billing").receive(10, timeout=0.2) == []

    done = q.replay(Selection(error_type="ValueError"))
    assert [x.message.id for x in done.done] == [stocked[0].id, stocked[2].id] and not done.failed
    replayed = embedded.subscriber("orders", "billing").receive(10, timeout=0.5)
    assert [d.message for d in replayed] == [stocked[0], stocked[2]]  # same ids, same content
    assert [x.message for x in q.list()] == [stocked[1]]


def test_purge_with_dry_run_then_for_real(embedded, stocked):
    q = DeadLetterQueue(embedded, "orders", "billing", wait=0.2)
    assert len(q.purge(Selection(event_type="OrderCancelled"), dry_run=True).done) == 1
    assert len(q.list()) == 3
    assert len(q.purge(Selection(event_type="OrderCancelled")).done) == 1
    assert [x.message for x in q.list()] == stocked[:2]
    assert len(q.purge(Selection()).done) == 2
    assert q.list() == []


def test_a_failed_replay_keeps_the_message(embedded, stocked):
    q = DeadLetterQueue(embedded, "orders", "billing", wait=0.2)
    publisher = embedded.publisher
    closed = publisher()
    closed.close()  # a publisher whose connection is gone: every publish fails
    embedded.publisher = lambda: closed
    try:
        outcome = q.replay(Selection(), to="orders")  # to a topic: through the publisher
    finally:
        embedded.publisher = publisher
    assert not outcome.done and len(outcome.failed) == 3
    assert [x.message for x in q.list()] == stocked


@given(types=st.lists(st.sampled_from(["A", "B", "AB"]), min_size=1, max_size=6), pattern=st.sampled_from(["A*", "B", "*"]))
def test_selection_by_type_glob(types, pattern):
    letters = [DeadLetter(Message.new(t, b"", source="/s"), None, "") for t in types]
    chosen = [x.message.type for x in letters if Selection(event_type=pattern).matches(x)]
    expected = {"A*": ["A", "AB"], "B": ["B"], "*": ["A", "B", "AB"]}[pattern]
    assert chosen == [t for t in types if t in expected]
    # Without a recorded reason, error filters never match (nothing to compare against).
    assert not any(Selection(error_type="*").matches(x) for x in letters)


def test_broker_urls_are_checked(tmp_path):
    for url, expected in [("nope", "expected one of"), ("ftp://x", "unknown scheme 'ftp'"),
                          (f"embedded:{tmp_path}/missing.sqlite3", "does not exist"),
                          ("kafka://host", "expected kafka://HOST:PORT")]:
        with pytest.raises(BrokerUrlError, match=expected):
            open_broker(url)


def test_cli_ls_show_replay_purge(embedded, stocked):
    runner = CliRunner()
    base = ["--broker", f"embedded:{embedded.path}", "--topic", "orders", "--group", "billing", "--wait", "0.2"]
    result = runner.invoke(dlq_cli, ["ls", *base, "--format", "json"])
    assert result.exit_code == 0, result.output
    assert [x["id"] for x in json.loads(result.output)] == [m.id for m in stocked]
    table = runner.invoke(dlq_cli, ["ls", *base, "--error", "TimeoutError"])
    assert table.exit_code == 0 and stocked[1].id in table.output and stocked[0].id not in table.output
    assert "TimeoutError: boom 1" in table.output

    shown = runner.invoke(dlq_cli, ["show", *base, stocked[2].id])
    assert shown.exit_code == 0 and json.loads(shown.output)["payload"] == '{"i": 2}'
    missing = runner.invoke(dlq_cli, ["show", *base, "no-such-id"])
    assert missing.exit_code == 2 and "no dead letter with id 'no-such-id'" in missing.output

    dry = runner.invoke(dlq_cli, ["replay", *base, "--id", stocked[0].id, "--dry-run"])
    assert dry.exit_code == 0 and f"would be replayed: {stocked[0].id}" in dry.output
    assert runner.invoke(dlq_cli, ["replay", *base, "--id", stocked[0].id]).exit_code == 0
    assert [d.message.id for d in embedded.subscriber("orders", "billing").receive(5, timeout=0.3)] == [stocked[0].id]
    assert runner.invoke(dlq_cli, ["purge", *base]).exit_code == 0
    assert json.loads(runner.invoke(dlq_cli, ["ls", *base, "--format", "json"]).output) == []

    bad = runner.invoke(dlq_cli, ["ls", "--broker", "embedded:/nonexistent", "--topic", "t", "--group", "g"])
    assert bad.exit_code == 2 and "does not exist" in bad.output


SECRET = "s3cr3t-Pa55"


def test_a_dsn_in_a_handler_error_never_reaches_the_dlq_or_the_terminal(embedded):
    """Issue 10 item 8: the retry middleware stores the reason redacted; `dlq ls|show` redact what others stored."""
    from edakit.runtime.middleware import RetryPolicy, Router, compose, retry

    sub = embedded.subscriber("orders", "billing")
    first = Message.new("OrderPlaced", b"{}", source="/orders")
    embedded.publisher().publish("orders", [first])

    def handler(delivery):
        raise ConnectionError(f"connection to postgresql://app:{SECRET}@db:5432/orders failed; "
                              f"conninfo host=db password={SECRET}")

    assert Router(sub, compose(handler, retry(RetryPolicy(max_attempts=1))), receive_timeout=1).run_once() == 1
    [letter] = DeadLetterQueue(embedded, "orders", "billing", wait=0.2).list()
    assert SECRET not in letter.reason.error_message
    assert letter.reason.error_message == ("connection to postgresql://app:***@db:5432/orders failed; conninfo "
                                           "host=db password=***")

    # stored by something else (an older kit, another producer): redacted when shown
    second = Message.new("OrderPlaced", b"{}", source="/orders")
    embedded.publisher().publish("orders", [second])
    [delivery] = sub.receive(1, timeout=1)
    delivery.dead_letter(DeadLetterReason("OperationalError", f"rediss://:{SECRET}@cache:6380 refused", 1, T0, T0,
                                          "orders"))
    base = ["--broker", f"embedded:{embedded.path}", "--topic", "orders", "--group", "billing", "--wait", "0.2"]
    for args in (["ls", *base], ["ls", *base, "--format", "json"], ["show", *base, second.id]):
        result = CliRunner().invoke(dlq_cli, args)
        assert result.exit_code == 0, result.output
        assert SECRET not in result.output and "rediss://:***@cache:6380 refused" in result.output
