"""Router, retry/DLQ, tracing and the full chain on the embedded broker."""

from __future__ import annotations

import random
import uuid
from datetime import datetime

import pytest
import redis
from hypothesis import given
from hypothesis import strategies as st

from edakit.runtime.adapters.base import DLQ_REASON_KEY, DeadLetterReason
from edakit.runtime.idempotency import RedisIdempotencyStore, idempotent
from edakit.runtime.message import Message
from edakit.runtime.middleware import (
    RetryPolicy,
    Router,
    compose,
    retry,
    tracing,
)

FAST = RetryPolicy(max_attempts=3, base_delay=0.0, max_delay=0.0)


@given(attempt=st.integers(1, 200), base=st.floats(0, 5), spread=st.floats(0, 100), seed=st.integers())
def test_backoff_is_full_jitter_under_the_capped_exponential(attempt, base, spread, seed):
    policy = RetryPolicy(base_delay=base, max_delay=base + spread)
    delay = policy.delay(attempt, random.Random(seed))
    assert 0 <= delay <= min(base + spread, base * 2 ** (attempt - 1))


def test_backoff_spreads_out():
    delays = [RetryPolicy(base_delay=1, max_delay=100).delay(5, random.Random(s)) for s in range(200)]
    assert min(delays) < 4 < max(delays) <= 16


@given(attempt=st.integers(1, 10), max_attempts=st.integers(1, 10))
def test_retryable_errors_retry_until_max_attempts_and_fatal_ones_never(attempt, max_attempts):
    policy = RetryPolicy(max_attempts=max_attempts, non_retryable=(ValueError,))
    assert policy.should_retry(RuntimeError("x"), attempt) == (attempt < max_attempts)
    assert not policy.should_retry(ValueError("x"), attempt)
    assert not policy.should_retry(KeyboardInterrupt(), attempt)  # not an Exception: never retried


def test_bad_policy_is_named():
    with pytest.raises(ValueError, match="max_attempts must be >= 1"):
        RetryPolicy(max_attempts=0)
    with pytest.raises(ValueError, match="base_delay <= max_delay"):
        RetryPolicy(base_delay=2, max_delay=1)


def test_compose_runs_the_first_middleware_outermost():
    calls: list[str] = []

    def mark(name: str):
        def middleware(next_handler):
            def handle(delivery):
                calls.append(name)
                next_handler(delivery)
            return handle
        return middleware

    compose(lambda d: calls.append("handler"), mark("a"), mark("b"))(None)  # type: ignore[arg-type]
    assert calls == ["a", "b", "handler"]


def publish(embedded, *messages: Message, topic: str = "orders") -> None:
    embedded.publisher().publish(topic, list(messages))


def run_until_idle(router: Router, rounds: int = 50) -> None:
    for _ in range(rounds):
        if not router.run_once():
            return


def test_transient_failures_are_retried_then_acked(embedded):
    sub = embedded.subscriber("orders", "billing")
    attempts: list[int] = []

    def handler(delivery):
        attempts.append(delivery.attempt)
        if delivery.attempt < 3:
            raise ConnectionError("database restarting")

    publish(embedded, Message.new("OrderPlaced", b"{}", source="/orders"))
    run_until_idle(Router(sub, compose(handler, retry(FAST)), receive_timeout=0.2))
    assert attempts == [1, 2, 3]
    assert embedded.dead_letter_subscriber("orders", "billing").receive(1, timeout=0.1) == []


@pytest.mark.parametrize(("error", "attempts"), [(ConnectionError("down"), 3), (ValueError("bad amount"), 1)])
def test_exhausted_or_fatal_errors_are_dead_lettered_with_why(embedded, error, attempts):
    sub = embedded.subscriber("orders", "billing")
    message = Message.new("OrderPlaced", b"{}", source="/orders")
    publish(embedded, message)

    def handler(delivery):
        raise error

    policy = RetryPolicy(max_attempts=3, base_delay=0.0, max_delay=0.0, non_retryable=(ValueError,))
    before = datetime.now().astimezone()
    run_until_idle(Router(sub, compose(handler, retry(policy)), receive_timeout=0.2))
    [dead] = embedded.dead_letter_subscriber("orders", "billing").receive(10, timeout=0.5)
    reason = DeadLetterReason.from_json(dead.metadata[DLQ_REASON_KEY])
    assert dead.message == message
    assert (reason.error_type, reason.error_message, reason.attempts, reason.original_source) == (
        type(error).__qualname__, str(error), attempts, "orders")
    assert before <= reason.first_failure <= reason.last_failure <= datetime.now().astimezone()


def test_without_retry_middleware_a_failure_is_redelivered(embedded):
    sub = embedded.subscriber("orders", "billing")
    seen: list[int] = []

    def handler(delivery):
        seen.append(delivery.attempt)
        if delivery.attempt == 1:
            raise RuntimeError("first time fails")

    publish(embedded, Message.new("OrderPlaced", b"{}", source="/orders"))
    run_until_idle(Router(sub, handler, receive_timeout=0.2))
    assert seen == [1, 2]


@pytest.mark.parametrize("decode_responses", [False, True])
def test_full_chain_tracing_retry_idempotency(embedded, redis_url, decode_responses):
    """Duplicates are skipped; a failed run releases the lease so its retry runs; poison goes to the DLQ. With either
    Redis client setting: a duplicate is never mistaken for a run in progress and dead-lettered."""
    sub = embedded.subscriber("orders", "billing")
    client = redis.Redis.from_url(redis_url, decode_responses=decode_responses)
    store = RedisIdempotencyStore(client, f"billing-{uuid.uuid4().hex}", window_hours=1)
    ok, flaky, poison = (Message.new(t, b"{}", source="/o") for t in ("Ok", "Flaky", "Poison"))
    publish(embedded, ok, flaky, ok, poison, flaky)
    effects: list[str] = []

    def handler(delivery):
        if delivery.message.type == "Poison":
            raise ValueError("cannot parse")
        if delivery.message.type == "Flaky" and delivery.attempt == 1:
            raise TimeoutError("slow dependency")
        effects.append(delivery.message.type)

    chain = compose(handler, tracing(), retry(RetryPolicy(max_attempts=2, base_delay=0, max_delay=0,
                                                          non_retryable=(ValueError,))), idempotent(store))
    run_until_idle(Router(sub, chain, receive_timeout=0.2))
    assert sorted(effects) == ["Flaky", "Ok"]
    [dead] = embedded.dead_letter_subscriber("orders", "billing").receive(10, timeout=0.3)
    assert dead.message.id == poison.id


def test_a_duplicate_arriving_while_another_run_holds_the_lease_is_retried_not_acked(embedded, redis_url):
    sub = embedded.subscriber("orders", "billing")
    store = RedisIdempotencyStore(redis.Redis.from_url(redis_url), f"billing-{uuid.uuid4().hex}", window_hours=1)
    message = Message.new("OrderPlaced", b"{}", source="/o")
    other_run = store.begin(message.id, 30)  # e.g. a consumer in another process, still working on it
    publish(embedded, message)
    attempts: list[int] = []

    def count(next_handler):
        def handle(delivery):
            attempts.append(delivery.attempt)
            if delivery.attempt == 2:
                store.complete(message.id, other_run)  # the other run finishes meanwhile
            next_handler(delivery)
        return handle

    effects: list[str] = []
    chain = compose(lambda d: effects.append(d.message.id), retry(FAST), count, idempotent(store))
    run_until_idle(Router(sub, chain, receive_timeout=0.2))
    assert attempts == [1, 2] and effects == []  # nacked while busy, then skipped once done
    assert embedded.dead_letter_subscriber("orders", "billing").receive(1, timeout=0.1) == []
