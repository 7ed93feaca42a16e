"""Consuming side: middleware that gives the handler the stored payload back, and dead-letters a message whose
payload cannot be had (missing or expired object, bad pointer, another bucket) instead of retrying it forever."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping
from datetime import datetime, timezone

from edakit.runtime.adapters.base import DeadLetterReason, Delivery
from edakit.runtime.claimcheck.pointer import SIZE_HEADER, PointerError, declared_size, parse_pointer
from edakit.runtime.claimcheck.store import (DEFAULT_MAX_PAYLOAD_BYTES, PayloadMissing, PayloadStore, PayloadTooLarge,
                                            StoreError)
from edakit.runtime.message import Message
from edakit.runtime.middleware.chain import Handler, Middleware
from edakit.runtime.middleware.retry import dead_letter_reason

log = logging.getLogger(__name__)


class ClaimCheckError(PointerError):
    """The object does not match the message's claim (its size differs): a poison message."""


# What no retry can fix; any other StoreError (the store did not answer) is raised, for the retry middleware.
POISON = (PointerError, PayloadMissing, PayloadTooLarge)


class RestoredDelivery:
    """The delivery as the handler sees it: the stored payload in place of the pointer. Settling goes to the
    delivery it wraps (so a dead letter carries the small pointer message, replayable while the object lives)."""

    def __init__(self, delivery: Delivery, message: Message) -> None:
        self.delivery, self.message = delivery, message
        self.settled: str | None = None

    @property
    def attempt(self) -> int:
        return self.delivery.attempt

    @property
    def source(self) -> str:
        return self.delivery.source

    @property
    def metadata(self) -> Mapping[str, str]:
        return self.delivery.metadata

    def ack(self) -> None:
        self.delivery.ack()
        self.settled = "acked"

    def nack(self, delay_seconds: float = 0) -> None:
        self.delivery.nack(delay_seconds)
        self.settled = "nacked"

    def dead_letter(self, reason: DeadLetterReason) -> None:
        self.delivery.dead_letter(reason)
        self.settled = "dead-lettered"


def restore(message: Message, store: PayloadStore, max_payload_bytes: int = DEFAULT_MAX_PAYLOAD_BYTES) -> Message:
    """The message with its stored payload and without the claim-check header; raises one of POISON for a message
    no retry can restore, StoreError when the store did not answer."""
    size = declared_size(message.headers[SIZE_HEADER])
    pointer = parse_pointer(message.payload)
    if pointer.bucket != store.bucket:
        # The pointer is untrusted input: following it could read any bucket the consumer's credentials reach.
        raise PointerError(f"claim-check pointer names bucket {pointer.bucket!r:.80}; this consumer reads only "
                           f"{store.bucket!r}")
    if size > max_payload_bytes:
        raise PayloadTooLarge(f"claim-check object {pointer} is declared as {size} bytes, more than the "
                              f"{max_payload_bytes} this consumer reads (max_payload_bytes)")
    payload = store.get(pointer.key, max_payload_bytes)
    if len(payload) != size:
        raise ClaimCheckError(f"claim-check object {pointer} is {len(payload)} bytes, the message declares {size} "
                              f"({SIZE_HEADER}): not the payload it was published with")
    headers = {name: value for name, value in message.headers.items() if name != SIZE_HEADER}
    return dataclasses.replace(message, payload=payload, headers=headers)


def claim_check(store: PayloadStore, *, delete_after_processing: bool = False,
                max_payload_bytes: int = DEFAULT_MAX_PAYLOAD_BYTES) -> Middleware:
    """Put it innermost, just before the handler (tracing -> retry -> idempotency -> claim_check -> handler), so a
    duplicate the idempotency middleware skips never reads the store.

    Messages without the claim-check header pass untouched. A message whose object is missing (deleted, or expired by
    the store's lifecycle rule), larger than `max_payload_bytes`, of another size than declared, or whose pointer is
    malformed or names another bucket, is dead-lettered at once with the reason; a store that does not answer raises
    StoreError, which the retry middleware retries like any handler error.

    `delete_after_processing` deletes the object once the handler returned and the message is acknowledged (the
    middleware acks it itself, then deletes): a crash in between leaves an object no message points to, which the
    store's expiry removes, never a message whose payload is gone. Only for a channel with one subscriber, where no
    other queue or group still needs the object: edakit.runtime.claimcheck.settings refuses it for a fan-out. A
    failed delete is logged, not raised: the message is already acknowledged."""

    def middleware(next_handler: Handler) -> Handler:
        def handle(delivery: Delivery) -> None:
            message = delivery.message
            if SIZE_HEADER not in message.headers:
                next_handler(delivery)
                return
            try:
                restored = RestoredDelivery(delivery, restore(message, store, max_payload_bytes))
            except POISON as error:
                now = datetime.now(timezone.utc)
                log.warning("message %s from %s dead-lettered: %s", message.id, delivery.source, error)
                delivery.dead_letter(dead_letter_reason(delivery, error, now, now))
                return
            next_handler(restored)
            if not delete_after_processing or restored.settled not in (None, "acked"):
                return
            if restored.settled is None:
                delivery.ack()  # before the delete: never a pointer left in the queue whose object is gone
            key = parse_pointer(message.payload).key
            try:
                store.delete(key)
            except StoreError as exc:
                log.warning("message %s: claim-check object %s/%s not deleted (the store's expiry removes it): %s",
                            message.id, store.bucket, key, exc)

        return handle

    return middleware
