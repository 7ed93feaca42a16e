"""The adapter interface every broker implements, and the dead-letter reason they all record."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Protocol

from edakit.runtime.message import Message

# Feature names an adapter may declare in `features`; the conformance suite selects tests by them.
FEATURES = frozenset(
    {"ordering", "consumer_groups", "transactions", "server_side_filtering", "native_dlq", "delayed_nack"}
)
# Metadata key under which a Delivery read from a dead-letter queue exposes its DeadLetterReason as JSON.
DLQ_REASON_KEY = "dlq_reason"


class PublishError(RuntimeError):
    """The broker did not acknowledge a publish; nothing may be assumed delivered."""


class BrokerError(RuntimeError):
    """Any other broker failure (receive, ack, settings)."""


class BrokerUnreachable(BrokerError):
    """No answer from the broker within the check's timeout (`check_reachable`): a tool must say so, never report
    an empty result."""


@dataclass(frozen=True)
class DeadLetterReason:
    """Why a message was dead-lettered; travels with it into the DLQ."""

    error_type: str
    error_message: str
    attempts: int
    first_failure: datetime
    last_failure: datetime
    original_source: str
    original_partition: int | None = None
    original_offset: int | None = None

    def to_json(self) -> str:
        fields = asdict(self)
        fields["first_failure"] = self.first_failure.isoformat()
        fields["last_failure"] = self.last_failure.isoformat()
        return json.dumps(fields, ensure_ascii=False, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> DeadLetterReason:
        fields = json.loads(text)
        fields["first_failure"] = datetime.fromisoformat(fields["first_failure"])
        fields["last_failure"] = datetime.fromisoformat(fields["last_failure"])
        return cls(**fields)


@contextmanager
def heartbeat(beat: Callable[[], None], every: float, name: str) -> Iterator[list[Callable[[], None]]]:
    """Call `beat` on entry, then every `every` seconds on a thread until the block exits: how adapters keep slow
    handlers' messages from being redelivered. A failed beat ends the beats and is raised when the block exits,
    since the messages it kept may have been redelivered meanwhile (an error from the block itself takes
    precedence); the first beat's failure is raised at once.

    The block gets a list of riders: callables appended to it are called on every later beat, just before `beat`
    (a snapshot each time, so the block may add and remove them meanwhile). The Router renews idempotency leases this
    way, on the thread that extends visibility and before it, so a store lease never outlives the broker's. Riders
    go on after a failed beat (the run they keep still holds its store lease); a rider handles its own failures, and
    one that raises ends the heartbeat and is raised like a failed beat."""
    if every <= 0:
        raise ValueError(f"heartbeat interval: expected seconds > 0, got {every}")
    beat()  # the lease starts now, not one interval later
    stop = threading.Event()
    failures: list[Exception] = []
    riders: list[Callable[[], None]] = []

    def run() -> None:
        beating = True  # a failed beat ends the adapter's extensions; riders keep renewing their own leases
        while not stop.wait(every):
            try:
                for rider in list(riders):
                    rider()
            except Exception as exc:  # noqa: BLE001 - handed to the caller when the block exits
                failures.append(exc)
                return
            if beating:
                try:
                    beat()
                except Exception as exc:  # noqa: BLE001 - handed to the caller when the block exits
                    failures.append(exc)
                    beating = False

    thread = threading.Thread(target=run, name=name, daemon=True)
    thread.start()
    try:
        yield riders
    finally:
        stop.set()
        thread.join()
    if failures:
        raise failures[0]


class Publisher(Protocol):
    def publish(self, topic: str, messages: Sequence[Message]) -> None:
        """Return only after the broker acknowledged every message; raise PublishError otherwise."""

    def close(self) -> None:
        """Release the client; idempotent."""


class Delivery(Protocol):
    message: Message
    attempt: int  # 1 on first delivery (redelivery count + 1)
    source: str  # topic/queue/subscription it came from
    metadata: Mapping[str, str]  # broker specifics: partition, offset, receipt handle, dlq_reason...

    def ack(self) -> None: ...

    def nack(self, delay_seconds: float = 0) -> None:
        """Redeliver later (not before `delay_seconds` if the adapter declares "delayed_nack")."""

    def dead_letter(self, reason: DeadLetterReason) -> None:
        """Move to the dead-letter queue with `reason`; removes it from the source."""


class Subscriber(Protocol):
    def receive(self, max_messages: int = 10, timeout: float = 1.0) -> list[Delivery]: ...

    def close(self) -> None:
        """Release the client; idempotent."""


class DeadLetters(Protocol):
    """One group's dead-letter queue as the DLQ tooling (edakit.runtime.dlq) drives it: read all of it (leases held
    until the end), replay or keep each message, then settle. `Broker.dead_letters(topic, group)` returns it, so the
    tooling never needs to know which broker it talks to."""

    join_wait: float  # seconds a fresh reader may need before anything shows (Kafka: the group join), else 0

    def receive(self, max_messages: int = 10, timeout: float = 1.0) -> list[Delivery]:
        """Deliveries from the DLQ, each with metadata[DLQ_REASON_KEY] where a reason was recorded."""

    def replay(self, delivery: Delivery, to: str | None = None) -> None:
        """Send the message (same id) back to the group that dead-lettered it and to no other group, or, given
        `to`, publish it to that topic (every group of it). Raise PublishError if the broker did not take it: the
        message then stays in the DLQ."""

    def settle(self, removed: Sequence[Delivery], kept: Sequence[Delivery]) -> None:
        """Remove `removed` from the DLQ and leave `kept` in it, readable again by the next operation."""

    def close(self) -> None:
        """Release the clients; idempotent."""


class SubscriberDeadLetters:
    """DeadLetters over a queue-like DLQ subscriber (single messages removable: ack, kept ones released with
    nack(0)); adapters subclass it with their `replay`."""

    join_wait = 0.0

    def __init__(self, subscriber: Subscriber) -> None:
        self.subscriber = subscriber

    def receive(self, max_messages: int = 10, timeout: float = 1.0) -> list[Delivery]:
        return self.subscriber.receive(max_messages, timeout)

    def replay(self, delivery: Delivery, to: str | None = None) -> None:
        raise NotImplementedError

    def settle(self, removed: Sequence[Delivery], kept: Sequence[Delivery]) -> None:
        for delivery in removed:
            delivery.ack()
        for delivery in kept:
            delivery.nack(0)

    def close(self) -> None:
        self.subscriber.close()


class Broker(Protocol):
    """Settings for one broker; what the conformance suite and the DLQ tooling are given."""

    features: frozenset[str]

    def publisher(self) -> Publisher: ...

    def subscriber(self, topic: str, group: str) -> Subscriber:
        """A consumer in `group`; every group receives every message published after it was created."""

    def dead_letter_subscriber(self, topic: str, group: str) -> Subscriber:
        """Reads what `group` dead-lettered from `topic`; each Delivery carries metadata[DLQ_REASON_KEY]."""

    def dead_letters(self, topic: str, group: str, settings: object | None = None) -> DeadLetters:
        """The DLQ of `group` on `topic` for listing, replay and purge; `settings` (a PublisherSettings from the
        spec) makes replays carry the channel's declared attributes, so the group's own filter still selects them."""

    def check_reachable(self, timeout: float) -> None:
        """Raise BrokerUnreachable unless the broker answers within `timeout` seconds (one request, no retries):
        what a tool runs first, so that "nothing there" is never reported for a broker that is down."""
