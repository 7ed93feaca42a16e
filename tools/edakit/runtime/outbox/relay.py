"""The relay: moves committed outbox rows to a broker; a row is deleted only after the broker acknowledged it.

A round claims up to `batch_size` due rows in id order and publishes them in runs of one topic (a "group", one ack
wait). Each acknowledged group is deleted on its own, so a group the broker refuses never holds back the others:
its rows record the attempt and the error and wait out an exponential backoff with jitter, and later rows of the
same aggregate (the ordering key) wait behind them. After `max_attempts` failed attempts a row moves to the outbox's
dead-letter table; its aggregate stays blocked until the row is requeued or explicitly released
(`edakit outbox dlq requeue|release`), so per-aggregate order never breaks silently.

A failure is blamed on the row, and can dead-letter it, only while the broker demonstrably accepts publishes (it
acknowledged one from this relay within `RetryPolicy.broker_up_window` seconds): when the broker itself is down every
row keeps retrying, and the outage shows in `lag()` instead of the whole outbox moving to the dead-letter table.
"""

from __future__ import annotations

import logging
import os
import random
import signal
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime
from itertools import groupby
from typing import Protocol

from edakit.redact import redact
from edakit.runtime.adapters.base import BrokerError, Publisher, PublishError
from edakit.runtime.message import Message
from edakit.runtime.middleware.tracing import send_span

log = logging.getLogger(__name__)

# Fault injection for the crash-window test: SIGKILL this process right after the broker acknowledged the n-th
# published group, before its rows are deleted. Read once, when a Relay is built.
FAULT_AFTER_PUBLISH_ENV = "EDAKIT_FAULT_AFTER_PUBLISH"
ERROR_LIMIT = 2000  # characters of a publish error kept in last_error


@dataclass(frozen=True)
class Lag:
    rows: int
    oldest_age_seconds: float  # 0.0 when the outbox is empty
    failing_rows: int = 0  # rows whose last publish attempt failed (waiting out their backoff)
    dead_letters: int = 0  # rows in the dead-letter table
    dead_letters_blocking: int = 0  # of those, not released: each holds back its aggregate's later rows


@dataclass(frozen=True)
class RetryPolicy:
    """When a failed row is tried again, and when it is dead-lettered."""

    max_attempts: int = 10
    backoff_base: float = 0.5  # seconds before the second attempt; doubles per attempt
    backoff_max: float = 60.0
    broker_up_window: float = 60.0  # an ack this recent shows the broker up, so a failure is the row's own

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError(f"max_attempts must be >= 1, got {self.max_attempts}")
        if not 0 < self.backoff_base <= self.backoff_max:
            raise ValueError(f"backoff: expected 0 < backoff_base <= backoff_max, got {self.backoff_base} and "
                             f"{self.backoff_max}")
        if self.broker_up_window < 0:
            raise ValueError(f"broker_up_window must be >= 0, got {self.broker_up_window}")

    def delay(self, attempts: int, rng: random.Random | None = None) -> float:
        """Seconds to wait after the `attempts`-th failure: exponential, capped, with jitter in [50%, 100%] so
        relays and rows that failed together do not retry in lockstep."""
        exponential = self.backoff_base * 2.0 ** min(max(attempts - 1, 0), 60)
        return min(self.backoff_max, exponential) * (rng or random).uniform(0.5, 1.0)


@dataclass(frozen=True, slots=True)
class Claimed:
    """One claimed row: its id, topic, aggregate (the ordering key) and the message it publishes."""

    id: int
    topic: str
    aggregate: tuple[str, str]  # (aggregate_type, aggregate_id)
    message: Message


@dataclass(frozen=True)
class GroupFailure:
    topic: str
    ids: list[int]
    error: str


@dataclass(frozen=True)
class DeadLetter:
    """A row in the outbox's dead-letter table (`edakit outbox dlq`)."""

    id: int  # its outbox id, which a requeue gives back
    event_id: str
    aggregate_type: str
    aggregate_id: str
    event_type: str
    topic: str
    attempts: int
    last_error: str | None
    created_at: datetime
    dead_lettered_at: datetime
    released_at: datetime | None = None
    source: str = ""
    key: str | None = None
    content_type: str = ""
    headers: str = "{}"
    payload: bytes = b""
    releases: list[Release] = field(default_factory=list)


@dataclass(frozen=True)
class Release:
    """An operator's decision to let an aggregate's later rows overtake its dead-lettered row."""

    outbox_id: int
    event_id: str
    aggregate_type: str
    aggregate_id: str
    released_by: str
    reason: str
    released_at: datetime


class DeadLetterNotFound(LookupError):
    """No dead-lettered row with that id."""


class Batch(Protocol):
    rows: Sequence[Claimed]

    def acked(self, ids: Sequence[int]) -> None:
        """The broker acknowledged these rows: delete them."""

    def failed(self, failures: Sequence[GroupFailure], policy: RetryPolicy, blame_rows: bool) -> list[DeadLetter]:
        """Record a failed attempt on each row and schedule its retry; with `blame_rows`, move rows that reached
        `policy.max_attempts` to the dead-letter table and return them."""


class OutboxStore(Protocol):
    def claim(self, limit: int) -> AbstractContextManager[Batch]:
        """Claim up to `limit` due rows, in id order, that no earlier row of their aggregate holds back."""

    def wait(self, timeout: float) -> None:
        """Block until new rows may be there (a notification) or `timeout` seconds passed."""

    def lag(self) -> Lag: ...

    def dead_letters(self, limit: int = 100) -> list[DeadLetter]: ...

    def dead_letter(self, outbox_id: int) -> DeadLetter:
        """The row with its payload and release records; raises DeadLetterNotFound."""

    def requeue(self, outbox_ids: Sequence[int]) -> list[int]:
        """Move dead-lettered rows back to the outbox under their own ids, with a fresh attempt count; returns the
        ids moved (raises DeadLetterNotFound, moving none, if any is missing)."""

    def release(self, outbox_id: int, released_by: str, reason: str) -> Release:
        """Let the aggregate's later rows flow past this dead-lettered row (which stays in the dead-letter table);
        recorded with who, when and why. Raises DeadLetterNotFound, or ValueError if already released."""

    def check_schema(self) -> None:
        """Raise OutboxSchemaError if the table is missing or outdated (`edakit outbox init` upgrades it)."""

    def close(self) -> None: ...


@dataclass
class Round:
    claimed: int = 0
    published: int = 0
    failed: int = 0
    failures: list[GroupFailure] = field(default_factory=list)
    dead_lettered: list[DeadLetter] = field(default_factory=list)


class RelayPublishError(PublishError):
    """`drain()` published what it could; these groups failed (their rows stay in the outbox, or were
    dead-lettered)."""

    def __init__(self, published: int, failures: Sequence[GroupFailure]) -> None:
        self.published, self.failures = published, list(failures)
        rows = len({i for failure in failures for i in failure.ids})
        super().__init__(f"{rows} row(s) not published (first: topic {failures[0].topic!r}: {failures[0].error}); "
                         f"{published} published")


@dataclass
class _Streak:
    failures: int
    since: float


def _fault_after_publish() -> int | None:
    value = os.environ.get(FAULT_AFTER_PUBLISH_ENV)
    if value is None or value == "":
        return None
    if not value.isdigit() or int(value) < 1:
        raise ValueError(f"{FAULT_AFTER_PUBLISH_ENV}={value!r}: expected a whole number >= 1 (the acknowledged "
                         "publish after which the relay kills itself)")
    log.warning("outbox relay: %s=%s: this process SIGKILLs itself after that many acknowledged publishes",
                FAULT_AFTER_PUBLISH_ENV, value)
    return int(value)


class Relay:
    """Loop: drain the outbox in batches, then sleep until notified or `poll_interval` passes.

    A crash between the broker ack and the delete republishes what was acknowledged but not yet deleted: at most
    `batch_size` duplicates per crash, never a loss. Consumers deduplicate by event id.
    """

    def __init__(self, store: OutboxStore, publisher: Publisher, *, batch_size: int = 100,
                 poll_interval: float = 1.0, retry: RetryPolicy | None = None,
                 rng: random.Random | None = None) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        self.store = store
        self.publisher = publisher
        self.batch_size = batch_size
        self.poll_interval = poll_interval
        self.retry = retry or RetryPolicy()
        self._rng = rng or random.Random()
        self._last_ack: float | None = None  # monotonic time of the broker's last acknowledgement
        self._streaks: dict[str, _Streak] = {}  # topic -> its current failure streak (one log line each)
        self._round_streak: _Streak | None = None
        self._kill_after = _fault_after_publish()
        self._acks = 0

    def drain(self) -> int:
        """Publish everything that is due; raise RelayPublishError at the end if any group failed."""
        total, failures = 0, []
        for result in self._rounds():
            total += result.published
            failures.extend(result.failures)
        if failures:
            raise RelayPublishError(total, failures)
        return total

    def run(self, stop: threading.Event) -> None:
        """Relay until `stop` is set; a failed round (broker or database down) leaves its rows for the next one and
        logs one line per failure streak, one when it recovers."""
        while not stop.is_set():
            try:
                for _ in self._rounds():
                    if stop.is_set():
                        break
                self._round_recovered()
                self.store.wait(self.poll_interval)
            except Exception as exc:  # noqa: BLE001 - the loop must outlive outages; rows stay in the outbox
                self._round_failed(exc)
                stop.wait(self.poll_interval)

    def _rounds(self) -> Iterator[Round]:
        # Until a round publishes nothing and fails only rows that already failed in this drain (or none): failed
        # rows wait out their backoff and rows behind them are not claimed, so this ends even with the broker down.
        failed_before: set[int] = set()
        while True:
            result = self.round()
            yield result
            failed_now = {i for failure in result.failures for i in failure.ids}
            if not result.published and failed_now <= failed_before:
                return
            failed_before |= failed_now

    def round(self) -> Round:
        """Claim one batch, publish it group by group, delete the acknowledged groups, record the failures."""
        result = Round()
        with self.store.claim(self.batch_size) as batch:
            result.claimed = len(batch.rows)
            blocked: set[tuple[str, str]] = set()  # aggregates with a failed row in this round
            for topic, run in groupby(batch.rows, key=lambda row: row.topic):
                ready = [row for row in run if row.aggregate not in blocked]
                if not ready:
                    continue
                try:
                    messages = [row.message for row in ready]
                    with send_span(topic, messages, self.publisher):  # parent/links: the rows' stored contexts
                        self.publisher.publish(topic, messages)
                except (PublishError, BrokerError) as exc:
                    blocked.update(row.aggregate for row in ready)
                    error = redact(f"{type(exc).__name__}: {exc}")[:ERROR_LIMIT]
                    result.failures.append(GroupFailure(topic, [row.id for row in ready], error))
                    continue
                self._last_ack = time.monotonic()
                self._after_ack()
                batch.acked([row.id for row in ready])
                result.published += len(ready)
                self._recovered(topic)
            if result.failures:
                result.failed = sum(len(f.ids) for f in result.failures)
                result.dead_lettered = batch.failed(result.failures, self.retry, self._broker_up())
        for failure in result.failures:
            self._failed(failure)
        for dead in result.dead_lettered:
            log.error("outbox relay: row %d (event %s, aggregate %s/%s, topic %r) moved to the dead-letter table "
                      "after %d attempts: %s; later rows of its aggregate wait until it is requeued or released "
                      "(edakit outbox dlq requeue|release)", dead.id, dead.event_id, dead.aggregate_type,
                      dead.aggregate_id, dead.topic, dead.attempts, dead.last_error)
        return result

    def _broker_up(self) -> bool:
        return self._last_ack is not None and time.monotonic() - self._last_ack <= self.retry.broker_up_window

    def _after_ack(self) -> None:
        self._acks += 1
        if self._kill_after is not None and self._acks >= self._kill_after:
            os.kill(os.getpid(), signal.SIGKILL)  # acknowledged, not yet deleted: the crash window itself

    def _failed(self, failure: GroupFailure) -> None:
        streak = self._streaks.get(failure.topic)
        if streak is None:
            self._streaks[failure.topic] = _Streak(1, time.monotonic())
            log.warning("outbox relay: publishing %d row(s) to topic %r failed: %s; retrying with backoff, the rows "
                        "stay in the outbox (logged once until it recovers)", len(failure.ids), failure.topic,
                        failure.error)
        else:
            streak.failures += 1
            log.debug("outbox relay: topic %r still failing (%d failures): %s", failure.topic, streak.failures,
                      failure.error)

    def _recovered(self, topic: str) -> None:
        if self._streaks and (streak := self._streaks.pop(topic, None)) is not None:
            log.info("outbox relay: publishing to topic %r recovered after %d failed attempt(s) over %.1fs", topic,
                     streak.failures, time.monotonic() - streak.since)

    def _round_failed(self, exc: Exception) -> None:
        if self._round_streak is None:
            self._round_streak = _Streak(1, time.monotonic())
            log.warning("outbox relay: round failed: %s; retrying every %.1fs (logged once until it recovers)",
                        redact(f"{type(exc).__name__}: {exc}".strip()), self.poll_interval)
        else:
            self._round_streak.failures += 1
            log.debug("outbox relay: round still failing (%d): %s", self._round_streak.failures, exc)

    def _round_recovered(self) -> None:
        if self._round_streak is not None:
            log.info("outbox relay: rounds recovered after %d failure(s) over %.1fs", self._round_streak.failures,
                     time.monotonic() - self._round_streak.since)
            self._round_streak = None
