"""Lease stores under the Router, on real Redis and DynamoDB (moto server): the lease lasts `lease_seconds`, is
renewed on the heartbeat that extends visibility, and a lease another run took over is a LeaseLost the retry
middleware sees, with nothing recorded by the run that lost it."""

from __future__ import annotations

import threading
import time
import uuid

import boto3
import pytest
from lease_stores import TABLE, fresh_consumer, lease_store

from edakit.devservers import tcp_proxy
from edakit.runtime.adapters.sqs_sns import SqsSnsBroker
from edakit.runtime.idempotency import DynamoDBIdempotencyStore, InProgressError, LeaseLost, idempotent
from edakit.runtime.message import Message
from edakit.runtime.middleware import RetryPolicy, Router, compose, retry

FAST = RetryPolicy(max_attempts=3, base_delay=0.0, max_delay=0.0)
LEASE = 1  # seconds: the Router's lease_seconds; renewed every third of it
# How long a 1 s lease surely takes to lapse: Redis counts milliseconds, DynamoDB whole epoch seconds.
LAPSE = {"redis": 1.4, "redis-decoded": 1.4, "dynamodb": 2.2}


def sqs_subscriber(moto_url: str):  # noqa: ANN201 - (subscriber, publish)
    session = boto3.Session(aws_access_key_id="test", aws_secret_access_key="test", region_name="us-east-1")
    broker = SqsSnsBroker(session, endpoint_url=moto_url, create_missing=True, visibility_timeout=LEASE)
    topic = f"t{uuid.uuid4().hex[:12]}"
    subscriber = broker.subscriber(topic, "billing")
    return subscriber, lambda messages: broker.publisher().publish(topic, messages)


def embedded_subscriber(embedded):  # noqa: ANN001, ANN201 - (subscriber, publish)
    subscriber = embedded.subscriber("payments", "billing")
    return subscriber, lambda messages: embedded.publisher().publish("payments", messages)


# SQS has keep_alive: the store lease rides on its visibility heartbeat. The embedded broker has none: the
# middleware runs a heartbeat of its own, at the same rate.
@pytest.mark.parametrize(("broker_kind", "store_kind"), [("sqs", "redis"), ("embedded", "dynamodb")])
def test_a_handler_slower_than_its_lease_keeps_it_by_renewal(broker_kind, store_kind, store_address, moto_url,
                                                             embedded):
    address, consumer = store_address(store_kind), fresh_consumer()
    store = lease_store(store_kind, address, consumer)
    competitor = lease_store(store_kind, address, consumer)  # the same group's consumer in another process
    subscriber, publish = sqs_subscriber(moto_url) if broker_kind == "sqs" else embedded_subscriber(embedded)
    message = Message.new("PaymentReceived", b"{}", source="/payments")
    publish([message])
    probes: list[object] = []
    effects: list[str] = []
    duplicates: list[str] = []

    def slow(delivery) -> None:  # noqa: ANN001 - a router delivery
        for wait in (LAPSE[store_kind] * 0.8, LAPSE[store_kind] * 0.4):  # past the 1 s lease, twice
            time.sleep(wait)
            try:
                probes.append(competitor.begin(delivery.message.id, LEASE))  # a token would mean "free"
            except InProgressError:
                probes.append("in progress")
        effects.append(delivery.message.id)

    renewed_on: set[str] = set()
    renew = store.renew

    def renew_and_note_the_thread(*args) -> None:  # noqa: ANN002 - the store's own renew, observed
        renewed_on.add(threading.current_thread().name)
        renew(*args)

    store.renew = renew_and_note_the_thread
    chain = compose(slow, retry(FAST), idempotent(store, on_duplicate=lambda d: duplicates.append(d.message.id)))
    Router(subscriber, chain, lease_seconds=LEASE, receive_timeout=0.2).run_until_idle(0.3)
    assert probes == ["in progress", "in progress"]
    # SQS: renewed on the heartbeat that extends the message's visibility; embedded: on the middleware's own
    assert renewed_on == {"sqs-keep-alive" if broker_kind == "sqs" else "idempotency-lease"}
    assert effects == [message.id] and duplicates == []  # on SQS the visibility was kept too: no redelivery
    assert competitor.begin(message.id, LEASE) is None  # completed by its run


@pytest.mark.parametrize("store_kind", ["redis", "dynamodb"])
def test_a_run_whose_lease_was_taken_over_gets_lease_lost_and_records_nothing(store_kind, store_address, embedded):
    address, consumer = store_address(store_kind), fresh_consumer()
    subscriber, publish = embedded_subscriber(embedded)
    message = Message.new("PaymentReceived", b"{}", source="/payments")
    publish([message])
    effects: list[int] = []
    seen_by_retry: list[Exception] = []
    duplicates: list[str] = []
    winner: dict[str, str] = {}
    with tcp_proxy(address) as proxy:
        store = lease_store(store_kind, proxy.address, consumer)  # run A reaches its store through the proxy
        other = lease_store(store_kind, address, consumer)  # run B: the same group in another process

        def handler(delivery) -> None:  # noqa: ANN001 - a router delivery
            if delivery.attempt == 1:
                proxy.set_mode("drop")  # A is cut off from the store: its renewals fail ...
                time.sleep(LAPSE[store_kind])  # ... until its lease lapsed
                token = other.begin(message.id, 30)  # B takes the event over
                assert token is not None
                winner["token"] = token
                proxy.set_mode("forward")
                time.sleep(0.8)  # A's next renewal sees the takeover
            effects.append(delivery.attempt)

        def between_retry_and_idempotency(next_handler):  # noqa: ANN001, ANN202
            def handle(delivery) -> None:  # noqa: ANN001
                if delivery.attempt == 2:
                    with pytest.raises(InProgressError):
                        other.begin(message.id, 30)  # A's completion did not overwrite B's lease
                    other.complete(message.id, winner["token"])  # B finishes
                try:
                    next_handler(delivery)
                except Exception as exc:
                    seen_by_retry.append(exc)
                    raise
            return handle

        chain = compose(handler, retry(FAST), between_retry_and_idempotency,
                        idempotent(store, on_duplicate=lambda d: duplicates.append(d.message.id)))
        Router(subscriber, chain, lease_seconds=LEASE, receive_timeout=0.2).run_until_idle(0.3)

    [lost] = seen_by_retry
    # seen at a renewal after the proxy healed (or, had none run before the handler returned, at completion)
    assert isinstance(lost, LeaseLost) and "another run took the event over" in str(lost)
    assert effects == [1]  # A's run; its redelivery was skipped once B had recorded the event
    assert duplicates == [message.id]
    assert embedded.dead_letter_subscriber("payments", "billing").receive(1, timeout=0.1) == []
    if isinstance(other, DynamoDBIdempotencyStore):  # the record is B's, not one A wrote over it
        item = other.client.get_item(TableName=TABLE, Key={"pk": {"S": f"{consumer}#{message.id}"}},
                                     ConsistentRead=True)["Item"]
        assert (item["status"]["S"], item["token"]["S"]) == ("done", winner["token"])
