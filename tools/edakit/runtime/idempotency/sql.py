"""Processed-event records in the handler's own transaction (PostgreSQL, SQLite): effectively-once effects.

The record and the business writes commit or roll back together. Two concurrent runs of one event both insert
the same primary key: the second waits for the first and then conflicts (PostgreSQL's unique index, SQLite's
single writer), so exactly one commits.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from edakit.runtime.outbox.schema import checked_table
from edakit.runtime.outbox.tx import Transaction, execute

DDL = """
CREATE TABLE IF NOT EXISTS {table} (
  consumer TEXT NOT NULL,
  event_key TEXT NOT NULL,
  processed_at DOUBLE PRECISION NOT NULL,
  PRIMARY KEY (consumer, event_key)
)
"""
CLAIM = """
INSERT INTO {table} (consumer, event_key, processed_at) VALUES (:consumer, :event_key, :now)
ON CONFLICT (consumer, event_key) DO NOTHING
"""


@dataclass(frozen=True)
class SqlIdempotencyStore:
    consumer: str  # one record set per consumer (group): two services may each process the same event once
    window_hours: float
    table: str = "processed_events"

    def __post_init__(self) -> None:
        checked_table(self.table)
        if self.window_hours <= 0:
            raise ValueError(f"idempotency_window_hours must be > 0, got {self.window_hours}")

    def create_schema(self, tx: Transaction) -> None:
        execute(tx, DDL.format(table=self.table), {})

    def claim(self, tx: Transaction, key: str) -> bool:
        """Record `key` in `tx`; False when it is already recorded (skip the handler)."""
        params = {"consumer": self.consumer, "event_key": key, "now": time.time()}
        return execute(tx, CLAIM.format(table=self.table), params) == 1

    def cleanup(self, tx: Transaction) -> int:
        """Delete records older than the window; returns how many. `transactional` runs it on its own schedule.

        The window is how long duplicates are recognised at least: a record lives until the cleanup after it aged.
        """
        cutoff = time.time() - self.window_hours * 3600
        return execute(tx, f"DELETE FROM {self.table} WHERE consumer = :consumer AND processed_at < :cutoff",
                       {"consumer": self.consumer, "cutoff": cutoff})
