"""PostgreSQL outbox: several relays share the table through FOR UPDATE SKIP LOCKED, woken by LISTEN/NOTIFY."""

from __future__ import annotations

import select
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from operator import itemgetter
from typing import Any

import psycopg

from edakit.runtime.outbox.relay import (Claimed, DeadLetter, DeadLetterNotFound, GroupFailure, Lag, Release,
                                         RetryPolicy)
from edakit.runtime.outbox.schema import (COLUMNS, MOVED_COLUMNS, POSTGRES_DDL, POSTGRES_DLQ_DDL,
                                          POSTGRES_RETRY_COLUMNS, RELAY_COLUMNS, OutboxSchemaError, checked_table,
                                          to_message)

# Claim the oldest unlocked rows that are due (not waiting out a backoff) and that no waiting or dead-lettered row
# of their aggregate precedes. Unclaimed rows older than the newest claimed one are held by another relay (or wait):
# a claimed row is published only if no such row of its aggregate is older, so relays never overtake each other
# within an aggregate (the rows it keeps stay locked until commit and are claimed again later). Unclaimed rows
# newer than every claimed row cannot be overtaken, so they are not looked at. The claim deletes the rows it
# returns, in one statement (the relay's hot path); the delete commits after the round, so a crash re-sends the
# batch. A group the broker refused is put back in the same transaction under its own id with the attempt recorded
# (or moved to the dead-letter table), and so are rows skipped behind it: acknowledged groups stay deleted. Row
# locks keep other relays off the batch while it is published, and block no writer. Rows are deleted, not read past
# a cursor, so an id that commits late is still published (and writers commit in id order: tx.serialize_inserts).
# `= ANY(ARRAY(...))` keeps the delete on primary-key probes; a join lets the planner seq-scan small tables.
CLAIM = """
WITH claimed AS (
  SELECT o.id, o.aggregate_type, o.aggregate_id FROM {table} o
  WHERE NOT (o.attempts > 0 AND o.next_attempt_at > now())
    AND NOT EXISTS (SELECT 1 FROM {table} w WHERE w.attempts > 0 AND w.next_attempt_at > now()
                    AND w.aggregate_type = o.aggregate_type AND w.aggregate_id = o.aggregate_id AND w.id < o.id)
    AND NOT EXISTS (SELECT 1 FROM {table}_dlq d WHERE d.released_at IS NULL
                    AND d.aggregate_type = o.aggregate_type AND d.aggregate_id = o.aggregate_id AND d.id < o.id)
  ORDER BY o.id LIMIT %(limit)s FOR UPDATE OF o SKIP LOCKED
), held AS MATERIALIZED (
  SELECT p.id, p.aggregate_type, p.aggregate_id FROM {table} p
  WHERE p.id < (SELECT max(id) FROM claimed) AND p.id NOT IN (SELECT id FROM claimed)
)
DELETE FROM {table} o WHERE o.id = ANY (ARRAY(
  SELECT c.id FROM claimed c WHERE NOT EXISTS (
    SELECT 1 FROM held h WHERE h.aggregate_type = c.aggregate_type AND h.aggregate_id = c.aggregate_id AND h.id < c.id)
))
RETURNING {columns}
"""
# What the claim returns: what the relay publishes, then the rest of the row's state, to put it back if need be.
CLAIMED_COLUMNS = (*RELAY_COLUMNS, "attempts", "last_error", "next_attempt_at")
assert set(COLUMNS) <= set(CLAIMED_COLUMNS)
DEAD_LETTER_COLUMNS = ("id", "event_id", "aggregate_type", "aggregate_id", "event_type", "topic", "attempts",
                       "last_error", "created_at", "dead_lettered_at", "released_at")
DETAIL_COLUMNS = (*DEAD_LETTER_COLUMNS, "source", "msg_key", "content_type", "headers", "payload")
RELEASE_COLUMNS = ("outbox_id", "event_id", "aggregate_type", "aggregate_id", "released_by", "reason", "released_at")


def create_schema(conn: psycopg.Connection[Any], table: str = "outbox") -> None:
    """Create the table, its indexes, the NOTIFY trigger and the dead-letter tables, or upgrade a table made by an
    earlier version in place (idempotent); commits."""
    table = checked_table(table)
    conn.execute(POSTGRES_DDL.format(table=table))
    have = _columns(conn, table)
    if missing := [name for name in POSTGRES_RETRY_COLUMNS if name not in have]:
        conn.execute(f"ALTER TABLE {table} "
                     + ", ".join(f"ADD COLUMN IF NOT EXISTS {name} {POSTGRES_RETRY_COLUMNS[name]}" for name in missing))
    conn.execute(POSTGRES_DLQ_DDL.format(table=table))
    conn.commit()


def _columns(conn: psycopg.Connection[Any], table: str) -> set[str]:
    rows = conn.execute("SELECT attname FROM pg_attribute WHERE attrelid = to_regclass(%s) AND attnum > 0 "
                        "AND NOT attisdropped", (table,)).fetchall()
    return {name for (name,) in rows}


def _dead_letter(row: Sequence[Any], releases: list[Release] | None = None) -> DeadLetter:
    base = dict(zip(DEAD_LETTER_COLUMNS, row[:len(DEAD_LETTER_COLUMNS)], strict=True))
    if len(row) > len(DEAD_LETTER_COLUMNS):
        source, key, content_type, headers, payload = row[len(DEAD_LETTER_COLUMNS):]
        base.update(source=source, key=key, content_type=content_type, headers=headers, payload=bytes(payload))
    return DeadLetter(**base, releases=releases or [])


class _Batch:
    def __init__(self, conn: psycopg.Connection[Any], table: str, rows: list[tuple[Any, ...]]) -> None:
        self._conn, self._table = conn, table
        self._claimed = {r[0]: r for r in rows}
        self.rows = [Claimed(r[0], r[1], (r[11], r[9]), to_message(r)) for r in rows]
        self._settled: set[int] = set()

    def acked(self, ids: Sequence[int]) -> None:
        self._settled.update(ids)  # deleted by the claim; committed with the round

    def failed(self, failures: Sequence[GroupFailure], policy: RetryPolicy, blame_rows: bool) -> list[DeadLetter]:
        retry, dead = [], []
        for failure in failures:
            for row_id in failure.ids:
                row = dict(zip(CLAIMED_COLUMNS, self._claimed[row_id], strict=True))
                row.update(attempts=row["attempts"] + 1, last_error=failure.error)
                if blame_rows and row["attempts"] >= policy.max_attempts:
                    dead.append(row)
                else:
                    row["delay"] = policy.delay(row["attempts"])
                    retry.append(row)
            self._settled.update(failure.ids)
        if retry:  # clock_timestamp: the publish may have taken long since the claim
            columns = [c for c in CLAIMED_COLUMNS if c != "next_attempt_at"]
            self._put_back(columns, "clock_timestamp() + %(delay)s * interval '1 second'", retry)
        if not dead:
            return []
        with self._conn.cursor() as cur:
            cur.executemany(
                f"INSERT INTO {self._table}_dlq ({', '.join(MOVED_COLUMNS)}, dead_lettered_at) "
                f"VALUES ({', '.join(f'%({c})s' for c in MOVED_COLUMNS)}, clock_timestamp()) "
                f"RETURNING {', '.join(DEAD_LETTER_COLUMNS)}", dead, returning=True)
            rows = []
            while True:
                rows.extend(cur.fetchall())
                if not cur.nextset():
                    break
        return sorted((_dead_letter(r) for r in rows), key=lambda d: d.id)

    def put_back_unsettled(self) -> None:
        """Rows skipped behind a failed group go back unchanged (the claim deleted them)."""
        if rows := [dict(zip(CLAIMED_COLUMNS, r, strict=True)) for i, r in self._claimed.items()
                    if i not in self._settled]:
            columns = [c for c in CLAIMED_COLUMNS if c != "next_attempt_at"]
            self._put_back(columns, "%(next_attempt_at)s", rows)

    def _put_back(self, columns: list[str], next_attempt_at: str, rows: list[dict[str, Any]]) -> None:
        with self._conn.cursor() as cur:
            cur.executemany(
                f"INSERT INTO {self._table} ({', '.join(columns)}, next_attempt_at) OVERRIDING SYSTEM VALUE "
                f"VALUES ({', '.join(f'%({c})s' for c in columns)}, {next_attempt_at})", rows)


class PostgresOutbox:
    """One relay's view of the outbox: its own connections, so use one instance per thread or process."""

    def __init__(self, dsn: str, *, table: str = "outbox") -> None:
        self.table = checked_table(table)
        self._claim = CLAIM.format(table=self.table, columns=", ".join(f"o.{c}" for c in CLAIMED_COLUMNS))
        self._dsn = dsn
        self._conn: psycopg.Connection[Any] | None = None
        self._listener: psycopg.Connection[Any] | None = None

    @contextmanager
    def claim(self, limit: int) -> Iterator[_Batch]:
        self._listen()  # before the first claim, so no notification is missed between draining and waiting
        conn = self._work()
        with conn.transaction():
            # Binary results: bytea and timestamptz arrive without text parsing (the relay's hot path).
            rows = conn.execute(self._claim, {"limit": limit}, binary=True).fetchall()
            rows.sort(key=itemgetter(0))  # RETURNING has no order; column 0 is the id
            batch = _Batch(conn, self.table, rows)
            yield batch
            batch.put_back_unsettled()

    def wait(self, timeout: float) -> None:
        # select() on the socket, then a round trip to read what arrived: any NOTIFY means "look again".
        # (Plain select keeps the timeout exact even when the server closes the socket.)
        listener = self._listen()
        if select.select([listener.fileno()], [], [], timeout)[0]:
            listener.execute("SELECT 1")

    def lag(self) -> Lag:
        conn = self._work()
        t = self.table
        with conn.transaction():
            row = conn.execute(
                f"SELECT (SELECT count(*) FROM {t}), EXTRACT(EPOCH FROM now() - (SELECT min(created_at) FROM {t}))"
                f"::float8, (SELECT count(*) FROM {t} WHERE attempts > 0), (SELECT count(*) FROM {t}_dlq), "
                f"(SELECT count(*) FROM {t}_dlq WHERE released_at IS NULL)").fetchone()
        assert row is not None  # scalar subqueries always return one row
        rows, age, failing, dead, blocking = row
        return Lag(rows=rows, oldest_age_seconds=max(age or 0.0, 0.0), failing_rows=failing, dead_letters=dead,
                   dead_letters_blocking=blocking)

    def dead_letters(self, limit: int = 100) -> list[DeadLetter]:
        conn = self._work()
        with conn.transaction():
            rows = conn.execute(f"SELECT {', '.join(DEAD_LETTER_COLUMNS)} FROM {self.table}_dlq ORDER BY id LIMIT %s",
                                (limit,)).fetchall()
        return [_dead_letter(r) for r in rows]

    def dead_letter(self, outbox_id: int) -> DeadLetter:
        conn = self._work()
        with conn.transaction():
            row = conn.execute(f"SELECT {', '.join(DETAIL_COLUMNS)} FROM {self.table}_dlq WHERE id = %s",
                               (outbox_id,)).fetchone()
            releases = conn.execute(f"SELECT {', '.join(RELEASE_COLUMNS)} FROM {self.table}_dlq_releases "
                                    "WHERE outbox_id = %s ORDER BY id", (outbox_id,)).fetchall()
        if row is None:
            raise DeadLetterNotFound(f"no row {outbox_id} in {self.table}_dlq")
        return _dead_letter(row, [Release(*r) for r in releases])

    def requeue(self, outbox_ids: Sequence[int]) -> list[int]:
        conn, t = self._work(), self.table
        ids = sorted(set(outbox_ids))
        with conn.transaction():
            found = {i for (i,) in conn.execute(f"SELECT id FROM {t}_dlq WHERE id = ANY(%s::bigint[]) FOR UPDATE",
                                                (ids,))}
            if missing := [i for i in ids if i not in found]:
                raise DeadLetterNotFound(f"no row {', '.join(map(str, missing))} in {t}_dlq (nothing requeued)")
            columns = ", ".join(("id", *COLUMNS))
            # Its own id back: the row goes ahead of its aggregate's later rows. The insert trigger wakes relays.
            moved = conn.execute(
                f"WITH moved AS (DELETE FROM {t}_dlq WHERE id = ANY(%s::bigint[]) RETURNING {columns}) "
                f"INSERT INTO {t} ({columns}) OVERRIDING SYSTEM VALUE SELECT {columns} FROM moved RETURNING id",
                (ids,)).fetchall()
        return sorted(i for (i,) in moved)

    def release(self, outbox_id: int, released_by: str, reason: str) -> Release:
        conn, t = self._work(), self.table
        with conn.transaction():
            row = conn.execute(f"SELECT event_id, aggregate_type, aggregate_id, released_at FROM {t}_dlq "
                               "WHERE id = %s FOR UPDATE", (outbox_id,)).fetchone()
            if row is None:
                raise DeadLetterNotFound(f"no row {outbox_id} in {t}_dlq")
            if row[3] is not None:
                raise ValueError(f"row {outbox_id} in {t}_dlq was already released at {row[3].isoformat()}")
            released = conn.execute(
                f"INSERT INTO {t}_dlq_releases ({', '.join(RELEASE_COLUMNS)}) "
                "VALUES (%s, %s, %s, %s, %s, %s, clock_timestamp()) RETURNING " + ", ".join(RELEASE_COLUMNS),
                (outbox_id, row[0], row[1], row[2], released_by, reason)).fetchone()
            assert released is not None
            conn.execute(f"UPDATE {t}_dlq SET released_at = %s WHERE id = %s", (released[-1], outbox_id))
            conn.execute("SELECT pg_notify(%s, '')", (t,))  # the aggregate's later rows are claimable now
        return Release(*released)

    def check_schema(self) -> None:
        """Raise OutboxSchemaError unless the table exists and has this version's columns and dead-letter table."""
        conn = self._work()
        with conn.transaction():
            have = _columns(conn, self.table)
            dlq = conn.execute("SELECT to_regclass(%s) IS NOT NULL", (f"{self.table}_dlq",)).fetchone()
        if not have:
            raise OutboxSchemaError(f"outbox table {self.table!r} does not exist: run `edakit outbox init`")
        if not set(POSTGRES_RETRY_COLUMNS) <= have or not (dlq and dlq[0]):
            raise OutboxSchemaError(f"outbox table {self.table!r} was made by an earlier version (no retry columns "
                                    "or dead-letter table): run `edakit outbox init`, which upgrades it in place")

    def close(self) -> None:
        for conn in (self._conn, self._listener):
            if conn is not None:
                conn.close()

    # Connections are (re)opened on use, so a relay outlives a database restart.
    def _work(self) -> psycopg.Connection[Any]:
        if self._conn is None or self._conn.broken or self._conn.closed:
            # prepare_threshold=0: the claim runs once per batch forever, so plan it once per connection.
            conn = psycopg.connect(self._dsn, prepare_threshold=0)
            # Timestamps then arrive in datetime.timezone.utc, which Message needs: converting from a ZoneInfo
            # session zone costs ~2.5 us per row.
            conn.execute("SET TIME ZONE 'UTC'")
            conn.commit()
            self._conn = conn
        return self._conn

    def _listen(self) -> psycopg.Connection[Any]:
        if self._listener is None or self._listener.broken or self._listener.closed:
            self._listener = psycopg.connect(self._dsn, autocommit=True)
            self._listener.add_notify_handler(lambda _notify: None)  # consumed, not queued: only the wake-up matters
            self._listener.execute(f"LISTEN {self.table}")
        return self._listener
