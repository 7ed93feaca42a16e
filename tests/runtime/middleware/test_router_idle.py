"""`Router.run_until_idle` on the embedded broker."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edakit.runtime.adapters.embedded import EmbeddedBroker
from edakit.runtime.message import Message
from edakit.runtime.middleware import RetryPolicy, Router, compose, retry

@settings(max_examples=8, deadline=None)
@given(failures=st.lists(st.integers(0, 2), min_size=0, max_size=5))
def test_run_until_idle_handles_every_delivery_and_its_retries(tmp_path_factory, failures: list[int]):
    """`failures[i]`: how many times message i fails before it succeeds; the count includes the redeliveries."""
    broker = EmbeddedBroker(tmp_path_factory.mktemp("b") / "broker.sqlite3")
    router_sub = broker.subscriber("orders", "billing")
    messages = [Message.new("OrderPlaced", str(n).encode(), source="/o") for n in failures]
    if messages:
        broker.publisher().publish("orders", messages)
    done: list[str] = []

    def handler(delivery):
        if delivery.attempt <= int(delivery.message.payload):
            raise ConnectionError("try again")
        done.append(delivery.message.id)

    policy = RetryPolicy(max_attempts=3, base_delay=0.0, max_delay=0.02)
    router = Router(router_sub, compose(handler, retry(policy)), max_messages=2)
    assert router.run_until_idle(idle_timeout=0.1) == sum(n + 1 for n in failures)
    assert sorted(done) == sorted(m.id for m in messages)
    assert router.run_until_idle(idle_timeout=0.05) == 0  # idle: nothing left, not even a pending retry


def test_a_negative_idle_timeout_is_refused(embedded):
    router = Router(embedded.subscriber("orders", "billing"), lambda d: None)
    with pytest.raises(ValueError, match="idle_timeout must be >= 0 seconds, got -1"):
        router.run_until_idle(-1)


@pytest.mark.parametrize("lease_seconds", [0, -5])
def test_a_lease_under_a_second_is_refused(embedded, lease_seconds: int):
    with pytest.raises(ValueError, match=f"lease_seconds must be >= 1 \\(or None\\), got {lease_seconds}"):
        Router(embedded.subscriber("orders", "billing"), lambda d: None, lease_seconds=lease_seconds)
