"""Claim check on the embedded broker: a 2 MB order document travels through the store, the message carries a pointer.

Why: brokers cap message size (SNS 256 KiB, Kafka's max.message.bytes 1 MiB, Event Grid 1 MB, Pub/Sub 10 MB). A
publisher that puts large payloads into object storage and sends only a reference ("claim check") stays under the
cap; consumers fetch the payload when the message arrives. The kit's pointer is the one AWS's SQS Extended Client
Library writes, so on S3 + SQS either side reads what the other offloaded.

What happens (no servers, no network: the broker is a SQLite file and the store is the local-development store, a
directory, with the same pointer format as the S3, Azure Blob and GCS stores):
1. The Order service publishes two OrderPlaced events on `order-documents`: a 2 KB one and one with a 2 MB scanned
   order document. The threshold is the embedded broker's default (SNS's limit with room to spare): the small
   payload travels as it is, the large one is stored and replaced by a pointer of under 200 bytes.
2. Invoicing and Archive (two groups: a fan-out) each get the whole 2 MB document back, byte for byte.
3. A third order's document expires from the store before Invoicing reads it (what the store's lifecycle rule does
   to a message that waited too long): the message is dead-lettered at once with the reason, not retried in a loop.
4. Deleting payloads after processing: refused for this fan-out channel by the spec settings (one object serves
   both groups); on a channel with one reader the object is deleted once the message is acknowledged.
Any failed check exits 1.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import sys
import tempfile
from pathlib import Path

from edakit.runtime.adapters.base import DLQ_REASON_KEY, DeadLetterReason, Delivery
from edakit.runtime.adapters.embedded import EmbeddedBroker
from edakit.runtime.claimcheck import (SIZE_HEADER, ClaimCheckPublisher, LocalDirectoryStore, OffloadPolicy,
                                       claim_check, default_threshold)
from edakit.runtime.claimcheck.settings import claim_check_settings
from edakit.runtime.message import Message
from edakit.runtime.middleware import RetryPolicy, Router, compose, retry
from edakit.runtime.settings import SettingsError
from edakit.spec import load_spec

TOPIC, SINGLE = "order-documents", "invoice-renders"
GROUPS = ("invoicing", "archive")
POLICY = RetryPolicy(max_attempts=3, base_delay=0.01, max_delay=0.02)
SPEC = Path(__file__).resolve().parents[2] / "configs" / "order-claim-check.yaml"


def say(text: str) -> None:
    print(text, flush=True)


def order(order_id: str, document_bytes: int) -> Message:
    scan = (hashlib.sha256(order_id.encode()).hexdigest() * (document_bytes // 64 + 1))[:document_bytes]
    return Message.new("OrderPlaced", json.dumps({"order_id": order_id, "document": scan}).encode(),
                       source="/services/order", key=order_id)


def digest(payload: bytes) -> str:
    return hashlib.sha256(payload).hexdigest()[:12]


def on_broker(broker: EmbeddedBroker, group: str) -> list[Message]:
    """What the broker holds for `group` (read and released again)."""
    deliveries = broker.subscriber(TOPIC, group).receive(10, 0)
    for delivery in deliveries:
        delivery.nack(0)
    return [d.message for d in deliveries]


def main() -> int:
    kit_log = logging.getLogger("edakit")
    previous = kit_log.level
    kit_log.setLevel(logging.ERROR)  # the demo prints what the middleware logs
    try:
        return _main()
    finally:
        kit_log.setLevel(previous)  # a caller's logging (a test run importing the demo) is left as it was


def _main() -> int:
    problems: list[str] = []

    def check(ok: bool, problem: str) -> None:
        if not ok:
            problems.append(problem)

    with tempfile.TemporaryDirectory(prefix="edakit-claim-check-") as tmp:
        broker = EmbeddedBroker(Path(tmp) / "broker.sqlite3")
        for group in GROUPS:
            broker.create_group(TOPIC, group)
        broker.create_group(SINGLE, "renderer")
        store = LocalDirectoryStore(Path(tmp) / "claim-checks", bucket="orders-claim-checks")
        threshold = default_threshold("embedded")
        publisher = ClaimCheckPublisher(broker.publisher(), store, {TOPIC: OffloadPolicy(threshold),
                                                                    SINGLE: OffloadPolicy(threshold)})
        small, large = order("ord-1", 2_000), order("ord-2", 2 * 1024 * 1024)

        say(f"1. publish ord-1 ({len(small.payload):,} bytes) and ord-2 ({len(large.payload):,} bytes) to {TOPIC!r}, "
            f"threshold {threshold:,} bytes")
        publisher.publish(TOPIC, [small, large])
        held = {m.id: m for m in on_broker(broker, "invoicing")}
        say(f"   on the broker: ord-1 {len(held[small.id].payload):,} bytes as published; ord-2 "
            f"{len(held[large.id].payload)} bytes: {held[large.id].payload.decode()}")
        say(f"   header {SIZE_HEADER}={held[large.id].headers.get(SIZE_HEADER)}; the store holds "
            f"{len(list(store.directory.iterdir()))} object")
        check(held[small.id].payload == small.payload, "ord-1 was changed on its way")
        check(len(held[large.id].payload) < 200 and held[large.id].headers.get(SIZE_HEADER) == str(len(large.payload)),
              "ord-2 did not travel as a pointer with its size")

        say("\n2. Invoicing and Archive consume through the claim_check middleware")
        for group in GROUPS:
            got: dict[str, bytes] = {}
            Router(broker.subscriber(TOPIC, group),
                   compose(lambda d: got.__setitem__(d.message.key, d.message.payload), retry(POLICY),
                           claim_check(store)), receive_timeout=0).run_until_idle(0)
            say(f"   {group:<10} ord-1 {len(got.get('ord-1', b'')):,} bytes, ord-2 {len(got.get('ord-2', b'')):,} "
                f"bytes (sha256 {digest(got.get('ord-2', b''))}, published {digest(large.payload)})")
            check(got == {"ord-1": small.payload, "ord-2": large.payload}, f"{group} did not get both payloads back")

        say("\n3. ord-3's document expires from the store before Invoicing reads it")
        late = order("ord-3", 500_000)
        stored_before = set(store.directory.iterdir())
        publisher.publish(TOPIC, [late])
        for expired in set(store.directory.iterdir()) - stored_before:
            expired.unlink()  # what the lifecycle rule does after payload_expiration_days
        handled: list[Delivery] = []
        Router(broker.subscriber(TOPIC, "invoicing"), compose(handled.append, retry(POLICY), claim_check(store)),
               receive_timeout=0).run_until_idle(POLICY.max_delay + 0.1)
        dead = broker.dead_letter_subscriber(TOPIC, "invoicing").receive(10, 0)
        reasons = [DeadLetterReason.from_json(d.metadata[DLQ_REASON_KEY]) for d in dead]
        for reason in reasons:
            say(f"   dead-lettered at attempt {reason.attempts}: {reason.error_type}: {reason.error_message}")
        check(handled == [] and [r.error_type for r in reasons] == ["PayloadMissing"]
              and all(r.attempts == 1 for r in reasons), "the expired payload was not dead-lettered at once")

        say("\n4. delete payloads after processing?")
        spec = load_spec(SPEC, "staging")
        deleting = dataclasses.replace(spec, claim_check=dataclasses.replace(spec.claim_check,
                                                                            delete_after_processing=True))
        try:
            claim_check_settings(deleting)
            problems.append("the spec settings allowed deleting on a fan-out channel")
        except SettingsError as refused:
            say(f"   the spec settings refuse it for the fan-out: {str(refused).split(': ', 2)[-1]}")
        report = order("ord-4", 400_000)
        publisher.publish(SINGLE, [report])
        before = len(list(store.directory.iterdir()))
        Router(broker.subscriber(SINGLE, "renderer"), compose(lambda d: None, claim_check(
            store, delete_after_processing=True)), receive_timeout=0).run_until_idle(0)
        after = len(list(store.directory.iterdir()))
        say(f"   {SINGLE!r} has one reader: store objects {before} -> {after} once ord-4 was acknowledged")
        check(after == before - 1, "the single reader did not delete its payload after the ack")

    for problem in problems:
        say(f"FAIL: {problem}")
    say("\nclaim-check: " + ("FAIL" if problems else
        "PASS: the 2 MB document crossed the broker as a pointer of under 200 bytes and reached both groups intact; "
        "the "
        "expired one was dead-lettered with its reason; deletes only where one reader owns the object"))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
