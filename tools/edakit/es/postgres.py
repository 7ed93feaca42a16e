"""pyeventsourcing's PostgreSQL recorders, ordering concurrent appends the way the kit's outbox does.

The library serialises the transactions that append to an events table with `LOCK TABLE ... IN EXCLUSIVE MODE`, so
notification ids become visible in id order (a reader of "id > last seen" never skips one committed later). These
recorders take the same transaction-scoped advisory lock as `edakit.runtime.outbox.serialize_inserts` instead, keyed
by the events table name: one approach for the event store and the outbox, which needs only INSERT privilege and
does not conflict with other statements' table locks. The library's recorder test cases run against them
(tests/es/test_recorders.py).
"""

from __future__ import annotations

from typing import Any

from eventsourcing.postgres import (PostgresApplicationRecorder, PostgresDatastore, PostgresFactory,
                                    PostgresProcessRecorder)
from psycopg.sql import SQL, Literal

from edakit.runtime.outbox.tx import insert_order_lock_key


def _advisory_lock_statements(datastore: PostgresDatastore, events_table_name: str) -> list[Any]:
    return [SQL("SET LOCAL lock_timeout = '{0}s'").format(datastore.lock_timeout),
            SQL("SELECT pg_advisory_xact_lock({0})").format(Literal(insert_order_lock_key(events_table_name)))]


class AdvisoryLockApplicationRecorder(PostgresApplicationRecorder):
    def __init__(self, datastore: PostgresDatastore, *, events_table_name: str = "stored_events") -> None:
        super().__init__(datastore, events_table_name=events_table_name)
        self.lock_table_statements = _advisory_lock_statements(datastore, events_table_name)


class AdvisoryLockProcessRecorder(PostgresProcessRecorder):
    def __init__(self, datastore: PostgresDatastore, *, events_table_name: str = "stored_events",
                 tracking_table_name: str = "notification_tracking") -> None:
        super().__init__(datastore, events_table_name=events_table_name, tracking_table_name=tracking_table_name)
        self.lock_table_statements = _advisory_lock_statements(datastore, events_table_name)


class KitPostgresFactory(PostgresFactory):
    """PostgresFactory with the advisory-lock recorders (PERSISTENCE_MODULE=edakit.es.postgres:KitPostgresFactory)."""

    application_recorder_class = AdvisoryLockApplicationRecorder
    process_recorder_class = AdvisoryLockProcessRecorder
