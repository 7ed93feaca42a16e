"""Transactional outbox: write events in the business transaction, relay them to a broker after commit."""

import sqlite3

import psycopg

from edakit.runtime.outbox import postgres, sqlite
from edakit.runtime.outbox.event import OutboxEvent
from edakit.runtime.outbox.postgres import PostgresOutbox
from edakit.runtime.outbox.relay import Lag, OutboxStore, Relay
from edakit.runtime.outbox.sqlite import SqliteOutbox
from edakit.runtime.outbox.writer import append


def create_schema(conn: sqlite3.Connection | psycopg.Connection, table: str = "outbox") -> None:  # type: ignore[type-arg]
    """Create the outbox table for the connection's database (idempotent); commits."""
    if isinstance(conn, sqlite3.Connection):
        sqlite.create_schema(conn, table)
    elif isinstance(conn, psycopg.Connection):
        postgres.create_schema(conn, table)
    else:
        raise TypeError(f"create_schema: expected a sqlite3 or psycopg connection, got {type(conn).__name__}")


__all__ = ["Lag", "OutboxEvent", "OutboxStore", "PostgresOutbox", "Relay", "SqliteOutbox", "append", "create_schema"]
