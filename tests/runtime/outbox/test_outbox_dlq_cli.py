"""`edakit outbox dlq ls|show|requeue|release` and the dead letters in `edakit outbox lag`, on real PostgreSQL and
SQLite, with a row Kafka (Tansu) refuses (a topic name the broker rejects)."""

from __future__ import annotations

import json
import sqlite3
import uuid
from pathlib import Path

import psycopg
import pytest
from click.testing import CliRunner

from edakit.cli import main
from edakit.runtime.adapters.kafka import KafkaBroker
from edakit.runtime.outbox import OutboxEvent, Relay, append, open_outbox


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["outbox", *args])
    return result.exit_code, result.stdout, result.stderr


def event(aggregate: str, n: int, topic: str) -> OutboxEvent:
    return OutboxEvent(aggregate_type="Order", aggregate_id=aggregate, event_type="OrderPlaced",
                       payload=json.dumps({"n": n}).encode(), topic=topic, source="/orders",
                       headers={"traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"})


@pytest.fixture(params=["postgresql", "sqlite"])
def db(request, tmp_path: Path) -> tuple[str, object]:
    if request.param == "postgresql":
        url = request.getfixturevalue("pg_url")
        return url, lambda: psycopg.connect(url)
    path = tmp_path / "app.sqlite3"
    return f"sqlite:{path}", lambda: sqlite3.connect(path)


def one_line_error(code: int, err: str, expected: str) -> None:
    assert code == 2 and len(err.strip().splitlines()) == 1 and expected in err, err


def test_dead_letters_are_listed_shown_released_and_requeued(db, tansu_bootstrap) -> None:
    url, connect = db
    good = f"orders.{uuid.uuid4().hex[:8]}"
    kafka = KafkaBroker(tansu_bootstrap)
    kafka.create_topics([good])
    assert run("init", "--db", url)[0] == 0
    bad, later = event("p", 2, "bad topic!"), event("p", 3, good)
    with connect() as conn:
        append(conn, [event("a", 1, good), bad, later])
    # The good row is acked in the same round, so the refusal is the row's own: dead-lettered at the first failure.
    code, _, err = run("relay", "--db", url, "--broker", f"kafka://{tansu_bootstrap}", "--until-empty",
                       "--max-attempts", "1")
    assert code == 1 and "1 row(s) not published (first: topic 'bad topic!'" in err and "1 published" in err
    store, publisher = open_outbox(url), kafka.publisher()
    relay = Relay(store, publisher)

    code, out, _ = run("lag", "--db", url, "--format", "json")
    assert code == 0 and {k: json.loads(out)[k] for k in ("rows", "failing_rows", "dead_letters",
                                                          "dead_letters_blocking")} == {
        "rows": 1, "failing_rows": 0, "dead_letters": 1, "dead_letters_blocking": 1}
    assert "dead letters 1 (1 blocking their aggregate)" in run("lag", "--db", url)[1]

    code, out, _ = run("dlq", "ls", "--db", url, "--format", "json")
    [listed] = json.loads(out)
    assert code == 0 and (listed["event_id"], listed["attempts"], listed["released_at"]) == (bad.event_id, 1, None)
    assert "Invalid topic" in listed["last_error"] or "Unknown topic" in listed["last_error"]
    code, out, err = run("dlq", "ls", "--db", url)
    assert code == 0 and f"{listed['id']:>8}  blocking" in out and "1 blocking their aggregate" in err
    code, out, _ = run("dlq", "show", str(listed["id"]), "--db", url, "--format", "json")
    shown = json.loads(out)
    assert (shown["payload"], shown["payload_encoding"], shown["headers"], shown["releases"]) == (
        '{"n": 2}', "utf-8", dict(bad.headers), [])

    one_line_error(*run("dlq", "show", "999999", "--db", url)[::2], "no row 999999 in outbox_dlq")
    one_line_error(*run("dlq", "show", "x1", "--db", url)[::2], "outbox id 'x1': expected")
    one_line_error(*run("dlq", "release", str(listed["id"]), "--reason", " ", "--db", url)[::2], "--reason")
    one_line_error(*run("dlq", "requeue", str(listed["id"]), "999999", "--db", url)[::2], "nothing requeued")

    code, _, err = run("dlq", "release", str(listed["id"]), "--reason", "topic name typo; fixed in v2",
                       "--by", "oncall", "--db", url)
    assert code == 0 and "released row" in err and "by oncall" in err
    one_line_error(*run("dlq", "release", str(listed["id"]), "--reason", "again", "--db", url)[::2],
                   "already released")
    assert relay.drain() == 1  # the aggregate's later row flows now
    code, out, _ = run("dlq", "show", str(listed["id"]), "--db", url)
    assert code == 0 and "by oncall: topic name typo; fixed in v2" in out

    code, _, err = run("dlq", "requeue", str(listed["id"]), "--db", url)
    assert code == 0 and f"requeued 1 row(s): {listed['id']}" in err
    lag = json.loads(run("lag", "--db", url, "--format", "json")[1])
    assert (lag["rows"], lag["dead_letters"]) == (1, 0)
    store.close()
    publisher.close()
