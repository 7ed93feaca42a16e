"""Run one SQL statement on whatever transaction the caller holds: sqlite3, psycopg 3 or SQLAlchemy."""

from __future__ import annotations

import functools
import hashlib
import re
import sqlite3
from collections.abc import Mapping, Sequence
from typing import Any

import psycopg
from sqlalchemy import Connection as SAConnection
from sqlalchemy import text
from sqlalchemy.orm import Session

Transaction = sqlite3.Connection | psycopg.Connection[Any] | Session | SAConnection
Params = Mapping[str, Any] | Sequence[Mapping[str, Any]]
# `:name` placeholders (not the `::type` casts) become psycopg's `%(name)s`.
NAMED = re.compile(r"(?<![:\w]):([a-z_][a-z0-9_]*)")


@functools.lru_cache(maxsize=256)
def _psycopg_sql(sql: str) -> str:
    return NAMED.sub(r"%(\1)s", sql)


def dialect_of(tx: Transaction) -> str:
    """"sqlite" or "postgresql"."""
    if isinstance(tx, sqlite3.Connection):
        return "sqlite"
    if isinstance(tx, psycopg.Connection):
        return "postgresql"
    if isinstance(tx, Session):
        return tx.get_bind().dialect.name
    if isinstance(tx, SAConnection):
        return tx.dialect.name
    raise TypeError(f"expected a sqlite3/psycopg connection or a SQLAlchemy Session/Connection, got {type(tx).__name__}")


def execute(tx: Transaction, sql: str, params: Params) -> int:
    """Execute `sql` (`:name` placeholders) once per parameter mapping, inside `tx`; return rows affected."""
    many = not isinstance(params, Mapping)
    if isinstance(tx, sqlite3.Connection):
        cur = tx.executemany(sql, params) if many else tx.execute(sql, params)
        return cur.rowcount
    if isinstance(tx, psycopg.Connection):
        with tx.cursor() as cur:
            if many:
                cur.executemany(_psycopg_sql(sql), params)
            else:
                cur.execute(_psycopg_sql(sql), params)
            return cur.rowcount
    dialect_of(tx)  # raises TypeError for anything else
    if many and not params:
        return 0
    return tx.execute(text(sql), params).rowcount  # type: ignore[union-attr, arg-type]


def insert_order_lock_key(table: str) -> int:
    """The advisory lock key `serialize_inserts` takes for `table`: a stable signed 64-bit hash of its name."""
    digest = hashlib.blake2b(f"edakit.insert-order:{table}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def serialize_inserts(tx: Transaction, table: str) -> None:
    """Make the transactions that append to `table` commit in the order of the ids they take; call it in the
    writer's transaction before its insert.

    PostgreSQL hands out sequence values at insert time but transactions commit whenever they finish, so without
    this a row with id 2 can be visible while id 1 is still uncommitted: a reader of "id > last seen" skips id 1 for
    good, and a relay publishes an aggregate's later event first. Holding a transaction-scoped lock from before the
    insert until commit orders the writers of one table (pyeventsourcing does the same with `LOCK TABLE ... IN
    EXCLUSIVE MODE`). An advisory lock rather than a table lock: EXCLUSIVE mode also conflicts with the ROW
    EXCLUSIVE lock a relay's delete takes, so every writer would wait for a relay's publish, and it needs more
    than INSERT privilege. The cost is that appends to one table commit one at a time (`make bench`:
    outbox_append_lock_ratio). Writers that insert without calling this are not ordered.
    SQLite needs nothing: its single write lock already serialises writers from id to commit.
    """
    if dialect_of(tx) == "postgresql":
        execute(tx, "SELECT pg_advisory_xact_lock(:key)", {"key": insert_order_lock_key(table)})
