"""pyeventsourcing's own recorder test cases against the recorders the kit configures differently from the
library: the PostgreSQL recorders ordering appends with the outbox's advisory lock (edakit.es.postgres), and the
read-model views (edakit.es.projection) that add tables to the library's tracking recorders.

Left out to keep the suite in its time budget: the cases' `test_performance` (timing loops, no assertion about
behaviour) and `test_concurrent_throughput` (a throughput print); `test_concurrent_no_conflicts` (10 writers,
100 000 events) and the non-interleaving race run.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from eventsourcing.postgres import PostgresDatastore
from eventsourcing.sqlite import SQLiteDatastore
from eventsourcing.tests import persistence as library_cases
from psycopg.conninfo import conninfo_to_dict

from edakit.es.orders import OrderSummaries
from edakit.es.postgres import AdvisoryLockApplicationRecorder, AdvisoryLockProcessRecorder
from edakit.es.projection import view_class


@pytest.fixture
def _database(request, pg_url: str, tmp_path: Path) -> None:
    info = conninfo_to_dict(pg_url)
    request.instance.datastore = lambda: PostgresDatastore(
        dbname=str(info["dbname"]), host=str(info["host"]), port=str(info["port"]), user=str(info["user"]),
        password="", pool_size=4, max_overflow=10)
    request.instance.sqlite_path = str(tmp_path / "view.db")


class _Kit:
    datastore: object
    sqlite_path: str
    test_performance = None  # left out: see the module docstring
    test_concurrent_throughput = None


@pytest.mark.usefixtures("_database")
class TestAdvisoryLockApplicationRecorder(_Kit, library_cases.ApplicationRecorderTestCase):
    def create_recorder(self):  # type: ignore[no-untyped-def]
        recorder = AdvisoryLockApplicationRecorder(self.datastore(), events_table_name="stored_events")
        recorder.create_table()
        return recorder


@pytest.mark.usefixtures("_database")
class TestAdvisoryLockNonInterleaving(_Kit, library_cases.NonInterleavingNotificationIDsBaseCase):
    def create_recorder(self):  # type: ignore[no-untyped-def]
        recorder = AdvisoryLockApplicationRecorder(self.datastore(), events_table_name="stored_events")
        recorder.create_table()
        return recorder


@pytest.mark.usefixtures("_database")
class TestAdvisoryLockProcessRecorder(_Kit, library_cases.ProcessRecorderTestCase):
    def create_recorder(self):  # type: ignore[no-untyped-def]
        recorder = AdvisoryLockProcessRecorder(self.datastore(), events_table_name="stored_events")
        recorder.create_table()
        return recorder


@pytest.mark.usefixtures("_database")
class TestPostgresView(_Kit, library_cases.TrackingRecorderTestCase):
    def create_recorder(self):  # type: ignore[no-untyped-def]
        recorder = view_class(OrderSummaries, "postgresql://")(self.datastore(), tracking_table_name="q_tracking")
        recorder.create_table()
        return recorder


@pytest.mark.usefixtures("_database")
class TestSQLiteView(_Kit, library_cases.TrackingRecorderTestCase):
    def create_recorder(self):  # type: ignore[no-untyped-def]
        recorder = view_class(OrderSummaries, "sqlite:")(SQLiteDatastore(self.sqlite_path))
        recorder.create_table()
        return recorder
