"""CQRS read models in a query database of their own (PostgreSQL or SQLite), fed from the notification log or from
a broker subscription, with the same projection code.

A `ReadModel` says which tables it owns and how one domain event changes them (`apply(tx, event)`, SQL through the
kit's `execute` with `:name` placeholders, so one text serves both databases). Where its events come from decides
what guards against applying one twice, and both guards commit in the read model's own transaction:

- from the log: a pyeventsourcing tracking record (the notification id) — `SQLiteView`/`PostgresView` are the
  library's tracking recorders with the read model's tables; `Projector` pulls with `select_notifications` (the
  library's SQLite recorder has no `subscribe()`), one transaction per batch; on PostgreSQL the library's
  `ProjectionRunner` drives `projection_for(...)`, one transaction per event;
- from a broker: the kit's idempotency record (the CloudEvent id, stable per stored event) through
  `edakit.runtime.idempotency.transactional`, in a Router (`broker_handler`).

`rebuild` replays the log from position 0 into fresh tables and swaps them in, with the tracking position, in one
transaction; stop the log projector first (or restart it after): a running one keeps its position in memory.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sqlite3
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from typing import Any, ClassVar
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.persistence import InfrastructureFactory, StoredEvent, Tracking
from eventsourcing.postgres import PostgresTrackingRecorder
from eventsourcing.projection import Projection
from eventsourcing.sqlite import SQLiteTrackingRecorder
from eventsourcing.utils import Environment

from edakit.es.mapping import SchemaMapper, stored_topic
from edakit.es.relay import Position, position_of
from edakit.es.store import store_env
from edakit.runtime.adapters.base import Delivery
from edakit.runtime.idempotency.sql import SqlIdempotencyStore
from edakit.runtime.idempotency.middleware import transactional
from edakit.runtime.message import Message
from edakit.runtime.outbox.tx import NAMED, Transaction, execute

REBUILD_SUFFIX = "__rebuild"
# Fault injection for the projector crash test: SIGKILL this process after the n-th batch was applied, before its
# transaction (writes and tracking record) commits. Read when a view is built; for fault tests only.
FAULT_BEFORE_COMMIT_ENV = "EDAKIT_FAULT_PROJECTION_BEFORE_COMMIT"


class ProjectionConsistencyError(RuntimeError):
    """An event that does not follow what the read model holds: applied twice, or an earlier one skipped."""


def query(tx: Transaction, sql: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """Rows of a SELECT (`:name` placeholders) as dicts, on a sqlite3 or psycopg connection."""
    if isinstance(tx, sqlite3.Connection):
        cursor = tx.execute(sql, params or {})
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row)) for row in cursor.fetchall()]
    with tx.cursor() as cursor:  # type: ignore[union-attr]
        cursor.execute(NAMED.sub(r"%(\1)s", sql), params or {})
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row.values() if isinstance(row, dict) else row)) for row in cursor.fetchall()]


def _fault_before_commit() -> int | None:
    value = os.environ.get(FAULT_BEFORE_COMMIT_ENV, "")
    return int(value) if value.isdigit() and int(value) > 0 else None


class ReadModel(ABC):
    """Tables of one read model and the projection of events into them. `suffix` names a second set of the same
    tables (a rebuild)."""

    name: ClassVar[str]
    tables: ClassVar[dict[str, str]]  # base table name -> CREATE TABLE IF NOT EXISTS {table} (...)
    events: ClassVar[tuple[type, ...]]  # the event classes it projects

    def __init__(self, suffix: str = "") -> None:
        self.suffix = suffix

    def table(self, base: str) -> str:
        return base + self.suffix

    def create(self, tx: Transaction) -> None:
        for base, ddl in self.tables.items():
            execute(tx, ddl.format(table=self.table(base)), {})

    def drop(self, tx: Transaction) -> None:
        for base in self.tables:
            execute(tx, f"DROP TABLE IF EXISTS {self.table(base)}", {})

    @abstractmethod
    def apply(self, tx: Transaction, event: Any) -> None:
        """Change the tables for `event`, inside `tx` (which the caller commits with its guard record)."""


class _View:
    """What SQLiteView and PostgresView add to the library's tracking recorders."""

    model_class: ClassVar[type[ReadModel]]
    model: ReadModel

    def _transaction(self) -> contextlib.AbstractContextManager[tuple[Transaction, Any]]:
        raise NotImplementedError

    def _tracking_table(self) -> str:
        raise NotImplementedError

    @contextlib.contextmanager
    def connection(self) -> Iterator[Transaction]:
        """A transaction on the query database (what `transactional` runs a broker-fed projection in)."""
        with self._transaction() as (conn, _):
            yield conn

    def setup(self, suffix: str = "") -> ReadModel:
        model = self.model_class(suffix)
        with self.connection() as conn:
            model.create(conn)
        return model

    def process(self, events: Sequence[Any], tracking: Tracking, model: ReadModel | None = None) -> None:
        """Apply `events` and record `tracking` (the last one's position) in one transaction."""
        with self._transaction() as (conn, cursor):
            for event in events:
                (model or self.model).apply(conn, event)
            self._insert_tracking(cursor, tracking)  # type: ignore[attr-defined]
            self._batches = getattr(self, "_batches", 0) + 1
            if self._batches == _fault_before_commit():
                os.kill(os.getpid(), signal.SIGKILL)  # applied and tracked, not committed: the crash window

    def swap(self, rebuilt: ReadModel, tracking_from: str, tracking_to: str) -> None:
        """Replace the live tables with `rebuilt`'s and move the position `tracking_from` holds to `tracking_to`,
        in one transaction."""
        position = self.max_tracking_id(tracking_from) or 0  # type: ignore[attr-defined]
        table = self._tracking_table()
        with self._transaction() as (conn, cursor):
            for base in rebuilt.tables:
                execute(conn, f"DROP TABLE IF EXISTS {base}", {})
                execute(conn, f"ALTER TABLE {rebuilt.table(base)} RENAME TO {base}", {})
            execute(conn, f"DELETE FROM {table} WHERE application_name IN (:a, :b)",
                    {"a": tracking_from, "b": tracking_to})
            if position:
                self._insert_tracking(cursor, Tracking(tracking_to, position))  # type: ignore[attr-defined]

    def forget(self, tracking_name: str) -> None:
        with self._transaction() as (conn, _):
            execute(conn, f"DELETE FROM {self._tracking_table()} WHERE application_name = :a", {"a": tracking_name})


class SQLiteView(_View, SQLiteTrackingRecorder):
    def __init__(self, datastore: Any, **kwargs: Any) -> None:
        super().__init__(datastore, **kwargs)
        self.model = self.model_class()

    def create_table(self) -> None:
        super().create_table()
        self.setup()

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[tuple[Transaction, Any]]:
        with self.datastore.transaction(commit=True) as cursor:
            yield cursor.sqlite_cursor.connection, cursor

    def _tracking_table(self) -> str:
        return "tracking"


class PostgresView(_View, PostgresTrackingRecorder):
    def __init__(self, datastore: Any, **kwargs: Any) -> None:
        super().__init__(datastore, **kwargs)
        self.model = self.model_class()

    def create_table(self) -> None:
        super().create_table()
        self.setup()

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[tuple[Transaction, Any]]:
        with self.datastore.transaction(commit=True) as cursor:
            yield cursor.connection, cursor

    def _tracking_table(self) -> str:
        return f'"{self.datastore.schema}"."{self.tracking_table_name}"'


def view_class(model_class: type[ReadModel], url: str) -> type[SQLiteView] | type[PostgresView]:
    base: type[SQLiteView] | type[PostgresView] = SQLiteView if url.startswith("sqlite:") else PostgresView
    return type(f"{model_class.__name__}{base.__name__}", (base,), {"model_class": model_class})


def open_view(model_class: type[ReadModel], url: str) -> Any:
    """The read model's tables and tracking records in the query database at `url` (created when missing)."""
    env = Environment(model_class.name, store_env(url))
    factory = InfrastructureFactory.construct(env)
    return factory.tracking_recorder(view_class(model_class, url))  # type: ignore[arg-type]


def topics_of(app: Application[Any], model_class: type[ReadModel]) -> list[str]:
    """Stored topics (every schema version) of the events the read model projects: the log is filtered on them."""
    mapper = app.mapper
    assert isinstance(mapper, SchemaMapper)
    return mapper.schemas.topics(model_class.events)


class Projector:
    """Pulls the notification log into a view: one transaction per batch, the tracking record in it."""

    def __init__(self, app: Application[Any], view: Any, *, batch_size: int = 100, tracking_name: str | None = None,
                 model: ReadModel | None = None) -> None:
        self.app, self.view, self.batch_size = app, view, batch_size
        self.tracking_name = tracking_name or app.name
        self.model = model
        self.topics = topics_of(app, view.model_class)

    @property
    def position(self) -> int:
        return self.view.max_tracking_id(self.tracking_name) or 0

    def run_once(self) -> int:
        notifications = self.app.recorder.select_notifications(
            start=self.position, limit=self.batch_size, topics=self.topics, inclusive_of_start=False)
        if not notifications:
            return 0
        events = [self.app.mapper.to_domain_event(n) for n in notifications]
        self.view.process(events, Tracking(self.tracking_name, notifications[-1].id), self.model)
        return len(events)

    def drain(self) -> int:
        total = 0
        while projected := self.run_once():
            total += projected
        return total

    def lag(self) -> Position:
        return position_of(self.app, f"projection:{self.view.model_class.name}", self.position)


def rebuild(app: Application[Any], view: Any, *, batch_size: int = 500) -> int:
    """Replay the whole log into fresh tables, then swap them in with their position; returns events projected."""
    fresh = view.model_class(REBUILD_SUFFIX)
    with view.connection() as conn:
        fresh.drop(conn)
        fresh.create(conn)
    rebuild_name = f"{app.name}{REBUILD_SUFFIX}"
    view.forget(rebuild_name)
    projected = Projector(app, view, batch_size=batch_size, tracking_name=rebuild_name, model=fresh).drain()
    view.swap(fresh, rebuild_name, app.name)
    return projected


def projection_for(app_class: type[Application[Any]], model_class: type[ReadModel]) -> type[Projection[Any]]:
    """A pyeventsourcing Projection of `model_class` for its ProjectionRunner (PostgreSQL: the runner needs the
    recorder's subscribe()); its view is `view_class(model_class, "postgresql://")`."""
    topics = tuple(app_class.event_schemas().topics(model_class.events))  # type: ignore[attr-defined]

    class ReadModelProjection(Projection[Any]):
        name = model_class.name

        def process_event(self, domain_event: Any, tracking: Tracking) -> None:  # type: ignore[override]
            self.view.process([domain_event], tracking)

    ReadModelProjection.topics = topics
    return ReadModelProjection


def event_from_message(mapper: SchemaMapper, message: Message) -> Any:
    """The domain event a relay's CloudEvent carries (upcast to what its class reads, validated)."""
    by_type = getattr(mapper, "_by_record_name", None)
    if by_type is None:
        by_type = {}
        from edakit.schemas.repo import record_name
        for event_type in mapper.schemas.by_name.values():
            subject = event_type.subject
            newest = subject.versions[-1]
            by_type[record_name(subject.serialization, subject.schema(newest), str(subject.path(newest)))] = \
                event_type.name
        mapper._by_record_name = by_type  # type: ignore[attr-defined]
    name = by_type.get(message.type)
    if name is None or message.key is None or "streamversion" not in message.headers:
        raise ProjectionConsistencyError(f"message {message.id} ({message.type}) is not an event-store CloudEvent "
                                         "of this application")
    stored = StoredEvent(UUID(message.key), int(message.headers["streamversion"]),
                         stored_topic(name, int(message.headers.get("dataversion", "1"))), message.payload)
    return mapper.to_domain_event(stored)


def broker_handler(app: Application[Any], view: Any, store: SqlIdempotencyStore) -> Any:
    """A Router handler projecting the relay's CloudEvents into `view`: the idempotency record (the CloudEvent id)
    and the read-model writes commit in one transaction; events of other types are acknowledged untouched."""
    mapper = app.mapper
    assert isinstance(mapper, SchemaMapper)
    handled = tuple(view.model_class.events)
    with view.connection() as conn:
        store.create_schema(conn)

    def project(delivery: Delivery, tx: Transaction) -> None:
        event = event_from_message(mapper, delivery.message)
        if isinstance(event, handled):
            view.model.apply(tx, event)

    return transactional(view.connection, store, project)
