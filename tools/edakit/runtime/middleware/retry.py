"""Retry policy and middleware: redeliver with exponential backoff and full jitter, then dead-letter with why."""

from __future__ import annotations

import logging
import random
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timezone

from edakit.redact import redact
from edakit.runtime.adapters.base import DeadLetterReason, Delivery
from edakit.runtime.middleware.chain import Handler, Middleware
from edakit.runtime.middleware.metrics import count_dead_lettered, count_retried

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RetryPolicy:
    """`max_attempts` counts the first delivery; errors in `non_retryable` (or not in `retryable`) give up at once."""

    max_attempts: int = 5
    base_delay: float = 0.5
    max_delay: float = 60.0
    retryable: tuple[type[BaseException], ...] = (Exception,)
    non_retryable: tuple[type[BaseException], ...] = ()

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError(f"max_attempts must be >= 1, got {self.max_attempts}")
        if not 0 <= self.base_delay <= self.max_delay:
            raise ValueError(f"need 0 <= base_delay <= max_delay, got {self.base_delay} and {self.max_delay}")

    def is_retryable(self, error: BaseException) -> bool:
        return isinstance(error, self.retryable) and not isinstance(error, self.non_retryable)

    def should_retry(self, error: BaseException, attempt: int) -> bool:
        return attempt < self.max_attempts and self.is_retryable(error)

    def delay(self, attempt: int, rng: random.Random) -> float:
        """Full jitter: uniform over [0, min(max_delay, base_delay * 2^(attempt-1))] spreads retry storms out."""
        ceiling = min(self.max_delay, self.base_delay * 2.0 ** min(attempt - 1, 64))
        return rng.uniform(0.0, ceiling)


def _int_or_none(value: str | None) -> int | None:
    return int(value) if value is not None else None


class FirstFailures:
    """Brokers count attempts but keep no failure times: the first failure of each message is remembered here
    (bounded, per process; after a restart the first failure this process saw is reported)."""

    def __init__(self, remember: int = 10_000) -> None:
        self._seen: OrderedDict[tuple[str, str], datetime] = OrderedDict()
        self._remember = remember

    def record(self, delivery: Delivery, when: datetime) -> datetime:
        first = self._seen.setdefault((delivery.source, delivery.message.id), when)
        while len(self._seen) > self._remember:
            self._seen.popitem(last=False)
        return first

    def forget(self, delivery: Delivery) -> None:
        self._seen.pop((delivery.source, delivery.message.id), None)


def dead_letter_reason(delivery: Delivery, error: BaseException, first: datetime, last: datetime) -> DeadLetterReason:
    # Partition and offset are known here only when the record was read from the source topic itself; for a
    # Kafka retry copy the adapter fills them from the copy's edakit_original_* headers when it dead-letters.
    at_source = delivery.metadata.get("topic", delivery.source) == delivery.source
    return DeadLetterReason(
        # redacted: a driver's error may quote its DSN, and the DLQ is read by more people than the service's secrets
        error_type=type(error).__qualname__, error_message=redact(str(error)), attempts=delivery.attempt,
        first_failure=first, last_failure=last, original_source=delivery.source,
        original_partition=_int_or_none(delivery.metadata.get("partition")) if at_source else None,
        original_offset=_int_or_none(delivery.metadata.get("offset")) if at_source else None,
    )


def retry(policy: RetryPolicy, *, rng: random.Random | None = None) -> Middleware:
    """On a handler error: nack with backoff (the adapter redelivers: visibility timeout, or Kafka retry topics),
    or dead-letter with the reason once attempts run out or the error is not retryable."""
    jitter = rng if rng is not None else random.Random()
    failures = FirstFailures()

    def middleware(next_handler: Handler) -> Handler:
        def handle(delivery: Delivery) -> None:
            try:
                next_handler(delivery)
            except Exception as error:
                now = datetime.now(timezone.utc)
                first = failures.record(delivery, now)
                if policy.should_retry(error, delivery.attempt):
                    log.info("message %s attempt %d failed (%r); retrying", delivery.message.id, delivery.attempt,
                             error)
                    delivery.nack(policy.delay(delivery.attempt, jitter))
                    count_retried(delivery, error)
                else:
                    log.warning("message %s dead-lettered after attempt %d: %r", delivery.message.id,
                                delivery.attempt, error)
                    failures.forget(delivery)
                    delivery.dead_letter(dead_letter_reason(delivery, error, first, now))
                    count_dead_lettered(delivery, error)

        return handle

    return middleware
