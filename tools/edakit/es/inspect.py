"""Reading an event store and its followers for `edakit es`: streams, one stream's events, positions and lag."""

from __future__ import annotations

import importlib
import sqlite3
from typing import Any
from uuid import UUID

import psycopg
from eventsourcing.application import Application
from eventsourcing.persistence import PersistenceError

from edakit.es.mapping import EventSchemaError, SchemaMapper, parse_topic
from edakit.es.projection import ReadModel, query
from edakit.es.relay import Position, position_of
from edakit.es.store import SchemaApplication

MIGRATION_ROW = "__migration__"  # the library's own row in single-row tracking tables


class InspectError(ValueError):
    """Bad input to an inspection (a class path, a stream id): one line for the CLI."""


def load_class(path: str, base: type, what: str) -> Any:
    """`module:Class`, which must be a subclass of `base`."""
    module_name, sep, name = path.partition(":")
    if not sep or not module_name or not name:
        raise InspectError(f"{what} {path!r}: expected module:Class")
    try:
        found = getattr(importlib.import_module(module_name), name)
    except (ImportError, AttributeError) as exc:
        raise InspectError(f"{what} {path!r}: cannot be loaded ({exc})") from None
    if not isinstance(found, type) or not issubclass(found, base):
        raise InspectError(f"{what} {path!r}: expected a subclass of {base.__name__}")
    return found


def _rows(app: Application[Any], sql_sqlite: str, sql_pg: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    recorder: Any = app.recorder
    datastore = recorder.datastore
    if hasattr(datastore, "schema"):
        table = f'"{datastore.schema}"."{recorder.events_table_name}"'
        with datastore.transaction(commit=False) as cursor:
            return query(cursor.connection, sql_pg.format(table=table), params)
    with datastore.transaction(commit=False) as cursor:
        return query(cursor.sqlite_cursor.connection, sql_sqlite.format(table=recorder.events_table_name), params)


def list_streams(app: Application[Any], limit: int) -> list[dict[str, Any]]:
    """Streams in the order they began: id, events, current version, first and last notification id."""
    rows = _rows(app, "SELECT originator_id AS stream, COUNT(*) AS events, MAX(originator_version) AS version, "
                      "MIN(rowid) AS first, MAX(rowid) AS last FROM {table} GROUP BY originator_id "
                      "ORDER BY first LIMIT :limit",
                 "SELECT originator_id::text AS stream, COUNT(*) AS events, MAX(originator_version) AS version, "
                 "MIN(notification_id) AS first, MAX(notification_id) AS last FROM {table} "
                 "GROUP BY originator_id ORDER BY first LIMIT :limit", {"limit": limit})
    for row in rows:
        row["stream"] = str(UUID(str(row["stream"])))
    return rows


def stream_events(app: Application[Any], stream: str) -> list[dict[str, Any]]:
    """Every event of one stream as stored: version, subject and schema version, payload."""
    try:
        stream_id = UUID(stream)
    except ValueError:
        raise InspectError(f"stream {stream!r}: expected an aggregate id (a UUID)") from None
    mapper = app.mapper
    events = []
    for stored in app.recorder.select_events(stream_id):
        parsed = parse_topic(stored.topic)
        if parsed is None or not isinstance(mapper, SchemaMapper):
            events.append({"version": stored.originator_version, "topic": stored.topic, "payload": None})
            continue
        try:
            _, version, payload = mapper.stored_payload(stored)
        except EventSchemaError as exc:
            events.append({"version": stored.originator_version, "topic": stored.topic, "error": str(exc)})
            continue
        events.append({"version": stored.originator_version, "event": parsed[0], "schema_version": version,
                       "payload": payload})
    if not events:
        raise InspectError(f"stream {stream_id}: no events in this store")
    return events


def tracking_rows(recorder: Any) -> dict[str, int]:
    """Every tracking record (name -> notification id) of a library tracking recorder."""
    datastore = recorder.datastore
    if hasattr(datastore, "schema"):
        table = f'"{datastore.schema}"."{recorder.tracking_table_name}"'
        with datastore.transaction(commit=False) as cursor:
            found = query(cursor.connection, f"SELECT application_name, notification_id FROM {table}")
    else:
        with datastore.transaction(commit=False) as cursor:
            found = query(cursor.sqlite_cursor.connection, "SELECT application_name, notification_id FROM tracking")
    return {r["application_name"]: int(r["notification_id"]) for r in found if r["application_name"] != MIGRATION_ROW}


def positions(app: SchemaApplication, view: Any | None = None) -> list[Position]:
    """The relays' positions (tracking records `relay:*` in the store) and, given a read model's view, its
    projection's position, each with its lag behind the log head."""
    try:
        relays = tracking_rows(app.factory.tracking_recorder())
    except (PersistenceError, sqlite3.OperationalError, psycopg.errors.UndefinedTable):
        relays = {}  # no tracking table yet: no relay has ever recorded a position
    found = [position_of(app, name, at) for name, at in sorted(relays.items()) if name.startswith("relay:")]
    if view is not None:
        model: type[ReadModel] = view.model_class
        found.append(position_of(app, f"projection:{model.name}", view.max_tracking_id(app.name)))
    return found
