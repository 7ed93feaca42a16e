"""Pub/Sub publish timeout (issue 11, item 3 for Pub/Sub): one publish call, whatever its size, gives up within the
broker's `publish_timeout` with a PublishError naming the timeout, the topic and how many messages were not
acknowledged; and nothing of a publish that gave up is sent later by the client library's own retries.

Before the fix the publisher waited on each message's future in turn (20 messages: 20 x the timeout, and an empty
error text), and the library, with message ordering enabled, retried each failed batch for ever in the background:
a publish that had failed still reached the topic once the server came back, behind the relay's own retry.
pstest is cut off by a TcpProxy in front of it (the broker's `emulator_host` is the proxy).
"""

from __future__ import annotations

import json
import socket
import time
import uuid
from collections import Counter

import pytest

from edakit.devservers import TcpProxy, free_port, tcp_proxy
from edakit.runtime.adapters.base import PublishError
from edakit.runtime.adapters.pubsub import PubSubBroker
from edakit.runtime.message import Message

TIMEOUT = 1.0  # the publish timeout under test
SLACK = 1.5  # seconds a loaded 2-core machine may add to it
PROJECT = "edakit-timeout"


def messages(count: int, tag: str) -> list[Message]:
    return [Message.new("OrderPlaced", json.dumps({"n": f"{tag}{n}"}).encode(), source="/tests",
                        key=f"o{n % 4}" if n % 2 else None) for n in range(count)]


def fail_publish(broker: PubSubBroker, topic: str, batch: list[Message]) -> tuple[str, float]:
    publisher = broker.publisher()
    started = time.monotonic()
    try:
        with pytest.raises(PublishError) as failure:
            publisher.publish(topic, batch)
        return str(failure.value), time.monotonic() - started
    finally:
        publisher.close()


def test_a_publish_to_a_refused_endpoint_fails_within_its_timeout() -> None:
    broker = PubSubBroker(PROJECT, emulator_host=f"127.0.0.1:{free_port()}", publish_timeout=TIMEOUT)
    error, elapsed = fail_publish(broker, "orders", messages(20, "a"))
    assert elapsed < TIMEOUT + SLACK, f"took {elapsed:.1f}s"
    # Refused connections fail each attempt at once; the call sends again until its deadline, then names it.
    assert "Pub/Sub topic 'orders': 20 of 20 not published: not acknowledged within the publish timeout 1s" in error
    assert "SERVICE_UNAVAILABLE" in error


def test_a_publish_to_an_endpoint_that_never_answers_fails_within_its_timeout_naming_it() -> None:
    # A listening socket nobody accepts on: the TCP handshake completes, the gRPC handshake never does.
    with socket.create_server(("127.0.0.1", 0), backlog=16) as silent:
        broker = PubSubBroker(PROJECT, emulator_host=f"127.0.0.1:{silent.getsockname()[1]}",
                              publish_timeout=TIMEOUT)
        error, elapsed = fail_publish(broker, "orders", messages(20, "b"))
    assert elapsed < TIMEOUT + SLACK, f"took {elapsed:.1f}s"
    assert "20 of 20 not published: not acknowledged within the publish timeout 1s" in error


def test_the_publish_timeout_must_be_positive() -> None:
    with pytest.raises(ValueError, match="publish_timeout"):
        PubSubBroker(PROJECT, publish_timeout=0)



def pull_all(broker: PubSubBroker, topic: str, group: str) -> Counter[str]:
    subscriber, seen = broker.subscriber(topic, group), Counter()
    try:
        while batch := subscriber.receive(100, timeout=0.5):
            for delivery in batch:
                seen[json.loads(delivery.message.payload)["n"]] += 1
                delivery.ack()
    finally:
        subscriber.close()
    return seen


@pytest.mark.parametrize("mode", ["drop", "lose_replies"])
def test_nothing_of_a_publish_that_gave_up_is_sent_after_the_server_is_back(pstest_host: str, mode: str) -> None:
    """"drop": nothing reached the server, and nothing arrives later. "lose_replies": the server stored the batch
    but its acknowledgement was lost: exactly one copy each (the duplicate risk is the caller's retry, one per lost
    acknowledgement), none added by a retry inside the client after the call gave up."""
    topic, group = f"t{uuid.uuid4().hex[:10]}", "check"
    direct = PubSubBroker(PROJECT, create_missing=True, emulator_host=pstest_host)
    direct.subscriber(topic, group).close()  # provision: topic and subscription
    proxy: TcpProxy
    with tcp_proxy(pstest_host) as proxy:
        broker = PubSubBroker(PROJECT, emulator_host=proxy.address, publish_timeout=TIMEOUT)
        publisher = broker.publisher()
        try:
            publisher.publish(topic, messages(4, "ok"))  # connected through the proxy
            proxy.set_mode(mode)
            batch = messages(20, "gave-up")
            started = time.monotonic()
            with pytest.raises(PublishError, match="20 of 20 not published"):
                publisher.publish(topic, batch)
            assert time.monotonic() - started < TIMEOUT + SLACK
            proxy.set_mode("forward")
            time.sleep(2.0)  # a client retrying in the background would have published again by now
        finally:
            publisher.close()
        assert proxy.accepted >= 1  # the broker's client went through the proxy
    copies = pull_all(direct, topic, group)
    assert {n for n in copies if n.startswith("ok")} == {f"ok{n}" for n in range(4)}
    gave_up = {n: c for n, c in copies.items() if n.startswith("gave-up")}
    if mode == "drop":
        assert gave_up == {}
    else:
        assert gave_up == {f"gave-up{n}": 1 for n in range(20)}


def test_a_publish_rides_out_a_cut_shorter_than_its_timeout(pstest_host: str) -> None:
    """UNAVAILABLE is sent again within the call's deadline: a server away for half a second costs a relay no
    failed attempt (and so no step towards its dead-letter table)."""
    topic, group = f"t{uuid.uuid4().hex[:10]}", "check"
    direct = PubSubBroker(PROJECT, create_missing=True, emulator_host=pstest_host)
    direct.subscriber(topic, group).close()
    with tcp_proxy(pstest_host) as proxy:
        publisher = PubSubBroker(PROJECT, emulator_host=proxy.address, publish_timeout=8.0).publisher()
        try:
            publisher.publish(topic, messages(2, "first"))
            proxy.cut(0.5)  # drops the connection now, forwards again after 0.5 s
            publisher.publish(topic, messages(20, "during"))
        finally:
            publisher.close()
    copies = pull_all(direct, topic, group)
    assert copies == Counter({f"first{n}": 1 for n in range(2)} | {f"during{n}": 1 for n in range(20)})
