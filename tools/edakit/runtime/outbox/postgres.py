"""PostgreSQL outbox: several relays share the table through FOR UPDATE SKIP LOCKED, woken by LISTEN/NOTIFY."""

from __future__ import annotations

import select
from typing import Any

import psycopg
from psycopg.rows import dict_row

from edakit.runtime.adapters.base import Publisher
from edakit.runtime.outbox.relay import Lag, publish_in_order
from edakit.runtime.outbox.schema import POSTGRES_DDL, checked_table, to_message

# Claim the oldest unlocked rows. Per aggregate, the fence is its oldest row this claim did not get (another relay
# holds it, or it lies beyond the batch): only claimed rows older than the fence are deleted and published, so
# relays never overtake each other within an aggregate. The delete commits only after the broker acked them (a
# failed publish rolls it back). Rows are deleted, not read past a cursor, so an id that commits late (out of id
# order) is still published. Every step is an index probe, whatever the backlog.
CLAIM = """
WITH claimed AS (
  SELECT id, aggregate_type, aggregate_id FROM {table} ORDER BY id LIMIT %(limit)s FOR UPDATE SKIP LOCKED
), fences AS MATERIALIZED (
  SELECT a.aggregate_type, a.aggregate_id,
         (SELECT p.id FROM {table} p WHERE p.aggregate_type = a.aggregate_type AND p.aggregate_id = a.aggregate_id
            AND p.id NOT IN (SELECT id FROM claimed) ORDER BY p.id LIMIT 1) AS fence
  FROM (SELECT DISTINCT aggregate_type, aggregate_id FROM claimed) a
)
DELETE FROM {table} o USING claimed c JOIN fences f USING (aggregate_type, aggregate_id)
WHERE o.id = c.id AND (f.fence IS NULL OR c.id < f.fence)
RETURNING o.*
"""


def create_schema(conn: psycopg.Connection[Any], table: str = "outbox") -> None:
    """Create the table, its per-aggregate index and the NOTIFY trigger (idempotent); commits."""
    conn.execute(POSTGRES_DDL.format(table=checked_table(table)))
    conn.commit()


class PostgresOutbox:
    """One relay's view of the outbox: its own connections, so use one instance per thread or process."""

    def __init__(self, dsn: str, *, table: str = "outbox") -> None:
        self.table = checked_table(table)
        self._dsn = dsn
        self._conn: psycopg.Connection[Any] | None = None
        self._listener: psycopg.Connection[Any] | None = None

    def publish_batch(self, publisher: Publisher, limit: int) -> int:
        self._listen()  # before the first claim, so no notification is missed between draining and waiting
        conn = self._work()
        with conn.transaction():
            rows = conn.execute(CLAIM.format(table=self.table), {"limit": limit}).fetchall()
            rows.sort(key=lambda r: r["id"])  # RETURNING has no order
            publish_in_order(publisher, [(r["topic"], to_message(r)) for r in rows])
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
                f"SELECT count(*) AS n, EXTRACT(EPOCH FROM now() - min(created_at))::float8 AS age FROM {self.table}"
            ).fetchone()
        assert row is not None  # an aggregate query always returns one row
        return Lag(rows=row["n"], oldest_age_seconds=max(row["age"] or 0.0, 0.0))

    def close(self) -> None:
        for conn in (self._conn, self._listener):
            if conn is not None:
                conn.close()

    # Connections are (re)opened on use, so a relay outlives a database restart.
    def _work(self) -> psycopg.Connection[Any]:
        if self._conn is None or self._conn.broken or self._conn.closed:
            self._conn = psycopg.connect(self._dsn, row_factory=dict_row)
        return self._conn

    def _listen(self) -> psycopg.Connection[Any]:
        if self._listener is None or self._listener.broken or self._listener.closed:
            self._listener = psycopg.connect(self._dsn, autocommit=True)
            self._listener.add_notify_handler(lambda _notify: None)  # consumed, not queued: only the wake-up matters
            self._listener.execute(f"LISTEN {self.table}")
        return self._listener
