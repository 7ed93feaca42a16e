"""SQLite outbox: one writer at a time (BEGIN IMMEDIATE) keeps relays ordered; polling only (no NOTIFY)."""

from __future__ import annotations

import sqlite3
import time
from datetime import datetime, timezone
from pathlib import Path

from edakit.runtime.adapters.base import Publisher
from edakit.runtime.outbox.relay import Lag, publish_in_order
from edakit.runtime.outbox.schema import RELAY_COLUMNS, SQLITE_DDL, checked_table, to_message


def create_schema(conn: sqlite3.Connection, table: str = "outbox") -> None:
    """Create the table and its per-aggregate index (idempotent); commits."""
    conn.executescript(SQLITE_DDL.format(table=checked_table(table)))
    conn.commit()


class SqliteOutbox:
    def __init__(self, path: str | Path, *, table: str = "outbox") -> None:
        self.table = checked_table(table)
        # isolation_level=None: we issue BEGIN IMMEDIATE ourselves so the claim takes the write lock up front.
        self._conn = sqlite3.connect(path, isolation_level=None, timeout=30)
        self._select = f"SELECT {', '.join(RELAY_COLUMNS)} FROM {self.table} ORDER BY id LIMIT ?"

    def publish_batch(self, publisher: Publisher, limit: int) -> int:
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            rows = self._conn.execute(self._select, (limit,)).fetchall()
            if rows:
                publish_in_order(publisher, [(r[1], to_message(r)) for r in rows])  # r[0] id, r[1] topic
                self._conn.executemany(f"DELETE FROM {self.table} WHERE id = ?", [(r[0],) for r in rows])
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise
        self._conn.execute("COMMIT")
        return len(rows)

    def wait(self, timeout: float) -> None:
        time.sleep(timeout)

    def lag(self) -> Lag:
        n, oldest = self._conn.execute(f"SELECT count(*), min(created_at) FROM {self.table}").fetchone()
        if oldest is None:
            return Lag(rows=0, oldest_age_seconds=0.0)
        age = (datetime.now(timezone.utc) - datetime.fromisoformat(oldest)).total_seconds()
        return Lag(rows=n, oldest_age_seconds=max(age, 0.0))

    def close(self) -> None:
        self._conn.close()
