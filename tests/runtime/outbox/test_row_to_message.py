"""The relay builds Messages from rows without re-validation: OutboxEvent must reject whatever Message would, and the
trusted build must equal the validated one."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta, timezone

import psycopg
import pytest
from hypothesis import given
from hypothesis import strategies as st

from edakit.runtime.message import Message, MessageError
from edakit.runtime.outbox import OutboxEvent, append
from edakit.runtime.outbox import postgres as pg_outbox
from edakit.runtime.outbox.schema import COLUMNS, RELAY_COLUMNS, SQLITE_DDL, to_message, to_row

text = st.text(min_size=1, max_size=12)
extension_names = st.from_regex(r"[a-z0-9]{1,10}", fullmatch=True).filter(
    lambda name: name not in {"id", "type", "source", "specversion", "time", "subject", "datacontenttype",
                              "dataschema", "data", "partitionkey"})
events = st.builds(
    OutboxEvent, aggregate_type=text, aggregate_id=text, event_type=text, payload=st.binary(max_size=40),
    topic=text, source=text, event_id=text, key=st.none() | text, content_type=text,
    headers=st.dictionaries(extension_names, st.text(max_size=12), max_size=3),
    created_at=st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1),
                            timezones=st.sampled_from([timezone.utc, timezone(timedelta(hours=5, minutes=30))])),
)


def stored_row(event: OutboxEvent) -> tuple:
    conn = sqlite3.connect(":memory:")
    conn.executescript(SQLITE_DDL.format(table="outbox"))
    conn.execute(f"INSERT INTO outbox ({', '.join(COLUMNS)}) VALUES ({', '.join(':' + c for c in COLUMNS)})",
                 to_row(event, created_at_as_text=True))
    return conn.execute(f"SELECT {', '.join(RELAY_COLUMNS)} FROM outbox").fetchone()


@given(events)
def test_a_row_becomes_the_message_full_validation_would_build(event: OutboxEvent) -> None:
    relayed = to_message(stored_row(event))
    validated = Message(id=event.event_id, type=event.event_type, source=event.source, payload=event.payload,
                        time=event.created_at, content_type=event.content_type,
                        key=event.key if event.key is not None else event.aggregate_id, headers=event.headers)
    assert relayed == validated
    assert relayed.time.tzinfo == timezone.utc and relayed.time == event.created_at
    with pytest.raises(TypeError):
        relayed.headers["x"] = "y"  # type: ignore[index]  # immutable like a validated Message's


@pytest.mark.parametrize("headers", [{"Trace": "1"}, {"id": "1"}, {"partitionkey": "1"}, {"ok": 1}])
def test_headers_a_message_would_reject_are_refused_when_written(headers: dict) -> None:
    with pytest.raises(MessageError, match="header"):
        OutboxEvent(aggregate_type="Order", aggregate_id="o1", event_type="OrderPlaced", payload=b"{}",
                    topic="orders", source="/orders", headers=headers)


@pytest.mark.parametrize(("field", "value", "expected"), [
    ("payload", "not bytes", "payload must be bytes"), ("content_type", "", "content_type must be a non-empty"),
])
def test_fields_a_message_would_reject_are_refused_when_written(field: str, value: object, expected: str) -> None:
    fields: dict = dict(aggregate_type="Order", aggregate_id="o1", event_type="OrderPlaced", payload=b"{}",
                        topic="orders", source="/orders")
    with pytest.raises(ValueError, match=expected):
        OutboxEvent(**{**fields, field: value})


def test_postgres_rows_read_in_a_non_utc_session_become_utc_messages(pg_url: str) -> None:
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(f"ALTER DATABASE {pg_url.rsplit('/', 1)[1]} SET timezone = 'Asia/Kolkata'")
    sent = OutboxEvent(aggregate_type="Order", aggregate_id="o1", event_type="OrderPlaced", payload=b'{"n":1}',
                       topic="orders", source="/orders", headers={"traceparent": "00-ab-cd-01"},
                       created_at=datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=timezone.utc))
    with psycopg.connect(pg_url) as conn:
        pg_outbox.create_schema(conn)
        append(conn, [sent])
        row = conn.execute(f"SELECT {', '.join(RELAY_COLUMNS)} FROM outbox", binary=True).fetchone()  # as relays do
    assert row is not None and row[RELAY_COLUMNS.index("created_at")].utcoffset() == timedelta(hours=5, minutes=30)
    relayed = to_message(row)
    assert relayed.time.utcoffset() == timedelta(0) and relayed.time == sent.created_at
    assert relayed == Message(id=sent.event_id, type="OrderPlaced", source="/orders", payload=b'{"n":1}',
                              time=sent.created_at, key="o1", headers={"traceparent": "00-ab-cd-01"})
