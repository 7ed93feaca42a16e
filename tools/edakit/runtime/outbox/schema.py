"""Outbox table DDL for PostgreSQL and SQLite, and the mapping between rows and OutboxEvent."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from datetime import datetime, timezone
from typing import Any

from edakit.runtime.message import Message
from edakit.runtime.outbox.event import OutboxEvent

# Row columns in insert order (besides the generated `id`); `msg_key` because KEY is reserved in some SQL dialects.
COLUMNS = ("event_id", "aggregate_type", "aggregate_id", "event_type", "source", "topic", "msg_key",
           "content_type", "headers", "payload", "created_at")
IDENTIFIER = re.compile(r"[a-z_][a-z0-9_]{0,48}")

# Version 2 of the table adds each row's delivery state: failed publish attempts, the last error, and when the row
# may be claimed again (its backoff; on SQLite also the lease of the relay that claimed it); NULL = due now.
POSTGRES_DDL = """
CREATE TABLE IF NOT EXISTS {table} (
  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  event_id TEXT NOT NULL UNIQUE,
  aggregate_type TEXT NOT NULL,
  aggregate_id TEXT NOT NULL,
  event_type TEXT NOT NULL,
  source TEXT NOT NULL,
  topic TEXT NOT NULL,
  msg_key TEXT,
  content_type TEXT NOT NULL,
  headers TEXT NOT NULL,
  payload BYTEA NOT NULL,
  created_at TIMESTAMPTZ NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  last_error TEXT,
  next_attempt_at TIMESTAMPTZ
);
CREATE INDEX IF NOT EXISTS {table}_aggregate ON {table} (aggregate_type, aggregate_id, id);
CREATE OR REPLACE FUNCTION {table}_notify() RETURNS trigger LANGUAGE plpgsql AS
  $$ BEGIN PERFORM pg_notify('{table}', ''); RETURN NULL; END $$;
CREATE OR REPLACE TRIGGER {table}_notify AFTER INSERT ON {table}
  FOR EACH STATEMENT EXECUTE FUNCTION {table}_notify();
"""

# Version 1 tables lack the retry columns; added only when missing (ALTER TABLE would lock a live table even when
# it has nothing to do).
POSTGRES_RETRY_COLUMNS = {"attempts": "INTEGER NOT NULL DEFAULT 0", "last_error": "TEXT",
                          "next_attempt_at": "TIMESTAMPTZ"}

# Rows that failed are rare: the claim looks for a waiting row ahead in the aggregate through this small index.
# The dead-letter table keeps the row's outbox id, so a requeued row goes back ahead of its aggregate's later rows.
POSTGRES_DLQ_DDL = """
CREATE INDEX IF NOT EXISTS {table}_waiting ON {table} (aggregate_type, aggregate_id, id) WHERE attempts > 0;
CREATE TABLE IF NOT EXISTS {table}_dlq (
  id BIGINT PRIMARY KEY,
  event_id TEXT NOT NULL UNIQUE,
  aggregate_type TEXT NOT NULL,
  aggregate_id TEXT NOT NULL,
  event_type TEXT NOT NULL,
  source TEXT NOT NULL,
  topic TEXT NOT NULL,
  msg_key TEXT,
  content_type TEXT NOT NULL,
  headers TEXT NOT NULL,
  payload BYTEA NOT NULL,
  created_at TIMESTAMPTZ NOT NULL,
  attempts INTEGER NOT NULL,
  last_error TEXT,
  dead_lettered_at TIMESTAMPTZ NOT NULL,
  released_at TIMESTAMPTZ
);
CREATE INDEX IF NOT EXISTS {table}_dlq_blocking ON {table}_dlq (aggregate_type, aggregate_id, id)
  WHERE released_at IS NULL;
CREATE TABLE IF NOT EXISTS {table}_dlq_releases (
  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  outbox_id BIGINT NOT NULL,
  event_id TEXT NOT NULL,
  aggregate_type TEXT NOT NULL,
  aggregate_id TEXT NOT NULL,
  released_by TEXT NOT NULL,
  reason TEXT NOT NULL,
  released_at TIMESTAMPTZ NOT NULL
);
"""

SQLITE_DDL = """
CREATE TABLE IF NOT EXISTS {table} (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  event_id TEXT NOT NULL UNIQUE,
  aggregate_type TEXT NOT NULL,
  aggregate_id TEXT NOT NULL,
  event_type TEXT NOT NULL,
  source TEXT NOT NULL,
  topic TEXT NOT NULL,
  msg_key TEXT,
  content_type TEXT NOT NULL,
  headers TEXT NOT NULL,
  payload BLOB NOT NULL,
  created_at TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  last_error TEXT,
  next_attempt_at REAL
);
CREATE INDEX IF NOT EXISTS {table}_aggregate ON {table} (aggregate_type, aggregate_id, id);
"""

SQLITE_RETRY_COLUMNS = {"attempts": "INTEGER NOT NULL DEFAULT 0", "last_error": "TEXT", "next_attempt_at": "REAL"}

# Times are epoch seconds (REAL) in the SQLite delivery state, ISO-8601 text in what a person reads.
SQLITE_DLQ_DDL = """
CREATE INDEX IF NOT EXISTS {table}_waiting ON {table} (aggregate_type, aggregate_id, id)
  WHERE next_attempt_at IS NOT NULL;
CREATE TABLE IF NOT EXISTS {table}_dlq (
  id INTEGER PRIMARY KEY,
  event_id TEXT NOT NULL UNIQUE,
  aggregate_type TEXT NOT NULL,
  aggregate_id TEXT NOT NULL,
  event_type TEXT NOT NULL,
  source TEXT NOT NULL,
  topic TEXT NOT NULL,
  msg_key TEXT,
  content_type TEXT NOT NULL,
  headers TEXT NOT NULL,
  payload BLOB NOT NULL,
  created_at TEXT NOT NULL,
  attempts INTEGER NOT NULL,
  last_error TEXT,
  dead_lettered_at TEXT NOT NULL,
  released_at TEXT
);
CREATE INDEX IF NOT EXISTS {table}_dlq_blocking ON {table}_dlq (aggregate_type, aggregate_id, id)
  WHERE released_at IS NULL;
CREATE TABLE IF NOT EXISTS {table}_dlq_releases (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  outbox_id INTEGER NOT NULL,
  event_id TEXT NOT NULL,
  aggregate_type TEXT NOT NULL,
  aggregate_id TEXT NOT NULL,
  released_by TEXT NOT NULL,
  reason TEXT NOT NULL,
  released_at TEXT NOT NULL
);
"""

# The columns a row keeps when it moves between the outbox and its dead-letter table.
MOVED_COLUMNS = ("id", *COLUMNS, "attempts", "last_error")


class OutboxSchemaError(ValueError):
    """The outbox table is missing or was made by an earlier version (`edakit outbox init` upgrades it)."""


def checked_table(table: str) -> str:
    """Table names are spliced into SQL, so only plain lower-case identifiers are accepted."""
    if not IDENTIFIER.fullmatch(table):
        raise ValueError(f"table name {table!r}: expected a lower-case SQL identifier matching {IDENTIFIER.pattern}")
    return table


def to_row(event: OutboxEvent, *, created_at_as_text: bool) -> dict[str, Any]:
    """Bind parameters for one insert; SQLite stores time as ISO-8601 text (it has no timestamp type)."""
    return {
        "event_id": event.event_id,
        "aggregate_type": event.aggregate_type,
        "aggregate_id": event.aggregate_id,
        "event_type": event.event_type,
        "source": event.source,
        "topic": event.topic,
        "msg_key": event.key,
        "content_type": event.content_type,
        "headers": json.dumps(dict(event.headers), sort_keys=True),
        "payload": event.payload,
        "created_at": event.created_at.astimezone(timezone.utc).isoformat() if created_at_as_text else event.created_at,
    }


# What a relay selects, in this order: the row id, the topic, then what `to_message` reads, then the aggregate type
# (the aggregate, its ordering key, is (aggregate_type, aggregate_id)).
RELAY_COLUMNS = ("id", "topic", "event_id", "event_type", "source", "payload", "created_at", "content_type",
                 "msg_key", "aggregate_id", "headers", "aggregate_type")


def to_message(row: Sequence[Any]) -> Message:
    """The message a claimed row (RELAY_COLUMNS, in order) publishes; built straight from the row without
    re-validation (the relay's hot path), because `OutboxEvent` checked the same rules before the row was written."""
    _id, _topic, event_id, event_type, source, payload, created_at, content_type, key, aggregate_id, headers, *_ = row
    return Message.trusted(
        id=event_id,
        type=event_type,
        source=source,
        payload=payload if type(payload) is bytes else bytes(payload),
        time=datetime.fromisoformat(created_at) if isinstance(created_at, str) else created_at,
        content_type=content_type,
        key=key if key is not None else aggregate_id,
        headers=json.loads(headers) if headers != "{}" else {},  # most rows have none; skip the parser then
    )
