"""Run one SQL statement on whatever transaction the caller holds: sqlite3, psycopg 3 or SQLAlchemy."""

from __future__ import annotations

import functools
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
