"""`create_schema` (and `edakit outbox init`) upgrade an outbox table made by the previous version in place, on real
PostgreSQL and SQLite; a relay or command meeting an old table says to run init instead of failing mid-round."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import psycopg
import pytest

from edakit.runtime.outbox import OutboxEvent, OutboxSchemaError, Relay, append, create_schema, open_outbox

# The previous version's tables, verbatim (before the retry columns and the dead-letter tables).
V1_POSTGRES = """
CREATE TABLE outbox (
  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, event_id TEXT NOT NULL UNIQUE, aggregate_type TEXT NOT NULL,
  aggregate_id TEXT NOT NULL, event_type TEXT NOT NULL, source TEXT NOT NULL, topic TEXT NOT NULL, msg_key TEXT,
  content_type TEXT NOT NULL, headers TEXT NOT NULL, payload BYTEA NOT NULL, created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX outbox_aggregate ON outbox (aggregate_type, aggregate_id, id);
CREATE OR REPLACE FUNCTION outbox_notify() RETURNS trigger LANGUAGE plpgsql AS
  $$ BEGIN PERFORM pg_notify('outbox', ''); RETURN NULL; END $$;
CREATE OR REPLACE TRIGGER outbox_notify AFTER INSERT ON outbox FOR EACH STATEMENT EXECUTE FUNCTION outbox_notify();
"""
V1_SQLITE = """
CREATE TABLE outbox (
  id INTEGER PRIMARY KEY AUTOINCREMENT, event_id TEXT NOT NULL UNIQUE, aggregate_type TEXT NOT NULL,
  aggregate_id TEXT NOT NULL, event_type TEXT NOT NULL, source TEXT NOT NULL, topic TEXT NOT NULL, msg_key TEXT,
  content_type TEXT NOT NULL, headers TEXT NOT NULL, payload BLOB NOT NULL, created_at TEXT NOT NULL
);
CREATE INDEX outbox_aggregate ON outbox (aggregate_type, aggregate_id, id);
"""
NEW_COLUMNS = {"attempts", "last_error", "next_attempt_at"}


def event(n: int) -> OutboxEvent:
    return OutboxEvent(aggregate_type="Order", aggregate_id=f"o{n}", event_type="OrderPlaced",
                       payload=json.dumps({"n": n}).encode(), topic="orders", source="/orders")


@pytest.mark.parametrize("database", ["postgresql", "sqlite"])
def test_an_outbox_table_from_the_previous_version_is_upgraded_in_place(database, request, tmp_path: Path, embedded):
    if database == "postgresql":
        url = request.getfixturevalue("pg_url")
        connect = lambda: psycopg.connect(url)  # noqa: E731
        with connect() as conn:
            conn.execute(V1_POSTGRES)

        def columns(conn) -> set[str]:  # noqa: ANN001
            return {r[0] for r in conn.execute("SELECT column_name FROM information_schema.columns "
                                               "WHERE table_name = 'outbox'")}
    else:
        db = tmp_path / "app.sqlite3"
        url, connect = f"sqlite:{db}", lambda: sqlite3.connect(db)  # noqa: E731
        with connect() as conn:
            conn.executescript(V1_SQLITE)

        def columns(conn) -> set[str]:  # noqa: ANN001
            return {r[1] for r in conn.execute("PRAGMA table_info(outbox)")}

    with connect() as conn:
        append(conn, [event(1), event(2)])  # rows the old relay had not published yet
    with pytest.raises(OutboxSchemaError, match="earlier version .* run `edakit outbox init`"):
        open_outbox(url)
    for _ in range(2):  # idempotent
        with connect() as conn:
            create_schema(conn)
            assert NEW_COLUMNS <= columns(conn)
    sub = embedded.subscriber("orders", "check")
    store = open_outbox(url)
    lag = store.lag()
    assert (lag.rows, lag.failing_rows, lag.dead_letters) == (2, 0, 0)  # old rows start with 0 attempts
    assert Relay(store, embedded.publisher()).drain() == 2
    assert [json.loads(d.message.payload)["n"] for d in sub.receive(10, timeout=1)] == [1, 2]
    store.close()


def test_a_missing_table_names_init(tmp_path: Path) -> None:
    db = tmp_path / "empty.sqlite3"
    sqlite3.connect(db).close()
    with pytest.raises(OutboxSchemaError, match="does not exist: run `edakit outbox init`"):
        open_outbox(f"sqlite:{db}")
