"""The event store is the outbox: a relay follows an application's notification log and publishes each event as a
CloudEvent through any kit Publisher.

- Order: notifications are read in notification-id order, which is commit order (the recorders serialise appends:
  `edakit.es.postgres`, SQLite's single writer), and published in that order, one publish call per run of events
  bound for the same broker topic. The CloudEvent key (`partitionkey`, the Kafka record key) is the aggregate id,
  so brokers that order by key keep each aggregate's order. By default every event goes to one topic per
  application (`<app name>.events`, lower case): an aggregate's Placed and Paid on two topics could be consumed in
  either order. `topic_of=subject_topic` routes each event to its subject's topic from schema-config.yaml instead,
  for consumers of one event type (order then holds per event type only).
- Position: a pyeventsourcing tracking record (`relay:<name>`) in the store's own database, advanced only after the
  broker acknowledged the whole batch. A crash between the acknowledgement and the advance re-sends that batch and
  nothing else: duplicates stay within one batch, nothing is lost, and no transaction spans the store and the
  broker (no dual write: the business transaction writes only events).
- Identity: the CloudEvent id is the event's `event_id` (a UUIDv5 of stream id and version), the payload the
  stored schema payload, byte for byte: a replay re-sends the same event, so idempotent consumers deduplicate.
  Extensions: `sequence` (the notification id), `streamversion` (the aggregate version) and `dataversion` (the
  schema version of the payload); `type` is the schema's record name. No `subject`: the key already names the
  stream, and SNS raw delivery to SQS carries at most 10 message attributes, which this leaves at exactly 10.
- Several relay processes: one is active per log and relay name, the others wait as standbys. The active one holds
  a lock that dies with it — a session advisory lock on PostgreSQL (pg_try_advisory_lock on its own connection),
  an flock on a file beside the database on SQLite — so a standby takes over within one `standby_poll` of a crash.
"""

from __future__ import annotations

import fcntl
import logging
import os
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
import psycopg
from eventsourcing.application import Application
from eventsourcing.persistence import Notification, Tracking, TrackingRecorder

from edakit.es.mapping import EPOCH, MILLISECOND, EventType, SchemaMapper, event_id, parse_topic
from edakit.runtime.adapters.base import PublishError, Publisher
from edakit.runtime.message import Message
from edakit.runtime.outbox.relay import FAULT_AFTER_PUBLISH_ENV
from edakit.runtime.outbox.tx import insert_order_lock_key
from edakit.schemas.repo import record_name

log = logging.getLogger(__name__)


class RelayError(RuntimeError):
    """The relay cannot publish an event of the log (it stops there: the log is never skipped)."""


@dataclass(frozen=True)
class Position:
    """How far a follower of the log (relay or projection) is: the head, its position, and its lag."""

    name: str
    position: int  # last notification id handled (0: none)
    head: int  # last notification id in the log (0: empty)
    events_behind: int  # notifications after `position`
    seconds_behind: float  # age of the oldest notification not yet handled (0.0 when caught up)

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "position": self.position, "head": self.head, "events_behind": self.events_behind,
                "seconds_behind": round(self.seconds_behind, 3)}


def count_after(app: Application[Any], position: int) -> int:
    """Notifications with an id above `position`, counted in the database."""
    recorder: Any = app.recorder
    datastore = recorder.datastore
    if hasattr(datastore, "schema"):  # PostgreSQL
        sql = (f'SELECT count(*) AS n FROM "{datastore.schema}"."{recorder.events_table_name}" '
               "WHERE notification_id > %s")
        with datastore.get_connection() as conn, conn.cursor() as cursor:
            cursor.execute(sql, (position,))
            return int(cursor.fetchone()["n"])
    with datastore.transaction(commit=False) as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM {recorder.events_table_name} WHERE rowid > ?", (position,))
        return int(cursor.fetchone()[0])


def notification_time(app: Application[Any], notification: Notification) -> datetime | None:
    """When the event of `notification` happened (its payload's time field), None for unmapped events."""
    mapper = app.mapper
    if not isinstance(mapper, SchemaMapper) or parse_topic(notification.topic) is None:
        return None
    event_type, _, payload = mapper.stored_payload(notification)
    return EPOCH + payload[event_type.time_field] * MILLISECOND if event_type.time_field else None


def position_of(app: Application[Any], name: str, position: int | None) -> Position:
    head = app.recorder.max_notification_id() or 0
    at = position or 0
    behind = count_after(app, at) if head > at else 0
    seconds = 0.0
    if behind:
        first = app.recorder.select_notifications(start=at, limit=1, inclusive_of_start=False)
        happened = notification_time(app, first[0]) if first else None
        if happened is not None:
            seconds = max(0.0, time.time() - happened.timestamp())
    return Position(name, at, head, behind, seconds)


# -- the one-active-relay lock ----------------------------------------------------------------------------------

class LogLock:
    """Held by the one active follower of a log under a name; released by the OS or the server when its holder
    dies."""

    def __init__(self, app: Application[Any], name: str) -> None:
        self.app, self.name = app, name
        self._file: Any = None
        self._conn: psycopg.Connection[Any] | None = None

    def try_acquire(self) -> bool:
        env = self.app.env
        dbname = env.get("SQLITE_DBNAME")
        if dbname:
            handle = Path(f"{dbname}.{self.name}.lock").open("a+b")
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                handle.close()
                return False
            self._file = handle
            return True
        conn = psycopg.connect(host=env.get("POSTGRES_HOST"), port=env.get("POSTGRES_PORT") or "5432",
                               dbname=env.get("POSTGRES_DBNAME"), user=env.get("POSTGRES_USER"),
                               password=env.get("POSTGRES_PASSWORD") or None, autocommit=True)
        key = insert_order_lock_key(f"{self.app.recorder.events_table_name}:{self.name}")  # type: ignore[attr-defined]
        row = conn.execute("SELECT pg_try_advisory_lock(%s)", (key,)).fetchone()
        if not row or not row[0]:
            conn.close()
            return False
        self._conn = conn
        return True

    def release(self) -> None:
        if self._file is not None:
            self._file.close()  # closing the descriptor drops the flock
            self._file = None
        if self._conn is not None:
            self._conn.close()  # a session advisory lock ends with its session
            self._conn = None


def subject_topic(event_type: EventType) -> str:
    """A `topic_of`: the event's subject's topic in schemas/<domain>/schema-config.yaml."""
    return event_type.subject.topic


class EventStoreRelay:
    """Publishes an application's notification log, in order, through `publisher`."""

    def __init__(self, app: Application[Any], publisher: Publisher, *, name: str = "relay",
                 source: str | None = None, topic_of: Callable[[EventType], str] | None = None,
                 batch_size: int = 100, tracking: TrackingRecorder | None = None,
                 poll_interval: float = 0.2, standby_poll: float = 1.0) -> None:
        if not isinstance(app.mapper, SchemaMapper):
            raise TypeError(f"{type(app).__name__}: the relay needs a SchemaApplication (its events mapped to "
                            "schema subjects)")
        if batch_size < 1:
            raise ValueError(f"batch_size: expected 1 or more, got {batch_size}")
        self.app, self.publisher, self.mapper = app, publisher, app.mapper
        self.tracking_name = f"relay:{name}"
        self.source = source or f"/edakit/es/{app.name}"
        app_topic = f"{app.name.lower()}.events"
        self.topic_of = topic_of or (lambda event_type: app_topic)
        self.batch_size = batch_size
        self.tracking = tracking if tracking is not None else app.factory.tracking_recorder()
        self.poll_interval, self.standby_poll = poll_interval, standby_poll
        self.lock = LogLock(app, self.tracking_name)
        self._types: dict[str, str] = {}
        fault = os.environ.get(FAULT_AFTER_PUBLISH_ENV)
        self._kill_after = int(fault) if fault and fault.isdigit() and int(fault) > 0 else None
        self._acks = 0

    @property
    def position(self) -> int:
        return self.tracking.max_tracking_id(self.tracking_name) or 0

    def lag(self) -> Position:
        return position_of(self.app, self.tracking_name, self.position)

    def message(self, notification: Notification) -> tuple[str, Message]:
        """(broker topic, CloudEvent) of one stored event."""
        parsed = parse_topic(notification.topic)
        if parsed is None:
            raise RelayError(f"notification {notification.id} ({notification.topic}): not a schema-mapped event; "
                             "the relay publishes only events registered with the application's EventSchemas")
        event_type, version, payload = self.mapper.stored_payload(notification)
        body = notification.state if not (self.mapper.cipher or self.mapper.compressor) else orjson.dumps(payload)
        millis = payload[event_type.time_field] if event_type.time_field else 0
        type_name = self._types.get(event_type.name)
        if type_name is None:
            subject = event_type.subject
            type_name = self._types[event_type.name] = record_name(
                subject.serialization, subject.schema(subject.versions[-1]), str(subject.path(subject.versions[-1])))
        stream = str(notification.originator_id)
        message = Message(id=event_id(stream, notification.originator_version), type=type_name,
                          source=self.source, payload=body, time=EPOCH + millis * MILLISECOND,
                          key=stream,
                          headers={"sequence": str(notification.id),
                                   "streamversion": str(notification.originator_version),
                                   "dataversion": str(version)})
        return self.topic_of(event_type), message

    def run_once(self) -> int:
        """Publish the next batch after the tracked position; returns how many events were published. Raises
        PublishError (nothing advanced) when the broker did not acknowledge."""
        notifications = self.app.recorder.select_notifications(start=self.position, limit=self.batch_size,
                                                              inclusive_of_start=False)
        if not notifications:
            return 0
        groups: list[tuple[str, list[Message]]] = []
        for notification in notifications:
            topic, message = self.message(notification)
            if groups and groups[-1][0] == topic:
                groups[-1][1].append(message)
            else:
                groups.append((topic, [message]))
        for topic, messages in groups:
            self.publisher.publish(topic, messages)  # returns only after the broker acknowledged every message
        self._acks += 1
        if self._kill_after is not None and self._acks >= self._kill_after:
            os.kill(os.getpid(), signal.SIGKILL)  # acknowledged, position not advanced: the crash window itself
        self.tracking.insert_tracking(Tracking(self.tracking_name, notifications[-1].id))
        return len(notifications)

    def drain(self) -> int:
        """Publish until caught up with the head; returns how many events were published."""
        total = 0
        while published := self.run_once():
            total += published
        return total

    def run(self, stop: threading.Event, on_active: Callable[[], None] | None = None) -> None:
        """Wait to become the active relay of this log, then publish until `stop` is set. A failed publish is
        retried from the same position after `poll_interval` (the log is never skipped)."""
        while not self.lock.try_acquire():
            if stop.wait(self.standby_poll):
                return
        try:
            if on_active is not None:
                on_active()
            while not stop.is_set():
                try:
                    published = self.run_once()
                except PublishError as exc:
                    log.warning("relay %s: publish failed, retrying from position %d: %s", self.tracking_name,
                                self.position, exc)
                    published = 0
                if not published:
                    stop.wait(self.poll_interval)
        finally:
            self.lock.release()

