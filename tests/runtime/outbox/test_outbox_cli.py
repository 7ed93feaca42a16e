"""`edakit outbox init|lag|relay` against real PostgreSQL and SQLite, relaying to an embedded broker file."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest
from click.testing import CliRunner

from edakit.cli import main
from edakit.runtime.adapters.embedded import EmbeddedBroker
from edakit.runtime.message import Message
from edakit.runtime.outbox import OutboxEvent, append

TOPIC = "orders"


def events(count: int) -> list[OutboxEvent]:
    return [OutboxEvent(aggregate_type="Order", aggregate_id=f"o{n}", event_type="OrderPlaced",
                        payload=json.dumps({"n": n}).encode(), topic=TOPIC, source="/orders") for n in range(count)]


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["outbox", *args])
    return result.exit_code, result.stdout, result.stderr


def received(broker: EmbeddedBroker, count: int, timeout: float = 15.0) -> list[Message]:
    subscriber = broker.subscriber(TOPIC, "billing")
    got: list[Message] = []
    deadline = time.monotonic() + timeout
    while len(got) < count and time.monotonic() < deadline:
        for delivery in subscriber.receive(100, timeout=0.2):
            got.append(delivery.message)
            delivery.ack()
    subscriber.close()
    return got


@pytest.fixture
def broker(tmp_path: Path) -> EmbeddedBroker:
    broker = EmbeddedBroker(tmp_path / "broker.sqlite3")
    broker.create_group(TOPIC, "billing")
    return broker


def test_init_lag_and_relay_until_empty_on_postgresql(pg_url: str, broker: EmbeddedBroker) -> None:
    assert run("init", "--db", pg_url)[0] == 0
    assert run("init", "--db", pg_url)[0] == 0  # idempotent
    written = events(3)
    with psycopg.connect(pg_url) as conn:
        append(conn, written)
    code, out, _ = run("lag", "--db", pg_url, "--format", "json")
    assert code == 0 and json.loads(out)["rows"] == 3 and json.loads(out)["oldest_age_seconds"] >= 0
    code, _, err = run("relay", "--db", pg_url, "--broker", f"embedded:{broker.path}", "--until-empty")
    assert (code, err.strip()) == (0, "relayed 3 event(s)")
    assert sorted(m.id for m in received(broker, 3)) == sorted(e.event_id for e in written)
    assert run("lag", "--db", pg_url)[1].strip() == "rows 0  oldest 0.0s"


def test_the_relay_process_publishes_as_rows_commit_and_stops_on_sigterm(pg_url: str, broker: EmbeddedBroker) -> None:
    assert run("init", "--db", pg_url)[0] == 0
    relay = subprocess.Popen([str(Path(sys.executable).with_name("edakit")), "outbox", "relay", "--db", pg_url,
                              "--broker", f"embedded:{broker.path}", "--poll-interval", "3"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        with psycopg.connect(pg_url, autocommit=True) as conn:
            deadline = time.monotonic() + 15
            # Listening (its session's last statement, as the server shows it), so the rows below wake it through
            # NOTIFY, well before its 3 s poll. It stops within that poll interval after SIGTERM, hence not 5 s.
            while not conn.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                                   "AND query = 'LISTEN outbox'").fetchone()[0]:
                assert time.monotonic() < deadline and relay.poll() is None, "the relay never listened"
                time.sleep(0.05)
        written = events(5)
        with psycopg.connect(pg_url) as conn:
            append(conn, written)
        assert sorted(m.id for m in received(broker, 5, timeout=2)) == sorted(e.event_id for e in written)
        relay.send_signal(signal.SIGTERM)
        _, err = relay.communicate(timeout=15)
    finally:
        relay.kill()
    assert relay.returncode == 0, err
    assert "relay stopped" in err


def test_sqlite_outbox_from_init_to_relay(tmp_path: Path, broker: EmbeddedBroker) -> None:
    db = tmp_path / "app.sqlite3"
    assert run("init", "--db", f"sqlite:{db}")[0] == 0
    with sqlite3.connect(db) as conn:
        append(conn, events(2))
    code, _, err = run("relay", "--db", f"sqlite:{db}", "--broker", f"embedded:{broker.path}", "--until-empty")
    assert (code, err.strip()) == (0, "relayed 2 event(s)")
    assert len(received(broker, 2)) == 2


@pytest.mark.parametrize(("args", "expected"), [
    (["lag", "--db", "mysql://db/app"], "expected postgresql://... (a libpq URL) or sqlite:PATH"),
    (["lag", "--db", "sqlite:/nonexistent/app.db"], "SQLite database /nonexistent/app.db does not exist"),
    (["lag", "--db", "sqlite:/tmp/x.db", "--table", "Outbox;"], "expected a lower-case SQL identifier"),
    (["lag", "--db", "postgresql://nobody@127.0.0.1:1/app"],
     "error: outbox database postgresql://nobody@127.0.0.1:1/app: connection failed"),
])
def test_unusable_input_exits_2_saying_what_was_expected(args: list[str], expected: str, tmp_path: Path) -> None:
    if "sqlite:/tmp/x.db" in args:
        args[args.index("sqlite:/tmp/x.db")] = f"sqlite:{tmp_path / 'x.db'}"
        sqlite3.connect(tmp_path / "x.db").close()
    code, _, err = run(*args)
    assert code == 2 and expected in err


def test_a_password_in_the_database_url_stays_out_of_the_error() -> None:
    code, _, err = run("lag", "--db", "postgresql://app:s3cret@127.0.0.1:1/orders")
    assert code == 2 and "postgresql://app:***@127.0.0.1:1/orders" in err and "s3cret" not in err


def test_an_unknown_broker_exits_2(pg_url: str) -> None:
    assert run("init", "--db", pg_url)[0] == 0
    code, _, err = run("relay", "--db", pg_url, "--broker", "rabbit://localhost", "--until-empty")
    assert code == 2 and "unknown scheme 'rabbit'" in err
