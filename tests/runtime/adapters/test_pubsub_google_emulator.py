"""Pub/Sub adapter against Google's own Pub/Sub emulator (Java; Debian package google-cloud-cli-pubsub-emulator).

What this server answers that pstest (test_pubsub_adapter.py) cannot:
- ordering keys: the conformance suite runs on subscriptions with message ordering and declares "ordering" (the
  emulator keeps first-delivery order per key even on unordered subscriptions, so this proves the adapter's publish
  path keeps it, not the server's guarantee);
- server-side dead-lettering: after max_delivery_attempts the dead_letter_policy forwards the message, as published,
  to the `-dlq` topic. The emulator forwards lazily, on the next pull of the source subscription after the last
  allowed attempt, so a DLQ read straight after the final nack finds nothing yet;
- exactly-once delivery: an ack of a superseded ack id is refused (EXACTLY_ONCE_ACKID_FAILURE) and raises BrokerError.

Where emulator 0.8.20 departs from Google's documentation, so nothing here can check it:
- order after a redelivery: Google redelivers a nacked message and every later one of its ordering key in publish
  order; the emulator redelivers in nack order (nacking 4, 3, 2, 1 brings back 4, 3, 2, 1) and hands out the next
  message of a key while an earlier one is nacked;
- dead-lettering on an ordered subscription: the emulator never forwards, and the subscription stops delivering
  anything, other ordering keys included (nothing in 39 s). Server-side dead-lettering is therefore checked on an
  unordered subscription, and the ordered suite does not declare "native_dlq".
Each broker reaches the emulator through `emulator_host`, not PUBSUB_EMULATOR_HOST, so the pstest session server in
the other module is never clobbered.

The emulator comes with the machine image's Google Cloud CLI (no registry reachable here ships it), so the tests that
need it are skipped, with the reason in the report, on a machine without it; the pytest header says which it is.
"""

from __future__ import annotations

import socket
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from adapter_conformance import AdapterConformance, drain, event

from edakit import devservers
from edakit.devservers import pubsub_emulator, pubsub_emulator_launcher
from edakit.runtime.adapters.base import DLQ_REASON_KEY, BrokerError
from edakit.runtime.adapters.pubsub import PubSubBroker, PubSubDelivery, PubSubSubscriber
from edakit.runtime.message import Message

PROJECT = "edakit-emulator"

try:
    pubsub_emulator_launcher()
    MISSING = ""
except RuntimeError as missing:
    MISSING = str(missing)
needs_emulator = pytest.mark.skipif(bool(MISSING), reason=MISSING)


@pytest.fixture(scope="session")
def emulator_host() -> Iterator[str]:
    with pubsub_emulator() as host:
        yield host


@needs_emulator
class TestPubSubGoogleEmulatorConformance(AdapterConformance):
    features = PubSubBroker.features | {"ordering"}

    @pytest.fixture
    def broker(self, emulator_host: str) -> PubSubBroker:
        return PubSubBroker(PROJECT, create_missing=True, message_ordering=True, emulator_host=emulator_host)


def names() -> tuple[str, str]:
    return f"t{uuid.uuid4().hex[:12]}", f"g{uuid.uuid4().hex[:6]}"


def publish(broker: PubSubBroker, topic: str, messages: list[Message]) -> None:
    publisher = broker.publisher()
    publisher.publish(topic, messages)
    publisher.close()


def assert_only_new_messages_left(broker: PubSubBroker, subscriber: PubSubSubscriber, topic: str) -> None:
    publish(broker, topic, [marker := event(0)])
    assert [d.message.id for d in drain(subscriber, 1, ack=True)] == [marker.id]


@needs_emulator
def test_the_server_dead_letters_after_max_delivery_attempts_with_the_message_intact(emulator_host: str) -> None:
    broker = PubSubBroker(PROJECT, create_missing=True, max_delivery_attempts=5, emulator_host=emulator_host)
    topic, group = names()
    subscriber, dlq = broker.subscriber(topic, group), broker.dead_letter_subscriber(topic, group)
    publish(broker, topic, [sent := event(1, key="order-7", traceparent="00-ab-cd-01")])
    attempts = []
    for _ in range(5):
        [delivery] = drain(subscriber, 1)
        attempts.append(delivery.attempt)
        delivery.nack()
    assert attempts == [1, 2, 3, 4, 5]
    # The next pull finds only what was published since: the sixth delivery became a forward to the DLQ topic.
    assert_only_new_messages_left(broker, subscriber, topic)
    [dead] = drain(dlq, 1)
    assert dead.message == sent
    assert dead.metadata["ordering_key"] == "order-7"
    assert dead.metadata["CloudPubSubDeadLetterSourceSubscription"] == subscriber.subscription
    assert dead.metadata["CloudPubSubDeadLetterSourceDeliveryCount"] == "5"
    assert DLQ_REASON_KEY not in dead.metadata  # only the adapter's dead_letter() says why
    dead.ack()
    subscriber.close()
    dlq.close()


def redelivered(broker: PubSubBroker, topic: str, group: str) -> tuple[PubSubSubscriber, list[PubSubDelivery]]:
    """The first and the second (after a nack) delivery of one message."""
    subscriber = broker.subscriber(topic, group)
    publish(broker, topic, [event(1)])
    [first] = drain(subscriber, 1)
    first.nack()
    [second] = drain(subscriber, 1)
    assert (second.message.id, second.attempt) == (first.message.id, 2)
    assert second.ack_id != first.ack_id
    return subscriber, [first, second]


@needs_emulator
def test_exactly_once_refuses_an_ack_of_a_superseded_ack_id(emulator_host: str) -> None:
    broker = PubSubBroker(PROJECT, create_missing=True, exactly_once=True, emulator_host=emulator_host)
    topic, group = names()
    subscriber, (first, second) = redelivered(broker, topic, group)
    with pytest.raises(BrokerError, match=r"acknowledge on .*: EXACTLY_ONCE_ACKID_FAILURE "
                                          r"\(PERMANENT_FAILURE_INVALID_ACK_ID\)"):
        first.ack()
    with pytest.raises(BrokerError, match=r"modify_ack_deadline on .*: EXACTLY_ONCE_ACKID_FAILURE"):
        first.nack()
    second.ack()
    assert_only_new_messages_left(broker, subscriber, topic)
    subscriber.close()


@needs_emulator
def test_keep_alive_extends_the_rest_when_an_ack_id_was_settled_meanwhile(emulator_host: str) -> None:
    # A router acks one delivery while the heartbeat still holds it in its snapshot: exactly-once refuses that ack
    # id alone, which must neither end the heartbeat nor lose the other delivery's extension.
    broker = PubSubBroker(PROJECT, create_missing=True, exactly_once=True, emulator_host=emulator_host)
    topic, group = names()
    subscriber = broker.subscriber(topic, group)
    publish(broker, topic, [event(1), event(2)])
    settled, slow = drain(subscriber, 2)
    settled.ack()
    with subscriber.keep_alive([settled, slow], ack_deadline_seconds=30, interval=0.2):
        time.sleep(0.5)  # two more beats with the settled ack id in them
    slow.ack()  # still its own ack id: nothing was redelivered
    assert_only_new_messages_left(broker, subscriber, topic)
    subscriber.close()


@needs_emulator
def test_without_exactly_once_an_ack_of_a_superseded_ack_id_passes_silently(emulator_host: str) -> None:
    # The contrast that makes the exactly-once test mean something: best-effort subscriptions report nothing.
    broker = PubSubBroker(PROJECT, create_missing=True, emulator_host=emulator_host)
    topic, group = names()
    subscriber, (first, second) = redelivered(broker, topic, group)
    first.ack()
    second.ack()
    assert_only_new_messages_left(broker, subscriber, topic)
    subscriber.close()


def test_launcher_from_the_environment_variable_must_be_executable(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    launcher = tmp_path / "cloud-pubsub-emulator"
    monkeypatch.setenv("EDAKIT_PUBSUB_EMULATOR", str(launcher))
    with pytest.raises(RuntimeError, match=r"EDAKIT_PUBSUB_EMULATOR=.*expected an executable"):
        pubsub_emulator_launcher()
    launcher.write_text("#!/bin/sh\n")
    launcher.chmod(0o755)
    assert pubsub_emulator_launcher() == launcher


@needs_emulator
def test_without_the_debian_path_gcloud_reports_where_the_sdk_lives(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    installed = devservers.GCLOUD_SDK_ROOT / devservers.PUBSUB_EMULATOR_RELATIVE
    monkeypatch.delenv("EDAKIT_PUBSUB_EMULATOR", raising=False)
    monkeypatch.setattr(devservers, "GCLOUD_SDK_ROOT", tmp_path)
    assert pubsub_emulator_launcher() == installed  # found through the real `gcloud info`


def test_a_missing_emulator_names_the_package_and_the_variable(tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("EDAKIT_PUBSUB_EMULATOR", raising=False)
    monkeypatch.setattr(devservers, "GCLOUD_SDK_ROOT", tmp_path)
    monkeypatch.setenv("PATH", str(tmp_path))  # no gcloud to ask either
    with pytest.raises(RuntimeError, match=r"install the Debian package google-cloud-cli-pubsub-emulator.*"
                                           r"EDAKIT_PUBSUB_EMULATOR"):
        pubsub_emulator_launcher()


@needs_emulator
def test_the_emulator_jvm_stops_with_its_context() -> None:
    with pubsub_emulator() as host:
        address = host.rsplit(":", 1)[0], int(host.rsplit(":", 1)[1])
        socket.create_connection(address, timeout=5).close()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(address, timeout=5)
