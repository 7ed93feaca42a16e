"""Publishing side: a Publisher that offloads large payloads to the claim-check store and publishes pointers."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from edakit.runtime.adapters.base import PublishError, Publisher
from edakit.runtime.claimcheck.pointer import SIZE_HEADER, Pointer
from edakit.runtime.claimcheck.store import PayloadStore, StoreError
from edakit.runtime.message import Message


@dataclass(frozen=True)
class OffloadPolicy:
    """When a channel's payloads go to the store: above `threshold_bytes`, or every one with `always`."""

    threshold_bytes: int
    always: bool = False

    def __post_init__(self) -> None:
        if self.threshold_bytes < 1:
            raise ValueError(f"threshold_bytes: expected at least 1, got {self.threshold_bytes}")

    def offloads(self, message: Message) -> bool:
        return self.always or len(message.payload) > self.threshold_bytes


def offloaded(message: Message, pointer: Pointer) -> Message:
    """`message` carrying `pointer` instead of its payload, with the payload's size in the claim-check header; id,
    type, time, key, content type and the other headers stay, so routing, filters and idempotency see the same event."""
    return dataclasses.replace(message, payload=pointer.to_payload(),
                               headers={**message.headers, SIZE_HEADER: str(len(message.payload))})


class ClaimCheckPublisher:
    """Wraps a broker's publisher: on topics with a policy, a payload the policy offloads is stored first (under a
    fresh uuid4 key, as AWS's Extended Client does) and the message published with the pointer; everything else is
    published untouched.

    A store failure fails the publish before anything is sent (PublishError); a publish that fails after its payloads
    were stored leaves objects no message points to, which the store's expiry removes. Each publish stores anew, so
    two copies of one event (a relay's retry) never share an object that one consumer could delete."""

    def __init__(self, publisher: Publisher, store: PayloadStore, policies: Mapping[str, OffloadPolicy], *,
                 new_key: Callable[[], str] = lambda: str(uuid.uuid4())) -> None:
        self.publisher, self.store, self.policies, self._new_key = publisher, store, dict(policies), new_key

    def publish(self, topic: str, messages: Sequence[Message]) -> None:
        policy = self.policies.get(topic)
        if policy is not None:
            messages = [self._offload(topic, m) if policy.offloads(m) and SIZE_HEADER not in m.headers else m
                        for m in messages]  # a message that already carries a pointer (a replay) is sent as it is
        self.publisher.publish(topic, messages)

    def _offload(self, topic: str, message: Message) -> Message:
        pointer = Pointer(self.store.bucket, self._new_key())
        try:
            self.store.put(pointer.key, message.payload)
        except StoreError as exc:
            raise PublishError(f"{topic}: message {message.id} not published: its payload of {len(message.payload)} "
                               f"bytes could not be stored in the claim-check store: {exc}") from exc
        return offloaded(message, pointer)

    def close(self) -> None:
        self.publisher.close()
