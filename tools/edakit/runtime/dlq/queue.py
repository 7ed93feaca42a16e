"""Dead-letter queue tooling over the adapter interface: list, filter, replay to the source, purge.

Reading the DLQ leases every message until the operation ends. Queues (embedded, SQS) remove single messages: a
message left alone is released with `nack(0)`. A Kafka DLQ is a log read by the group `<group>.dlq` whose
committed offset only moves forward past a contiguous prefix, so when a replay or purge leaves a message behind,
it is appended again to the DLQ topic (with its reason) before the offset moves past it; a listing commits nothing.

Replay keeps the event id. Embedded and Kafka publish to the original topic (every group of it sees the event
again; idempotent consumers skip it). SQS sends straight to the group's own queue, as a redrive would
(receive -> send -> delete: no StartMessageMoveTask needed, and a failed send leaves the message in the DLQ).
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from botocore.exceptions import BotoCoreError, ClientError
from confluent_kafka import Producer

from edakit.runtime.adapters import kafka, sqs_sns
from edakit.runtime.adapters.base import DLQ_REASON_KEY, Broker, DeadLetterReason, Delivery, PublishError
from edakit.runtime.adapters.kafka import KafkaBroker
from edakit.runtime.adapters.sqs_sns import SqsSnsBroker
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
    """The DLQ of consumer group `group` on `topic` (for SQS: the SNS topic; the group names its queue)."""

    # A Kafka consumer sees nothing until its group join and partition assignment are done.
    KAFKA_JOIN_WAIT = 15.0

    def __init__(self, broker: Broker, topic: str, group: str, *, wait: float = 1.0, limit: int = 10_000,
                 reachable_timeout: float = 5.0) -> None:
        self.broker, self.topic, self.group = broker, topic, group
        self.reachable_timeout = reachable_timeout  # a broker that does not answer is BrokerUnreachable, not empty
        self.wait = wait  # how long to wait for more messages before the DLQ counts as read to the end
        self.first_wait = max(wait, self.KAFKA_JOIN_WAIT) if isinstance(broker, KafkaBroker) else wait
        self.limit = limit

    def list(self, selection: Selection = Selection()) -> list[DeadLetter]:
        letters: list[DeadLetter] = []

        def look(delivery: Delivery, letter: DeadLetter) -> bool:
            if selection.matches(letter):
                letters.append(letter)
            return False

        self._sweep(look, mutates=False)
        return letters

    def replay(self, selection: Selection, *, dry_run: bool = False, to: str | None = None) -> Outcome:
        """Send each selected message (same id) to `to` or its source, then remove it from the DLQ."""
        send, close = self._sender(to)
        try:
            return self._apply(selection, (lambda letter: None) if dry_run else send, dry_run)
        finally:
            close()

    def _sender(self, to: str | None) -> tuple[Callable[[DeadLetter], None], Callable[[], None]]:
        if isinstance(self.broker, SqsSnsBroker):
            sqs = self.broker.sqs
            queue_url = self.broker.queue_url(to or sqs_sns.queue_name(self.topic, self.group))

            def send_to_queue(letter: DeadLetter) -> None:
                body, attributes = sqs_sns.encode(letter.message)
                params = {"QueueUrl": queue_url, "MessageBody": body, "MessageAttributes": attributes}
                if queue_url.endswith(".fifo"):
                    params |= {"MessageGroupId": letter.message.key or letter.message.id,
                               "MessageDeduplicationId": letter.message.id}
                try:
                    sqs.send_message(**params)
                except (ClientError, BotoCoreError) as exc:
                    raise PublishError(f"SQS: SendMessage to {queue_url} failed: {exc}") from exc

            return send_to_queue, lambda: None
        publisher = self.broker.publisher()

        def publish(letter: DeadLetter) -> None:
            target = to or (letter.reason.original_source if letter.reason else self.topic)
            publisher.publish(target, [letter.message])

        return publish, publisher.close

    def purge(self, selection: Selection, *, dry_run: bool = False) -> Outcome:
        return self._apply(selection, lambda letter: None, dry_run)

    def _apply(self, selection: Selection, act: Callable[[DeadLetter], None], dry_run: bool) -> Outcome:
        outcome = Outcome()

        def decide(delivery: Delivery, letter: DeadLetter) -> bool:
            if not selection.matches(letter):
                outcome.kept += 1
                return False
            try:
                act(letter)
            except PublishError as exc:  # not removed: a failed send never loses the message
                outcome.failed.append((letter, str(exc)))
                return False
            outcome.done.append(letter)
            return not dry_run

        self._sweep(decide, mutates=not dry_run)
        return outcome

    def _sweep(self, remove: Callable[[Delivery, DeadLetter], bool], *, mutates: bool) -> None:
        """Read the whole DLQ (leases held until the end), then remove or release each message."""
        self.broker.check_reachable(self.reachable_timeout)  # else a broker that is down reads as an empty DLQ
        subscriber = self.broker.dead_letter_subscriber(self.topic, self.group)
        try:
            held: list[tuple[Delivery, bool]] = []
            # One message first: a receive may wait its whole timeout for a full batch (Kafka's consume does).
            while len(held) < self.limit and (batch := subscriber.receive(
                    min(100, self.limit - len(held)) if held else 1, timeout=self.wait if held else self.first_wait)):
                held.extend((d, remove(d, _letter(d))) for d in batch)
            kept = [d for d, removed in held if not removed]
            if isinstance(self.broker, KafkaBroker):
                if not mutates or len(kept) == len(held):
                    return  # nothing settled: the group's committed offset stays where it was
                self._append_again(kept)
                kept = []
            for delivery, removed in held:
                if removed:
                    delivery.ack()
            for delivery in kept:
                delivery.nack(0)
        finally:
            subscriber.close()

    def _append_again(self, deliveries: Sequence[Delivery]) -> None:
        """Kafka: copy messages that stay to the end of the DLQ topic, then settle the originals."""
        if not deliveries:
            return
        assert isinstance(self.broker, KafkaBroker)
        producer = Producer(self.broker.producer_config)
        errors: list[str] = []
        for d in deliveries:
            key, value, headers = kafka.encode(d.message, {DLQ_REASON_KEY: d.metadata[DLQ_REASON_KEY]}
                                               if DLQ_REASON_KEY in d.metadata else None)
            producer.produce(kafka.dead_letter_topic(self.topic, self.group), value=value, key=key, headers=headers,
                             on_delivery=lambda err, _record: errors.append(err.str()) if err else None)
        if producer.flush(30) or errors:
            raise PublishError(f"Kafka: could not re-append {len(deliveries)} kept dead letter(s); nothing was "
                               f"committed, so every message is still in the DLQ: {errors[:1]}")
        for d in deliveries:
            d.ack()
