"""Schema-aware consuming: decode and check each delivery against its channel's event schemas before the handler
runs; a payload that cannot be read (undecodable, invalid, an unknown schema id or event type) is a poison message,
dead-lettered at once with the reason (schema file, version, JSON path), never retried. A registry that does not
answer raises instead, so retry() redelivers: the message may be fine.

Put it inside retry() and outside idempotency(): `compose(handler, tracing(), metrics(), retry(policy),
serialization(codec), idempotency(...))`. The handler gets a `DecodedDelivery`: the delivery, plus `value` (the
document) and `decoded` (the schema it was read with and the producer's schema id).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

from edakit.runtime.adapters.base import DeadLetterReason, Delivery
from edakit.runtime.message import Message
from edakit.runtime.middleware.chain import Handler, Middleware
from edakit.runtime.middleware.retry import dead_letter_reason
from edakit.runtime.serde.codec import ChannelCodec, Decoded, PoisonMessage

log = logging.getLogger(__name__)


class DecodedDelivery:
    """A delivery with its payload decoded; settling goes to the delivery it wraps."""

    def __init__(self, delivery: Delivery, decoded: Decoded) -> None:
        self.delivery, self.decoded = delivery, decoded

    @property
    def value(self) -> Any:
        return self.decoded.value

    @property
    def message(self) -> Message:
        return self.delivery.message

    @property
    def attempt(self) -> int:
        return self.delivery.attempt

    @property
    def source(self) -> str:
        return self.delivery.source

    @property
    def metadata(self) -> Mapping[str, str]:
        return self.delivery.metadata

    @property
    def settled(self) -> str | None:
        return getattr(self.delivery, "settled", None)

    def ack(self) -> None:
        self.delivery.ack()

    def nack(self, delay_seconds: float = 0) -> None:
        self.delivery.nack(delay_seconds)

    def dead_letter(self, reason: DeadLetterReason) -> None:
        self.delivery.dead_letter(reason)


def serialization(codec: ChannelCodec) -> Middleware:
    """Decode each delivery with `codec` (edakit.runtime.serde.channel_codec(spec, channel)); poison goes to the
    DLQ with a DeadLetterReason of error_type `PoisonMessage`."""

    def middleware(next_handler: Handler) -> Handler:
        def handle(delivery: Delivery) -> None:
            try:
                decoded = codec.decode(delivery.message)
            except PoisonMessage as poison:
                now = datetime.now(timezone.utc)
                log.warning("message %s from %s is poison, dead-lettered: %s", delivery.message.id,
                            delivery.source, poison)
                delivery.dead_letter(dead_letter_reason(delivery, poison, now, now))
                return
            next_handler(DecodedDelivery(delivery, decoded))

        return handle

    return middleware
