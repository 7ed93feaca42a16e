"""Publisher and consumer middleware on the embedded broker with the local-development store: what is offloaded,
what the handler sees, what is dead-lettered and why, and when a payload is deleted."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from edakit.runtime.adapters.base import DLQ_REASON_KEY, DeadLetterReason, PublishError
from edakit.runtime.adapters.embedded import EmbeddedBroker
from edakit.runtime.claimcheck import (SIZE_HEADER, ClaimCheckPublisher, LocalDirectoryStore, OffloadPolicy, Pointer,
                                       PointerError, StoreError, claim_check, parse_pointer)
from edakit.runtime.message import Message
from edakit.runtime.middleware import RetryPolicy, Router, compose, retry

TOPIC, GROUP = "orders", "billing"


@pytest.fixture
def broker(tmp_path: Path) -> EmbeddedBroker:
    broker = EmbeddedBroker(tmp_path / "broker.sqlite3", visibility_timeout=30.0)
    broker.create_group(TOPIC, GROUP)
    return broker


def event(size: int, **headers: str) -> Message:
    return Message.new("OrderPlaced", json.dumps({"blob": "x" * size}).encode(), source="orders", headers=headers)


def publish(broker: EmbeddedBroker, store: LocalDirectoryStore, *messages: Message, threshold: int = 1000,
            always: bool = False) -> None:
    ClaimCheckPublisher(broker.publisher(), store, {TOPIC: OffloadPolicy(threshold, always)}).publish(TOPIC, messages)


def consume(broker: EmbeddedBroker, *middlewares, idle: float = 0.0) -> list[Message]:  # noqa: ANN002
    seen: list[Message] = []
    Router(broker.subscriber(TOPIC, GROUP), compose(lambda d: seen.append(d.message), *middlewares),
           receive_timeout=0).run_until_idle(idle)
    return seen


def raw(broker: EmbeddedBroker) -> list[Message]:
    deliveries = broker.subscriber(TOPIC, GROUP).receive(10, 0)
    for d in deliveries:
        d.nack(0)
    return [d.message for d in deliveries]


def dead_letters(broker: EmbeddedBroker) -> list[tuple[Message, DeadLetterReason]]:
    return [(d.message, DeadLetterReason.from_json(d.metadata[DLQ_REASON_KEY]))
            for d in broker.dead_letter_subscriber(TOPIC, GROUP).receive(10, 0)]


def test_small_payloads_pass_untouched_large_ones_travel_as_pointers(broker, local_store) -> None:
    small, large = event(10), event(5000)
    publish(broker, local_store, small, large)
    on_broker = {m.id: m for m in raw(broker)}
    assert on_broker[small.id] == small and on_broker[small.id].payload == small.payload
    pointer = parse_pointer(on_broker[large.id].payload)
    assert pointer.bucket == "claims" and on_broker[large.id].headers[SIZE_HEADER] == str(len(large.payload))
    assert (local_store.directory / pointer.key).read_bytes() == large.payload
    seen = {m.id: m for m in consume(broker, claim_check(local_store))}
    assert seen[large.id].payload == large.payload and SIZE_HEADER not in seen[large.id].headers
    assert seen[large.id] == large and seen[small.id].payload == small.payload


def test_threshold_is_exclusive_and_always_offloads_everything(broker, local_store) -> None:
    at = Message.new("T", b"x" * 1000, source="s")
    above = Message.new("T", b"x" * 1001, source="s")
    publish(broker, local_store, at, above)
    assert {m.id: SIZE_HEADER in m.headers for m in raw(broker)} == {at.id: False, above.id: True}
    tiny = Message.new("T", b"{}", source="s")
    publish(broker, local_store, tiny, always=True)
    assert SIZE_HEADER in next(m for m in raw(broker) if m.id == tiny.id).headers


def test_topics_without_a_policy_and_messages_already_offloaded_are_not_stored_again(broker, local_store) -> None:
    broker.create_group("other", GROUP)
    ClaimCheckPublisher(broker.publisher(), local_store, {TOPIC: OffloadPolicy(1)}).publish("other", [event(5000)])
    pointer_message = event(1, **{SIZE_HEADER: "7"})
    publish(broker, local_store, pointer_message, threshold=1)
    assert raw(broker)[0].payload == pointer_message.payload
    assert list(local_store.directory.iterdir()) == []


def test_missing_object_is_dead_lettered_at_once_with_the_reason(broker, local_store) -> None:
    message = event(5000)
    publish(broker, local_store, message)
    for stored in local_store.directory.iterdir():
        stored.unlink()  # what the store's expiry does
    handled = consume(broker, retry(RetryPolicy(max_attempts=5, base_delay=0, max_delay=0)), claim_check(local_store))
    assert handled == []
    [(dead, reason)] = dead_letters(broker)
    assert dead.id == message.id and SIZE_HEADER in dead.headers  # the pointer message, replayable
    assert reason.error_type == "PayloadMissing" and reason.attempts == 1
    assert "not found" in reason.error_message and "claims/" in reason.error_message


@pytest.mark.parametrize(("payload", "size", "error_type", "why"), [
    (Pointer("someone-elses-bucket", "k").to_payload(), "3", "PointerError", "this consumer reads only 'claims'"),
    (b"[1, 2]", "3", "PointerError", "JSON array"),
    (Pointer("claims", "k").to_payload(), "three", "PointerError", "payload size in bytes"),
])
def test_bad_claims_are_dead_lettered_never_followed(broker, local_store, payload, size, error_type, why) -> None:
    broker.publisher().publish(TOPIC, [Message.new("T", payload, source="s", headers={SIZE_HEADER: size})])
    assert consume(broker, claim_check(local_store)) == []
    [(_, reason)] = dead_letters(broker)
    assert reason.error_type == error_type and why in reason.error_message


def test_an_object_of_another_size_than_declared_is_dead_lettered(broker, local_store) -> None:
    local_store.put("k", b"12345")
    broker.publisher().publish(TOPIC, [Message.new("T", Pointer("claims", "k").to_payload(), source="s",
                                                   headers={SIZE_HEADER: "4"})])
    assert consume(broker, claim_check(local_store)) == []
    [(_, reason)] = dead_letters(broker)
    assert reason.error_type == "ClaimCheckError" and "5 bytes, the message declares 4" in reason.error_message


def test_an_object_above_max_payload_bytes_is_refused_before_it_is_read(broker, local_store) -> None:
    publish(broker, local_store, event(5000))
    assert consume(broker, claim_check(local_store, max_payload_bytes=4096)) == []
    [(_, reason)] = dead_letters(broker)
    assert reason.error_type == "PayloadTooLarge"


class FlakyStore(LocalDirectoryStore):
    """Fault injection around the real directory store: the first `fail_gets` reads fail as an unreachable store
    would; a delete raises `on_delete` (a crash) once called."""

    fail_gets = 0
    on_delete: BaseException | None = None
    deletes = 0

    def get(self, key: str, max_bytes: int) -> bytes:
        if self.fail_gets:
            self.fail_gets -= 1
            raise StoreError("store did not answer")
        return super().get(key, max_bytes)

    def delete(self, key: str) -> None:
        self.deletes += 1
        if self.on_delete is not None:
            raise self.on_delete
        super().delete(key)


def test_a_store_that_does_not_answer_is_retried_not_dead_lettered(broker, tmp_path) -> None:
    store = FlakyStore(tmp_path / "claims", bucket="claims")
    store.fail_gets = 1
    message = event(5000)
    publish(broker, store, message)
    attempts: list[int] = []
    Router(broker.subscriber(TOPIC, GROUP),
           compose(lambda d: attempts.append(d.attempt), retry(RetryPolicy(max_attempts=3, base_delay=0, max_delay=0)),
                   claim_check(store)), receive_timeout=0).run_until_idle(0)
    assert store.fail_gets == 0 and attempts == [2] and dead_letters(broker) == []  # the second delivery had it


def test_delete_after_processing_deletes_only_after_success(broker, tmp_path) -> None:
    store = FlakyStore(tmp_path / "claims", bucket="claims")
    ok, failing = event(5000), event(6000)
    publish(broker, store, ok, failing)
    keys = {m.id: parse_pointer(m.payload).key for m in raw(broker)}

    def handler(delivery) -> None:  # noqa: ANN001
        if delivery.message.id == failing.id:
            raise RuntimeError("handler failed")

    Router(broker.subscriber(TOPIC, GROUP), compose(handler, claim_check(store, delete_after_processing=True)),
           receive_timeout=0).run_once()
    assert not (store.directory / keys[ok.id]).exists()
    assert (store.directory / keys[failing.id]).exists()  # redelivered, the payload still there


class Crash(BaseException):
    """The process dying between two steps."""


def test_crash_between_ack_and_delete_leaves_an_orphan_never_a_dangling_pointer(broker, tmp_path) -> None:
    store = FlakyStore(tmp_path / "claims", bucket="claims")
    store.on_delete = Crash()
    message = event(5000)
    publish(broker, store, message)
    [key] = [parse_pointer(m.payload).key for m in raw(broker)]
    with pytest.raises(Crash):
        Router(broker.subscriber(TOPIC, GROUP),
               compose(lambda d: None, claim_check(store, delete_after_processing=True)), receive_timeout=0).run_once()
    assert store.deletes == 1  # the crash window was hit: after the ack, at the delete
    assert broker.subscriber(TOPIC, GROUP).receive(10, 0) == []  # acked: no redelivery finds the object gone
    assert (store.directory / key).exists()  # the orphan the store's expiry removes


def test_a_handler_that_dead_letters_keeps_the_object(broker, local_store) -> None:
    publish(broker, local_store, event(5000))
    reason = DeadLetterReason("E", "no", 1, *(2 * [event(1).time]), TOPIC)
    Router(broker.subscriber(TOPIC, GROUP), compose(lambda d: d.dead_letter(reason),
                                                    claim_check(local_store, delete_after_processing=True)),
           receive_timeout=0).run_once()
    [(dead, _)] = dead_letters(broker)
    assert (local_store.directory / parse_pointer(dead.payload).key).exists()


def test_a_failed_store_write_fails_the_publish_before_anything_is_sent(broker, tmp_path) -> None:
    class Unwritable(LocalDirectoryStore):
        def put(self, key: str, payload: bytes) -> None:
            raise StoreError("access denied")

    with pytest.raises(PublishError, match="could not be stored"):
        publish(broker, Unwritable(tmp_path / "c"), event(10), event(5000))
    assert raw(broker) == []


def test_local_store_keys_stay_inside_its_directory(local_store) -> None:
    with pytest.raises(Exception, match="not a key the local store holds"):
        local_store.get("../etc/passwd", 100)
    assert issubclass(PointerError, ValueError)
