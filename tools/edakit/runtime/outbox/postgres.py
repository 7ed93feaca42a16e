"""PostgreSQL outbox: several relays share the table through FOR UPDATE SKIP LOCKED, woken by LISTEN/NOTIFY."""

from __future__ import annotations

import select
from operator import itemgetter
from typing import Any

import psycopg

from edakit.runtime.adapters.base import Publisher
from edakit.runtime.outbox.relay import Lag, publish_in_order
from edakit.runtime.outbox.schema import POSTGRES_DDL, RELAY_COLUMNS, checked_table, to_message

# Claim the oldest unlocked rows. Unclaimed rows older than the newest claimed one are held by another relay: a
# claimed row is deleted and published only if no held row of its aggregate is older, so relays never overtake each
# other within an aggregate (the rows it keeps stay locked until commit and are claimed again later). Unclaimed rows
# newer than every claimed row cannot be overtaken, so they are not looked at. The delete commits only after the
# broker acked the rows (a failed publish rolls it back). Rows are deleted, not read past a cursor, so an id that
# commits late (out of id order) is still published.
# `= ANY(ARRAY(...))` keeps the delete on primary-key probes; a join lets the planner seq-scan small tables.
CLAIM = """
WITH claimed AS (
  SELECT id, aggregate_type, aggregate_id FROM {table} ORDER BY id LIMIT %(limit)s FOR UPDATE SKIP LOCKED
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


def create_schema(conn: psycopg.Connection[Any], table: str = "outbox") -> None:
    """Create the table, its per-aggregate index and the NOTIFY trigger (idempotent); commits."""
    conn.execute(POSTGRES_DDL.format(table=checked_table(table)))
    conn.commit()


class PostgresOutbox:
    """One relay's view of the outbox: its own connections, so use one instance per thread or process."""

    def __init__(self, dsn: str, *, table: str = "outbox") -> None:
        self.table = checked_table(table)
        self._claim = CLAIM.format(table=self.table, columns=", ".join(f"o.{c}" for c in RELAY_COLUMNS))
        self._dsn = dsn
        self._conn: psycopg.Connection[Any] | None = None
        self._listener: psycopg.Connection[Any] | None = None

    def publish_batch(self, publisher: Publisher, limit: int) -> int:
        self._listen()  # before the first claim, so no notification is missed between draining and waiting
        conn = self._work()
        with conn.transaction():
            # Binary results: bytea and timestamptz arrive without text parsing (the relay's hot path).
            rows = conn.execute(self._claim, {"limit": limit}, binary=True).fetchall()
            rows.sort(key=itemgetter(0))  # RETURNING has no order; column 0 is the id
            publish_in_order(publisher, [(r[1], to_message(r)) for r in rows])
        return len(rows)

    def wait(self, timeout: float) -> None:
        # select() on the socket, then a round trip to read what arrived: any NOTIFY means "look again".
        # (Plain select keeps the timeout exact even when the server closes the socket.)
        listener = self._listen()
        if select.select([listener.fileno()], [], [], timeout)[0]:
            listener.execute("SELECT 1")

    def lag(self) -> Lag:
        conn = self._work()
        with conn.transaction():
            row = conn.execute(
                f"SELECT count(*), EXTRACT(EPOCH FROM now() - min(created_at))::float8 FROM {self.table}"
            ).fetchone()
        assert row is not None  # an aggregate query always returns one row
        rows, age = row
        return Lag(rows=rows, oldest_age_seconds=max(age or 0.0, 0.0))

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
