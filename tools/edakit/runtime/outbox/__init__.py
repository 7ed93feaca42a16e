"""Transactional outbox: write events in the business transaction, relay them to a broker after commit."""

import sqlite3
from pathlib import Path

import psycopg

from edakit.runtime.outbox import postgres, sqlite
from edakit.runtime.outbox.event import OutboxEvent
from edakit.runtime.outbox.postgres import PostgresOutbox
from edakit.runtime.outbox.relay import (DeadLetter, DeadLetterNotFound, Lag, OutboxStore, Relay, RelayPublishError,
                                         Release, RetryPolicy)
from edakit.runtime.outbox.schema import OutboxSchemaError
from edakit.runtime.outbox.sqlite import SqliteOutbox
from edakit.runtime.outbox.tx import serialize_inserts
from edakit.runtime.outbox.writer import append


def create_schema(conn: sqlite3.Connection | psycopg.Connection, table: str = "outbox") -> None:  # type: ignore[type-arg]
    """Create the outbox table and its dead-letter tables for the connection's database, or upgrade a table made
    by an earlier version in place (idempotent); commits."""
    if isinstance(conn, sqlite3.Connection):
        sqlite.create_schema(conn, table)
    elif isinstance(conn, psycopg.Connection):
        postgres.create_schema(conn, table)
    else:
        raise TypeError(f"create_schema: expected a sqlite3 or psycopg connection, got {type(conn).__name__}")


DB_SCHEMES = "postgresql://... (a libpq URL) or sqlite:PATH"


class OutboxUrlError(ValueError):
    """A database URL that names no outbox we can open."""


def open_outbox(url: str, table: str = "outbox", *, create: bool = False) -> OutboxStore:
    """The outbox at `url` (see DB_SCHEMES), for a relay or `edakit outbox`; `create` makes (or upgrades) its table
    first, otherwise a missing or outdated table raises OutboxSchemaError naming `edakit outbox init`."""
    store = _open(url, table, create)
    if not create:
        try:
            store.check_schema()
        except BaseException:
            store.close()
            raise
    return store


def _open(url: str, table: str, create: bool) -> PostgresOutbox | SqliteOutbox:
    if url.startswith(("postgresql://", "postgres://")):
        if create:
            with psycopg.connect(url) as conn:
                create_schema(conn, table)
        return PostgresOutbox(url, table=table)
    scheme, _, path = url.partition(":")
    if scheme == "sqlite" and path:
        if not create and not Path(path).is_file():  # connecting would create an empty database: not the one meant
            raise OutboxUrlError(f"outbox {url!r}: SQLite database {path} does not exist")
        if create:
            with sqlite3.connect(path) as conn:
                create_schema(conn, table)
        return SqliteOutbox(path, table=table)
    raise OutboxUrlError(f"outbox {url!r}: expected {DB_SCHEMES}")


__all__ = ["DB_SCHEMES", "DeadLetter", "DeadLetterNotFound", "Lag", "OutboxEvent", "OutboxSchemaError", "OutboxStore",
           "OutboxUrlError", "PostgresOutbox", "Relay", "RelayPublishError", "Release", "RetryPolicy", "SqliteOutbox",
           "append", "create_schema", "open_outbox", "serialize_inserts"]
