"""Append outbox events inside the caller's own transaction; never commits (the caller's commit publishes)."""

from __future__ import annotations

from collections.abc import Iterable

from edakit.runtime.outbox.event import OutboxEvent
from edakit.runtime.outbox.schema import COLUMNS, checked_table, to_row
from edakit.runtime.outbox.tx import Transaction, dialect_of, execute


def append(tx: Transaction, events: Iterable[OutboxEvent], *, table: str = "outbox") -> None:
    """Insert `events` through `tx`: a sqlite3 or psycopg connection, or a SQLAlchemy Session/Connection."""
    sql = (f"INSERT INTO {checked_table(table)} ({', '.join(COLUMNS)}) "
           f"VALUES ({', '.join(':' + c for c in COLUMNS)})")
    as_text = dialect_of(tx) == "sqlite"  # SQLite has no timestamp type
    execute(tx, sql, [to_row(e, created_at_as_text=as_text) for e in events])
