"""Dead-letter queue tooling over the adapter interface: list, filter, replay to the failing group, purge.

Each broker's DLQ operations sit behind `Broker.dead_letters(topic, group)` (edakit.runtime.adapters.base
.DeadLetters): this module reads the whole DLQ (leases held until the end), decides per message, and hands the
adapter what to remove and what to keep. It knows no broker: how a replay reaches the failing group alone, and how
a log (Kafka) keeps what a queue would release, is each adapter's (see the adapters' `*DeadLetters` classes and
the DLQ section of edakit/runtime/README.md).

Replay keeps the event id and goes to the group that dead-lettered the message only, never to the topic's other
groups; `to` publishes to a topic of the caller's choice instead (every group of it).
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from edakit.runtime.adapters.base import DLQ_REASON_KEY, Broker, DeadLetterReason, DeadLetters, Delivery, PublishError
from edakit.runtime.message import Message


@dataclass(frozen=True)
class DeadLetter:
    message: Message
    reason: DeadLetterReason | None  # None if the message reached the DLQ without one (e.g. SQS native redrive)
    position: str  # where it sits in the DLQ (partition/offset, sequence number...)

    def summary(self) -> dict[str, object]:
        r = self.reason
        return {
            "id": self.message.id, "type": self.message.type, "source": self.message.source,
            "time": self.message.time.isoformat(), "key": self.message.key, "position": self.position,
            "error_type": r.error_type if r else None, "error_message": r.error_message if r else None,
            "attempts": r.attempts if r else None,
            "first_failure": r.first_failure.isoformat() if r else None,
            "last_failure": r.last_failure.isoformat() if r else None,
            "original_source": r.original_source if r else None,
            "original_partition": r.original_partition if r else None,
            "original_offset": r.original_offset if r else None,
        }


@dataclass(frozen=True)
class Selection:
    """Which dead letters an operation applies to; every given criterion must match. Patterns are globs."""

    event_ids: frozenset[str] = frozenset()
    event_type: str | None = None
    error_type: str | None = None
    failed_after: datetime | None = None
    failed_before: datetime | None = None

    def matches(self, letter: DeadLetter) -> bool:
        r = letter.reason
        return ((not self.event_ids or letter.message.id in self.event_ids)
                and (self.event_type is None or fnmatch.fnmatchcase(letter.message.type, self.event_type))
                and (self.error_type is None or (r is not None and fnmatch.fnmatchcase(r.error_type, self.error_type)))
                and (self.failed_after is None or (r is not None and r.last_failure >= self.failed_after))
                and (self.failed_before is None or (r is not None and r.last_failure < self.failed_before)))


@dataclass
class Outcome:
    done: list[DeadLetter] = field(default_factory=list)  # replayed or purged (or would be, on a dry run)
    failed: list[tuple[DeadLetter, str]] = field(default_factory=list)  # still in the DLQ, with why
    kept: int = 0  # not selected, left in the DLQ


def _position(delivery: Delivery) -> str:
    return ", ".join(f"{k}={delivery.metadata[k]}" for k in ("partition", "offset", "seq") if k in delivery.metadata)


def _letter(delivery: Delivery) -> DeadLetter:
    text = delivery.metadata.get(DLQ_REASON_KEY)
    return DeadLetter(delivery.message, DeadLetterReason.from_json(text) if text else None, _position(delivery))


class DeadLetterQueue:
    """The DLQ of consumer group `group` on `topic` (for SQS: the SNS topic; the group names its queue).

    `settings` (edakit.runtime.settings.publisher_settings(spec)) makes replays carry the channel's declared
    attributes, so a filter of the failing subscription on them still selects the replay."""

    def __init__(self, broker: Broker, topic: str, group: str, *, wait: float = 1.0, limit: int = 10_000,
                 reachable_timeout: float = 5.0, settings: object | None = None) -> None:
        self.broker, self.topic, self.group = broker, topic, group
        self.reachable_timeout = reachable_timeout  # a broker that does not answer is BrokerUnreachable, not empty
        self.wait = wait  # how long to wait for more messages before the DLQ counts as read to the end
        self.limit = limit
        self.settings = settings

    def list(self, selection: Selection = Selection()) -> list[DeadLetter]:
        letters: list[DeadLetter] = []

        def look(dlq: DeadLetters, delivery: Delivery, letter: DeadLetter) -> bool:
            if selection.matches(letter):
                letters.append(letter)
            return False

        self._sweep(look)
        return letters

    def replay(self, selection: Selection, *, dry_run: bool = False, to: str | None = None) -> Outcome:
        """Send each selected message (same id) to the failing group alone, or to topic `to` (SQS: queue `to`),
        then remove it from the DLQ."""
        return self._apply(selection, (lambda dlq, delivery: None) if dry_run
                           else (lambda dlq, delivery: dlq.replay(delivery, to)), dry_run)

    def purge(self, selection: Selection, *, dry_run: bool = False) -> Outcome:
        return self._apply(selection, lambda dlq, delivery: None, dry_run)

    def _apply(self, selection: Selection, act: Callable[[DeadLetters, Delivery], None], dry_run: bool) -> Outcome:
        outcome = Outcome()

        def decide(dlq: DeadLetters, delivery: Delivery, letter: DeadLetter) -> bool:
            if not selection.matches(letter):
                outcome.kept += 1
                return False
            try:
                act(dlq, delivery)
            except PublishError as exc:  # not removed: a failed send never loses the message
                outcome.failed.append((letter, str(exc)))
                return False
            outcome.done.append(letter)
            return not dry_run

        self._sweep(decide)
        return outcome

    def _sweep(self, remove: Callable[[DeadLetters, Delivery, DeadLetter], bool]) -> None:
        """Read the whole DLQ (leases held until the end), then let the adapter remove or keep each message."""
        self.broker.check_reachable(self.reachable_timeout)  # else a broker that is down reads as an empty DLQ
        dlq = self.broker.dead_letters(self.topic, self.group, self.settings)
        try:
            first_wait = max(self.wait, dlq.join_wait)
            held: list[tuple[Delivery, bool]] = []
            # One message first: a receive may wait its whole timeout for a full batch (Kafka's consume does).
            while len(held) < self.limit and (batch := dlq.receive(
                    min(100, self.limit - len(held)) if held else 1, timeout=self.wait if held else first_wait)):
                held.extend((d, remove(dlq, d, _letter(d))) for d in batch)
            dlq.settle([d for d, removed in held if removed], [d for d, removed in held if not removed])
        finally:
            dlq.close()
