"""Request-reply on the embedded broker and on SNS/SQS (moto server): correlation under concurrency, timeouts, late
replies dropped and counted, a crashed responder giving a timeout rather than a hang."""

from __future__ import annotations

import json
import random
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import boto3
import pytest

from edakit.runtime.adapters.embedded import EmbeddedBroker
from edakit.runtime.adapters.sqs_sns import SqsSnsBroker
from edakit.runtime.message import Message
from edakit.runtime.request_reply import (
    CORRELATION_ID,
    REPLY_TO,
    NotARequest,
    Requester,
    RequestTimeout,
    Responder,
    reply_message,
)

SQS_SETUP = """
import boto3
from edakit.runtime.adapters.sqs_sns import SqsSnsBroker
session = boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1")
broker = SqsSnsBroker(session, endpoint_url={where!r}, create_missing=True, visibility_timeout=30)
"""
EMBEDDED_SETUP = """
from edakit.runtime.adapters.embedded import EmbeddedBroker
broker = EmbeddedBroker({where!r})
"""


def sqs_broker(endpoint: str) -> SqsSnsBroker:
    session = boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1")
    return SqsSnsBroker(session, endpoint_url=endpoint, create_missing=True, visibility_timeout=30)


class Setup:
    def __init__(self, broker, code: str) -> None:  # noqa: ANN001 - any Broker
        self.broker, self.code = broker, code


@pytest.fixture(params=["embedded", "sqs-sns"])
def setup(request: pytest.FixtureRequest, tmp_path: Path) -> Setup:
    if request.param == "embedded":
        path = tmp_path / "broker.sqlite3"
        return Setup(EmbeddedBroker(path), EMBEDDED_SETUP.format(where=str(path)))
    endpoint = request.getfixturevalue("moto_url")
    return Setup(sqs_broker(endpoint), SQS_SETUP.format(where=endpoint))


@pytest.fixture
def names() -> tuple[str, str]:
    unique = uuid.uuid4().hex[:10]
    return f"quotes-{unique}", f"client-{unique}"


@contextmanager
def serving(broker, topic: str, handle: Callable[[Message], bytes]) -> Iterator[None]:  # noqa: ANN001
    """A responder thread (group `pricing`) answering `topic` until the block exits."""
    subscriber, responder, stop = broker.subscriber(topic, "pricing"), Responder(broker.publisher()), threading.Event()
    failures: list[BaseException] = []

    def run() -> None:
        try:
            responder.serve(subscriber, handle, stop=stop, poll=0.2)
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            failures.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(10)
        subscriber.close()
        responder.close()
    assert not failures, failures


def test_concurrent_requests_each_get_their_own_reply(setup: Setup, names: tuple[str, str]) -> None:
    topic, client = names
    rng = random.Random(16)

    def price(request: Message) -> bytes:
        time.sleep(rng.random() * 0.05)  # replies come back in another order than the requests went out
        item = json.loads(request.payload)["item"]
        return json.dumps({"item": item, "price": len(item) * 10}).encode()

    with Requester.for_broker(setup.broker, client) as requester, serving(setup.broker, topic, price):
        items = [f"item-{i}-{'x' * i}" for i in range(12)]
        with ThreadPoolExecutor(6) as pool:
            replies = list(pool.map(lambda item: requester.request(
                topic, "PriceRequested", json.dumps({"item": item}).encode(), timeout=20), items))
        assert [json.loads(r.payload) for r in replies] == [{"item": i, "price": len(i) * 10} for i in items]
        assert all(r.type == "PriceRequested.reply" for r in replies)
        assert requester.stats.replies == 12 and requester.stats.late == requester.stats.unmatched == 0


def test_no_responder_times_out_with_a_clear_error(setup: Setup, names: tuple[str, str]) -> None:
    topic, client = names
    setup.broker.subscriber(topic, "pricing").close()  # the request is delivered, nobody answers
    with Requester.for_broker(setup.broker, client) as requester:
        started = time.monotonic()
        with pytest.raises(RequestTimeout, match=rf"PriceRequested\) to '{topic}': no reply on 'replies-{client}' "
                                                 r"within 1s"):
            requester.request(topic, "PriceRequested", b"{}", timeout=1)
        assert 0.9 < time.monotonic() - started < 5


def test_a_late_reply_is_dropped_and_counted(setup: Setup, names: tuple[str, str]) -> None:
    topic, client = names
    slow = threading.Event()
    slow.set()

    def answer(request: Message) -> bytes:
        if slow.is_set():
            slow.clear()
            time.sleep(1.2)  # past the requester's timeout of 0.5 s
        return request.payload

    with Requester.for_broker(setup.broker, client) as requester, serving(setup.broker, topic, answer):
        with pytest.raises(RequestTimeout):
            requester.request(topic, "Echo", b'"first"', timeout=0.5)
        # The next request gets its own reply, never the late first one.
        assert requester.request(topic, "Echo", b'"second"', timeout=20).payload == b'"second"'
        deadline = time.monotonic() + 20
        while requester.stats.late == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert (requester.stats.late, requester.stats.replies, requester.stats.unmatched) == (1, 1, 0)


def test_a_crashed_responder_gives_a_timeout_not_a_hang(setup: Setup, names: tuple[str, str]) -> None:
    topic, client = names
    setup.broker.subscriber(topic, "pricing").close()
    crash = setup.code + f"""
import os, sys
subscriber = broker.subscriber({topic!r}, "pricing")
while not (batch := subscriber.receive(timeout=1)):
    pass
print("received", batch[0].message.headers["correlationid"], flush=True)
os._exit(1)  # dies holding the request, unacked and unanswered
"""
    responder = subprocess.Popen([sys.executable, "-c", crash], stdout=subprocess.PIPE, text=True)
    try:
        with Requester.for_broker(setup.broker, client) as requester:
            started = time.monotonic()
            with pytest.raises(RequestTimeout) as raised:
                requester.request(topic, "PriceRequested", b"{}", timeout=1.5)
            assert time.monotonic() - started < 5
        assert responder.wait(10) == 1
        received = responder.stdout.read().split()
        assert received[0] == "received" and received[1] in str(raised.value)
    finally:
        responder.kill()
        responder.wait()


def test_a_reply_without_correlation_id_is_dead_lettered(embedded: EmbeddedBroker) -> None:
    with Requester.for_broker(embedded, "c1", poll=0.05) as requester:
        publisher = embedded.publisher()
        publisher.publish(requester.reply_topic, [Message.new("Stray", b"{}", source="urn:t")])
        publisher.publish(requester.reply_topic, [Message.new("Stray", b"{}", source="urn:t",
                                                              headers={CORRELATION_ID: "nobody"})])
        publisher.close()
        deadline = time.monotonic() + 10
        while requester.stats.malformed + requester.stats.unmatched < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert (requester.stats.malformed, requester.stats.unmatched) == (1, 1)
    [dead] = embedded.dead_letter_subscriber(requester.reply_topic, "c1").receive(timeout=1)
    assert dead.message.type == "Stray" and "no correlationid header" in dead.metadata["dlq_reason"]


def test_request_headers_and_reply_contract() -> None:
    request = Message.new("Quote", b"{}", source="urn:t", headers={CORRELATION_ID: "abc", REPLY_TO: "replies-x"})
    topic, reply = reply_message(request, b"[]")
    assert topic == "replies-x" and reply.headers == {CORRELATION_ID: "abc"} and reply.type == "Quote.reply"
    with pytest.raises(NotARequest, match="no replyto header"):
        reply_message(Message.new("Quote", b"{}", source="urn:t", headers={CORRELATION_ID: "abc"}), b"")


def test_request_refuses_caller_set_correlation(embedded: EmbeddedBroker) -> None:
    with Requester.for_broker(embedded, "c2") as requester, pytest.raises(ValueError, match="set by request"):
        requester.request("t", "Quote", b"{}", timeout=1, headers={CORRELATION_ID: "mine"})


def test_requests_pass_a_spec_channels_publish_contract_without_declaring_the_headers(moto_url: str) -> None:
    """A publisher built with the spec's settings refuses undeclared headers; correlationid and replyto are allowed on
    every channel (edakit.brokers.attributes.REQUEST_REPLY_HEADERS), counted at publish like any attribute."""
    from edakit.brokers.attributes import REQUEST_REPLY_HEADERS
    from edakit.runtime.settings import publisher_settings
    from edakit.spec.loader import load_spec

    assert REQUEST_REPLY_HEADERS == {CORRELATION_ID, REPLY_TO}
    spec = load_spec(Path(__file__).resolve().parents[2] / "configs/order-events-sns.yaml", "staging")
    channel = spec.channels["order-placed"]
    assert not {CORRELATION_ID, REPLY_TO} & set(channel.attribute_headers)
    broker, client = sqs_broker(moto_url), f"client-{uuid.uuid4().hex[:8]}"
    topic = f"{channel.resource_name}-{uuid.uuid4().hex[:6]}"  # a fresh topic under the channel's contract
    settings = publisher_settings(spec)
    settings.contracts[topic] = settings.contracts[channel.resource_name]
    requester = Requester(broker.publisher(settings), broker.subscriber(f"replies-{client}", client),
                          f"replies-{client}")
    with requester, serving(broker, topic, lambda request: b'{"ok":true}'):
        reply = requester.request(topic, "OrderPlaced", b'{"total_amount":1}', timeout=20)
    assert reply.payload == b'{"ok":true}'


def test_a_broker_error_on_the_reply_channel_is_a_timeout_and_the_receiver_keeps_going(moto_url: str) -> None:
    broker, client = sqs_broker(moto_url), f"client-{uuid.uuid4().hex[:8]}"
    with Requester.for_broker(broker, client) as requester:
        broker.sqs.delete_queue(QueueUrl=broker.queue_url(f"replies-{client}-{client}"))  # receive now fails
        with pytest.raises(RequestTimeout):
            requester.request(f"nobody-{client}", "Quote", b"{}", timeout=1.5)
        assert requester._thread.is_alive()


def test_each_broker_binding_carries_the_request_headers_as_cloudevents_extensions() -> None:
    from edakit.runtime.adapters import kafka, pubsub, sqs_sns

    request = Message.new("Quote", b"{}", source="urn:t", headers={CORRELATION_ID: "abc", REPLY_TO: "replies-x"})
    _, _, record_headers = kafka.encode(request)
    assert {("ce_correlationid", "abc"), ("ce_replyto", "replies-x")} <= set(record_headers)
    _, sns_attributes = sqs_sns.encode(request)
    assert sns_attributes["ce_correlationid"] == {"DataType": "String", "StringValue": "abc"}
    _, pubsub_attributes = pubsub.encode(request)
    assert pubsub_attributes["ce-replyto"] == "replies-x"
