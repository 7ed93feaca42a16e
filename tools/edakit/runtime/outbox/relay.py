"""The relay: moves committed outbox rows to a broker; their delete commits only after the broker acknowledged them."""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import groupby
from typing import Protocol

from edakit.runtime.adapters.base import Publisher
from edakit.runtime.message import Message

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Lag:
    rows: int
    oldest_age_seconds: float  # 0.0 when the outbox is empty


class OutboxStore(Protocol):
    def publish_batch(self, publisher: Publisher, limit: int) -> int:
        """Claim up to `limit` rows, publish them, commit their delete after the ack; return how many."""

    def wait(self, timeout: float) -> None:
        """Block until new rows may be there (a notification) or `timeout` seconds passed."""

    def lag(self) -> Lag: ...

    def close(self) -> None: ...


def publish_in_order(publisher: Publisher, rows: Sequence[tuple[str, Message]]) -> None:
    """Publish (topic, message) rows in claim order; consecutive rows for one topic go in one call (one ack wait)."""
    for topic, run in groupby(rows, key=lambda row: row[0]):
        publisher.publish(topic, [message for _, message in run])


class Relay:
    """Loop: drain the outbox in batches, then sleep until notified or `poll_interval` passes.

    A crash between the broker ack and the commit republishes that batch: duplicates at most `batch_size` per
    crash, never a loss. Consumers deduplicate by event id.
    """

    def __init__(self, store: OutboxStore, publisher: Publisher, *, batch_size: int = 100,
                 poll_interval: float = 1.0) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        self.store = store
        self.publisher = publisher
        self.batch_size = batch_size
        self.poll_interval = poll_interval

    def drain(self) -> int:
        total = 0
        while published := self.store.publish_batch(self.publisher, self.batch_size):
            total += published
        return total

    def run(self, stop: threading.Event) -> None:
        """Relay until `stop` is set; a failed round (broker or database down) leaves its rows for the next one."""
        while not stop.is_set():
            try:
                self.drain()
                self.store.wait(self.poll_interval)
            except Exception:  # noqa: BLE001 - the loop must outlive outages; rows stay in the outbox
                log.exception("outbox relay: round failed, retrying in %.1fs", self.poll_interval)
                stop.wait(self.poll_interval)
