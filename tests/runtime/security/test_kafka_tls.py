"""Kafka over TLS with a client certificate (the key encrypted, its password from the environment), end to end:
the kit's producer, consumer and admin clients through a TLS listener in front of Tansu (conftest.TlsListener);
a client without a certificate, and one that does not trust the broker's CA, are refused."""

from __future__ import annotations

import time
import uuid

import pytest
from security_consts import KEY_PASSWORD

from edakit.runtime.adapters.base import BrokerUnreachable
from edakit.runtime.adapters.kafka import KafkaBroker
from edakit.runtime.message import Message


# Short group timings and metadata refresh, as in tests/runtime/adapters: a new group gets its partitions sooner.
FAST_GROUP = {"session.timeout.ms": 6000, "heartbeat.interval.ms": 500, "topic.metadata.refresh.interval.ms": 1000}


def tls_block(pki, *, client_cert: bool = True, ca=None) -> dict:
    tls = {"ca_file": str(ca or pki.ca)}
    if client_cert:
        tls |= {"cert_file": str(pki.client_cert), "key_file": str(pki.client_key),
                "key_password": {"env": "EDAKIT_TEST_KEY_PW"}}
    return {"protocol": "SSL", "tls": tls}


def test_publish_and_consume_over_mutual_tls(pki, tls_tansu, monkeypatch):
    monkeypatch.setenv("EDAKIT_TEST_KEY_PW", KEY_PASSWORD)
    broker = KafkaBroker(f"127.0.0.1:{tls_tansu.port}", security=tls_block(pki), create_missing_topics=True,
                         retry_topic_count=1, partitions=1, consumer_config=FAST_GROUP)
    topic = f"orders-{uuid.uuid4().hex[:8]}"
    broker.check_reachable(5)
    subscriber = broker.subscriber(topic, "billing")  # creates the topics through an admin client, over TLS
    publisher = broker.publisher()
    sent = Message.new("order.placed", b'{"id": 1}', source="orders", key="o-1")
    try:
        publisher.publish(topic, [sent])
        deadline, received = time.monotonic() + 20, []
        while not received and time.monotonic() < deadline:
            received = subscriber.receive(max_messages=10, timeout=1)
        assert [(d.message.id, d.message.payload) for d in received] == [(sent.id, b'{"id": 1}')]
        received[0].ack()
    finally:
        publisher.close()
        subscriber.close()
    assert tls_tansu.clients and set(tls_tansu.clients) == {"order-service"}  # every connection was mutual TLS


def test_a_client_without_a_certificate_is_refused(pki, tls_tansu):
    before = tls_tansu.refused
    with pytest.raises(BrokerUnreachable) as caught:
        KafkaBroker(f"127.0.0.1:{tls_tansu.port}", security=tls_block(pki, client_cert=False)).check_reachable(1)
    assert tls_tansu.refused > before
    assert "certificate required" in str(caught.value)  # the listener's TLS alert, not just "transport failure"


def test_a_broker_certificate_from_another_ca_is_not_trusted(pki, tls_tansu, monkeypatch):
    monkeypatch.setenv("EDAKIT_TEST_KEY_PW", KEY_PASSWORD)
    with pytest.raises(BrokerUnreachable) as caught:
        KafkaBroker(f"127.0.0.1:{tls_tansu.port}", security=tls_block(pki, ca=pki.other_ca)).check_reachable(1)
    assert "TLS handshake failed" in str(caught.value) and "certificate verify failed" in str(caught.value)
