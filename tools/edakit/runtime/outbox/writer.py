"""Append outbox events inside the caller's own transaction; never commits (the caller's commit publishes)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable

import psycopg

from edakit.runtime.middleware.tracing import created

from edakit.runtime.outbox.event import OutboxEvent
from edakit.runtime.outbox.schema import COLUMNS, checked_table, to_row
from edakit.runtime.outbox.tx import Transaction, dialect_of, execute, serialize_inserts


def append(tx: Transaction, events: Iterable[OutboxEvent], *, table: str = "outbox",
           serialize: Callable[[OutboxEvent], OutboxEvent] | None = None) -> None:
    """Insert `events` through `tx`: a sqlite3 or psycopg connection, or a SQLAlchemy Session/Connection.

    Concurrent appenders commit in id order (`tx.serialize_inserts`): on PostgreSQL a second writer's append waits
    until the first writer's transaction ends, so keep the work after `append` short.

    Each event is stored with its creation context: a `create <topic>` span under the current OpenTelemetry context
    (the business transaction's span), as `traceparent`/`tracestate` headers; an event whose headers already carry a
    `traceparent` keeps it. With no span current nothing is added.

    `serialize` (e.g. an `edakit.runtime.serde.Serializer`) checks and encodes each event before anything is written:
    an event it refuses raises, and then none of `events` is inserted."""
    table = checked_table(table)
    if serialize is not None:
        events = [serialize(event) for event in events]
    if (isinstance(tx, psycopg.Connection) and tx.autocommit
            and tx.info.transaction_status == psycopg.pq.TransactionStatus.IDLE):
        # Autocommit outside a transaction block: the lock must last until the insert commits.
        with tx.transaction():
            serialize_inserts(tx, table)
            insert(tx, events, table=table)
        return
    serialize_inserts(tx, table)
    insert(tx, events, table=table)


def insert(tx: Transaction, events: Iterable[OutboxEvent], *, table: str = "outbox") -> None:
    """The bare insert `append` makes, without ordering the writers' commits (see `append`): for benchmarks and
    single-writer tools only."""
    sql = (f"INSERT INTO {checked_table(table)} ({', '.join(COLUMNS)}) "
           f"VALUES ({', '.join(':' + c for c in COLUMNS)})")
    as_text = dialect_of(tx) == "sqlite"  # SQLite has no timestamp type
    execute(tx, sql, [to_row(_traced(e), created_at_as_text=as_text) for e in events])


def _traced(event: OutboxEvent) -> OutboxEvent:
    headers = created(event.topic, event.headers, message_id=event.event_id)
    return event if headers == event.headers else dataclasses.replace(event, headers=headers)
