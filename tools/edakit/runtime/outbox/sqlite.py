"""SQLite outbox: claim, commit, publish, then delete — the database's one write lock is never held across a publish.

A claim marks its rows with a lease (`next_attempt_at` = now + `lease_seconds`) in a short write transaction; the
application's own inserts go on while the broker is slow. Other relays skip leased rows and every later row of
their aggregates, so order per aggregate holds; rows of a relay that died are claimed again once their lease ends.
Polling only (no NOTIFY).
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from edakit.runtime.outbox.relay import (Claimed, DeadLetter, DeadLetterNotFound, GroupFailure, Lag, Release,
                                         RetryPolicy)
from edakit.runtime.outbox.schema import (COLUMNS, MOVED_COLUMNS, RELAY_COLUMNS, SQLITE_DDL, SQLITE_DLQ_DDL,
                                          SQLITE_RETRY_COLUMNS, OutboxSchemaError, checked_table, to_message)

log = logging.getLogger(__name__)

DEAD_LETTER_COLUMNS = ("id", "event_id", "aggregate_type", "aggregate_id", "event_type", "topic", "attempts",
                       "last_error", "created_at", "dead_lettered_at", "released_at")
DETAIL_COLUMNS = (*DEAD_LETTER_COLUMNS, "source", "msg_key", "content_type", "headers", "payload")
RELEASE_COLUMNS = ("outbox_id", "event_id", "aggregate_type", "aggregate_id", "released_by", "reason", "released_at")


def create_schema(conn: sqlite3.Connection, table: str = "outbox") -> None:
    """Create the table, its indexes and the dead-letter tables, or upgrade a table made by an earlier version in
    place (idempotent); commits."""
    table = checked_table(table)
    conn.executescript(SQLITE_DDL.format(table=table))
    have = {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}
    for name, definition in SQLITE_RETRY_COLUMNS.items():
        if name not in have:
            conn.execute(f"ALTER TABLE {table} ADD COLUMN {name} {definition}")
    conn.executescript(SQLITE_DLQ_DDL.format(table=table))
    conn.commit()


def _now_text() -> str:
    return datetime.now(timezone.utc).isoformat()


def _time(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def _dead_letter(row: Sequence[Any], releases: list[Release] | None = None) -> DeadLetter:
    base = dict(zip(DEAD_LETTER_COLUMNS, row[:len(DEAD_LETTER_COLUMNS)], strict=True))
    for name in ("created_at", "dead_lettered_at", "released_at"):
        base[name] = _time(base[name])
    if len(row) > len(DEAD_LETTER_COLUMNS):
        source, key, content_type, headers, payload = row[len(DEAD_LETTER_COLUMNS):]
        base.update(source=source, key=key, content_type=content_type, headers=headers, payload=bytes(payload))
    return DeadLetter(**base, releases=releases or [])


def _marks(ids: Sequence[int]) -> str:
    return ", ".join("?" * len(ids))


class _Batch:
    def __init__(self, outbox: SqliteOutbox, rows: list[Claimed], lease_until: float) -> None:
        self._outbox, self.rows, self.lease_until = outbox, rows, lease_until
        self.settled: set[int] = set()

    def acked(self, ids: Sequence[int]) -> None:
        with self._outbox._write() as conn:
            conn.execute(f"DELETE FROM {self._outbox.table} WHERE id IN ({_marks(ids)})", list(ids))
        self.settled.update(ids)

    def failed(self, failures: Sequence[GroupFailure], policy: RetryPolicy, blame_rows: bool) -> list[DeadLetter]:
        table, dead, delays = self._outbox.table, [], []
        with self._outbox._write() as conn:
            now = time.time()
            for failure in failures:
                counted = conn.execute(f"UPDATE {table} SET attempts = attempts + 1, last_error = ? "
                                       f"WHERE id IN ({_marks(failure.ids)}) RETURNING id, attempts",
                                       [failure.error, *failure.ids]).fetchall()
                for row_id, attempts in counted:
                    if blame_rows and attempts >= policy.max_attempts:
                        dead.append(row_id)
                    else:
                        delays.append((now + policy.delay(attempts), row_id))
                self.settled.update(failure.ids)
            conn.executemany(f"UPDATE {table} SET next_attempt_at = ? WHERE id = ?", delays)
            if not dead:
                return []
            moved = ", ".join(MOVED_COLUMNS)
            conn.execute(f"INSERT INTO {table}_dlq ({moved}, dead_lettered_at) SELECT {moved}, ? FROM {table} "
                         f"WHERE id IN ({_marks(dead)})", [_now_text(), *dead])
            conn.execute(f"DELETE FROM {table} WHERE id IN ({_marks(dead)})", dead)
            rows = conn.execute(f"SELECT {', '.join(DEAD_LETTER_COLUMNS)} FROM {table}_dlq "
                                f"WHERE id IN ({_marks(dead)}) ORDER BY id", dead).fetchall()
        return [_dead_letter(r) for r in rows]

    def unsettled(self) -> list[int]:
        return [row.id for row in self.rows if row.id not in self.settled]


class SqliteOutbox:
    def __init__(self, path: str | Path, *, table: str = "outbox", lease_seconds: float = 60.0) -> None:
        """`lease_seconds`: how long claimed rows are this relay's; keep it above the publisher's timeout (a relay
        that outlives its lease may publish rows another relay claimed again: duplicates, never a loss)."""
        self.table = checked_table(table)
        if lease_seconds <= 0:
            raise ValueError(f"lease_seconds must be > 0, got {lease_seconds}")
        self.lease_seconds = lease_seconds
        # isolation_level=None: we issue BEGIN IMMEDIATE ourselves so each write takes the lock up front.
        # check_same_thread=False: built in one thread, run in a relay thread (one thread at a time uses it).
        self._conn = sqlite3.connect(path, isolation_level=None, timeout=30, check_same_thread=False)
        t = self.table
        self._select = (
            f"SELECT {', '.join('o.' + c for c in RELAY_COLUMNS)} FROM {t} o "
            "WHERE (o.next_attempt_at IS NULL OR o.next_attempt_at <= :now) "
            f"AND NOT EXISTS (SELECT 1 FROM {t} w WHERE w.next_attempt_at > :now "
            "AND w.aggregate_type = o.aggregate_type AND w.aggregate_id = o.aggregate_id AND w.id < o.id) "
            f"AND NOT EXISTS (SELECT 1 FROM {t}_dlq d WHERE d.released_at IS NULL "
            "AND d.aggregate_type = o.aggregate_type AND d.aggregate_id = o.aggregate_id AND d.id < o.id) "
            "ORDER BY o.id LIMIT :limit")

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            yield self._conn
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise
        self._conn.execute("COMMIT")

    @contextmanager
    def claim(self, limit: int) -> Iterator[_Batch]:
        with self._write() as conn:
            now = time.time()
            rows = conn.execute(self._select, {"now": now, "limit": limit}).fetchall()
            lease_until = now + self.lease_seconds
            conn.executemany(f"UPDATE {self.table} SET next_attempt_at = ? WHERE id = ?",
                             [(lease_until, r[0]) for r in rows])
        # The write lock is released here: publishing happens outside any transaction.
        batch = _Batch(self, [Claimed(r[0], r[1], (r[11], r[9]), to_message(r)) for r in rows], lease_until)
        try:
            yield batch
        finally:
            if ids := batch.unsettled():  # skipped behind a failed row, or the round was interrupted
                try:
                    with self._write() as conn:  # still ours only if no other relay claimed it since
                        conn.execute(f"UPDATE {self.table} SET next_attempt_at = NULL WHERE id IN ({_marks(ids)}) "
                                     "AND next_attempt_at = ?", [*ids, lease_until])
                except sqlite3.Error as exc:  # their lease ends by itself
                    log.warning("outbox relay: could not return %d claimed row(s) early: %s", len(ids), exc)

    def wait(self, timeout: float) -> None:
        time.sleep(timeout)

    def lag(self) -> Lag:
        t = self.table
        n, oldest, failing, dead, blocking = self._conn.execute(
            f"SELECT (SELECT count(*) FROM {t}), (SELECT min(created_at) FROM {t}), "
            f"(SELECT count(*) FROM {t} WHERE attempts > 0), (SELECT count(*) FROM {t}_dlq), "
            f"(SELECT count(*) FROM {t}_dlq WHERE released_at IS NULL)").fetchone()
        age = 0.0 if oldest is None else (datetime.now(timezone.utc) - datetime.fromisoformat(oldest)).total_seconds()
        return Lag(rows=n, oldest_age_seconds=max(age, 0.0), failing_rows=failing, dead_letters=dead,
                   dead_letters_blocking=blocking)

    def dead_letters(self, limit: int = 100) -> list[DeadLetter]:
        rows = self._conn.execute(f"SELECT {', '.join(DEAD_LETTER_COLUMNS)} FROM {self.table}_dlq ORDER BY id "
                                  "LIMIT ?", (limit,)).fetchall()
        return [_dead_letter(r) for r in rows]

    def dead_letter(self, outbox_id: int) -> DeadLetter:
        row = self._conn.execute(f"SELECT {', '.join(DETAIL_COLUMNS)} FROM {self.table}_dlq WHERE id = ?",
                                 (outbox_id,)).fetchone()
        if row is None:
            raise DeadLetterNotFound(f"no row {outbox_id} in {self.table}_dlq")
        releases = self._conn.execute(f"SELECT {', '.join(RELEASE_COLUMNS)} FROM {self.table}_dlq_releases "
                                      "WHERE outbox_id = ? ORDER BY id", (outbox_id,)).fetchall()
        return _dead_letter(row, [Release(*r[:-1], datetime.fromisoformat(r[-1])) for r in releases])

    def requeue(self, outbox_ids: Sequence[int]) -> list[int]:
        t, ids = self.table, sorted(set(outbox_ids))
        with self._write() as conn:
            found = {i for (i,) in conn.execute(f"SELECT id FROM {t}_dlq WHERE id IN ({_marks(ids)})", ids)}
            if missing := [i for i in ids if i not in found]:
                raise DeadLetterNotFound(f"no row {', '.join(map(str, missing))} in {t}_dlq (nothing requeued)")
            columns = ", ".join(("id", *COLUMNS))  # its own id back: ahead of its aggregate's later rows
            conn.execute(f"INSERT INTO {t} ({columns}) SELECT {columns} FROM {t}_dlq WHERE id IN ({_marks(ids)})",
                         ids)
            conn.execute(f"DELETE FROM {t}_dlq WHERE id IN ({_marks(ids)})", ids)
        return ids

    def release(self, outbox_id: int, released_by: str, reason: str) -> Release:
        t = self.table
        with self._write() as conn:
            row = conn.execute(f"SELECT event_id, aggregate_type, aggregate_id, released_at FROM {t}_dlq "
                               "WHERE id = ?", (outbox_id,)).fetchone()
            if row is None:
                raise DeadLetterNotFound(f"no row {outbox_id} in {t}_dlq")
            if row[3] is not None:
                raise ValueError(f"row {outbox_id} in {t}_dlq was already released at {row[3]}")
            released_at = _now_text()
            conn.execute(f"INSERT INTO {t}_dlq_releases ({', '.join(RELEASE_COLUMNS)}) VALUES (?, ?, ?, ?, ?, ?, ?)",
                         (outbox_id, row[0], row[1], row[2], released_by, reason, released_at))
            conn.execute(f"UPDATE {t}_dlq SET released_at = ? WHERE id = ?", (released_at, outbox_id))
        return Release(outbox_id, row[0], row[1], row[2], released_by, reason, datetime.fromisoformat(released_at))

    def check_schema(self) -> None:
        """Raise OutboxSchemaError unless the table exists and has this version's columns and dead-letter table."""
        have = {row[1] for row in self._conn.execute(f"PRAGMA table_info({self.table})")}
        dlq = self._conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
                                 (f"{self.table}_dlq",)).fetchone()
        if not have:
            raise OutboxSchemaError(f"outbox table {self.table!r} does not exist: run `edakit outbox init`")
        if not set(SQLITE_RETRY_COLUMNS) <= have or dlq is None:
            raise OutboxSchemaError(f"outbox table {self.table!r} was made by an earlier version (no retry columns "
                                    "or dead-letter table): run `edakit outbox init`, which upgrades it in place")

    def close(self) -> None:
        self._conn.close()
