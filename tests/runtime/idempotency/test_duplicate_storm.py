"""Several consumer processes, duplicated and redelivered events, one business table: each effect exactly once with
the SQL store, also when consumers are SIGKILLed inside a handler; at least once, nothing lost, with lease stores."""

from __future__ import annotations

import json
import os
import random
import select
import signal
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor, wait
from pathlib import Path

import psycopg
import pytest

from edakit.runtime.adapters.embedded import EmbeddedBroker
from edakit.runtime.idempotency import SqlIdempotencyStore
from edakit.runtime.message import Message

EVENTS, CONSUMERS = 150, 3  # 150 events: ~260 deliveries with the duplicates, stalls and failures below
WORKER = Path(__file__).with_name("consumer_worker.py")


def test_duplicate_storm_has_each_effect_once(pg_url, embedded, capsys):
    with psycopg.connect(pg_url) as conn:
        SqlIdempotencyStore("billing", 24).create_schema(conn)
        # No unique key on purpose: only the idempotent consumer stands between a duplicate and a second row.
        conn.execute("CREATE TABLE ledger (event_id TEXT NOT NULL, amount INTEGER NOT NULL)")
        conn.execute("CREATE TABLE account (balance INTEGER NOT NULL)")
        conn.execute("INSERT INTO account VALUES (0)")
    embedded.create_group("payments", "billing")
    rng = random.Random(7)
    events = [Message.new("PaymentReceived", json.dumps({"amount": rng.randint(1, 100)}).encode(),
                          source="/payments") for _ in range(EVENTS)]
    stream = [e for e in events for _ in range(rng.choice([1, 1, 2, 3]))]  # injected duplicates
    rng.shuffle(stream)
    embedded.publisher().publish("payments", stream)

    workers = [subprocess.Popen([sys.executable, str(WORKER), pg_url, str(embedded.path), str(seed)],
                                stderr=subprocess.DEVNULL) for seed in range(CONSUMERS)]
    for worker in workers:
        assert worker.wait(timeout=120) == 0

    with psycopg.connect(pg_url) as conn:
        rows = conn.execute("SELECT event_id, count(*) FROM ledger GROUP BY event_id").fetchall()
        balance = conn.execute("SELECT balance FROM account").fetchone()[0]
    with capsys.disabled():
        print(f"\n[duplicate storm] events={EVENTS} deliveries published={len(stream)} ledger rows="
              f"{sum(n for _, n in rows)} distinct={len(rows)}")
    assert {event_id for event_id, _ in rows} == {e.id for e in events}
    assert all(n == 1 for _, n in rows)
    assert balance == sum(json.loads(e.payload)["amount"] for e in events)
    assert embedded.subscriber("payments", "billing").receive(1, timeout=0.1) == []


CRASH_WORKER = Path(__file__).with_name("crash_worker.py")
CRASH_EVENTS, VICTIMS, DRAINERS = 40, 2, 1


def _spawn(kind: str, pg_url: str, broker: Path, consumer: str, address: str, seed: int, *, stall_at: int = 0,
           wait_for_go: bool = False) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, str(CRASH_WORKER), "--store", kind, "--dsn", pg_url, "--broker",
                             str(broker), "--consumer", consumer, "--store-address", address,
                             "--stall-at", str(stall_at), "--seed", str(seed)]
                            + (["--wait-for-go"] if wait_for_go else []),
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)


def _kill_each_inside_its_handler(victims: list[subprocess.Popen]) -> list[tuple[int, str]]:
    """SIGKILL each victim as soon as it says it is inside a handler (it sleeps there after its effect); returns
    (pid, event id) of every kill that landed there."""
    landed: list[tuple[int, str]] = []
    waiting = {victim.stdout: victim for victim in victims}
    deadline = time.monotonic() + 30
    while waiting:
        ready, _, _ = select.select(list(waiting), [], [], max(0.0, deadline - time.monotonic()))
        assert ready, f"{len(waiting)} worker(s) never reached a handler"
        for stream in ready:
            victim = waiting.pop(stream)
            line = stream.readline().split()
            assert line[:1] == ["in-handler"], f"worker {victim.pid} ended before its stall: {line}"
            os.kill(victim.pid, signal.SIGKILL)
            victim.wait()
            landed.append((victim.pid, line[1]))
    return landed


def _crash_storm(kind: str, pg_url: str, broker_dir: Path, address: str = "") -> dict[str, object]:
    """Publish a stream with duplicates, kill VICTIMS consumers inside a handler, drain with DRAINERS fresh ones."""
    with psycopg.connect(pg_url, autocommit=True) as conn:
        SqlIdempotencyStore("billing", 24).create_schema(conn)
        # No unique key on purpose: only the idempotent consumer stands between a duplicate and a second row.
        conn.execute("CREATE TABLE ledger (event_id TEXT NOT NULL, amount INTEGER NOT NULL, pid INTEGER NOT NULL)")
    broker = EmbeddedBroker(broker_dir / "broker.sqlite3")
    broker.create_group("payments", "billing")
    rng = random.Random(11)
    events = [Message.new("PaymentReceived", json.dumps({"amount": rng.randint(1, 100)}).encode(),
                          source="/payments") for _ in range(CRASH_EVENTS)]
    stream = [e for e in events for _ in range(rng.choice([1, 1, 2, 3]))]
    rng.shuffle(stream)
    broker.publisher().publish("payments", stream)
    consumer = f"billing-{uuid.uuid4().hex[:8]}"

    victims = [_spawn(kind, pg_url, broker.path, consumer, address, n, stall_at=1 + 2 * n) for n in range(VICTIMS)]
    drainers = [_spawn(kind, pg_url, broker.path, consumer, address, 10 + n, wait_for_go=True)
                for n in range(DRAINERS)]
    landed = _kill_each_inside_its_handler(victims)
    with psycopg.connect(pg_url) as conn:  # what each killed run had written when it died
        left_by_killed = [conn.execute("SELECT count(*) FROM ledger WHERE pid = %s AND event_id = %s",
                                       (pid, event_id)).fetchone()[0] for pid, event_id in landed]
    for drainer in drainers:
        drainer.stdin.write("go\n")
        drainer.stdin.flush()
    for drainer in drainers:
        drainer.communicate(timeout=60)
        assert drainer.returncode == 0

    with psycopg.connect(pg_url) as conn:
        counts = dict(conn.execute("SELECT event_id, count(*) FROM ledger GROUP BY event_id").fetchall())
        amounts = dict(conn.execute("SELECT event_id, min(amount) FROM ledger GROUP BY event_id").fetchall())
    effects = [counts.get(e.id, 0) for e in events]
    return {"events": len(events), "deliveries": len(stream), "kills": len(landed),
            "left_by_killed": left_by_killed, "killed_events": [event_id for _, event_id in landed],
            "counts": counts, "lost": effects.count(0), "duplicates": sum(n - 1 for n in effects if n > 1),
            "amounts_match": all(amounts.get(e.id) == json.loads(e.payload)["amount"] for e in events),
            "queue_empty": broker.subscriber("payments", "billing").receive(1, timeout=0.1) == [],
            "dlq_empty": broker.dead_letter_subscriber("payments", "billing").receive(1, timeout=0.1) == []}


def _report(kind: str, figures: dict[str, object]) -> str:
    return (f"\n[SIGKILL storm, {kind} store] events={figures['events']} deliveries={figures['deliveries']} "
            f"kills mid-handler={figures['kills']} lost={figures['lost']} duplicates={figures['duplicates']}")


@pytest.fixture(scope="module")
def crash_storms(postgres_url: str, redis_url: str, moto_url: str, dynamodb, tmp_path_factory):  # noqa: ANN001, ANN201
    """The three storms run at once (most of each is waiting: for leases to lapse, for the queue to go idle), each
    on its own database and broker; every test reads its store's outcome (figures, or the error it raised)."""
    addresses = {"sql": "", "redis": redis_url.split("://", 1)[1].split("/", 1)[0],
                 "dynamodb": moto_url.split("://", 1)[1]}
    databases = {kind: f"t_storm_{kind}_{uuid.uuid4().hex[:8]}" for kind in addresses}
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        for name in databases.values():
            admin.execute(f"CREATE DATABASE {name}")
    base = postgres_url.rsplit("/", 1)[0]
    with ThreadPoolExecutor(len(addresses)) as pool:
        storms = {kind: pool.submit(_crash_storm, kind, f"{base}/{databases[kind]}", tmp_path_factory.mktemp(kind),
                                    address) for kind, address in addresses.items()}
        wait(storms.values())
    yield storms
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        for name in databases.values():
            admin.execute(f"DROP DATABASE {name} WITH (FORCE)")


def test_consumers_killed_inside_the_handler_leave_each_effect_once_with_the_sql_store(crash_storms, capsys):
    figures = crash_storms["sql"].result()
    with capsys.disabled():
        print(_report("sql", figures))
    assert figures["kills"] == VICTIMS  # every kill landed inside a handler, after its writes ...
    assert figures["left_by_killed"] == [0] * VICTIMS  # ... which died with the killed run's open transaction
    assert figures["lost"] == 0 and figures["duplicates"] == 0  # each effect exactly once
    assert figures["amounts_match"]
    assert figures["queue_empty"] and figures["dlq_empty"]


@pytest.mark.parametrize("kind", ["redis", "dynamodb"])
def test_consumers_killed_inside_the_handler_lose_nothing_with_a_lease_store(kind, crash_storms, capsys):
    figures = crash_storms[kind].result()
    with capsys.disabled():
        print(_report(kind, figures))
    assert figures["kills"] == VICTIMS
    assert figures["left_by_killed"] == [1] * VICTIMS  # the crash window: effect written, record not completed
    assert figures["lost"] == 0  # at-least-once: every event took effect ...
    counts = figures["counts"]
    assert all(counts[event_id] >= 2 for event_id in figures["killed_events"])  # ... a killed one again after its lease
    assert figures["queue_empty"] and figures["dlq_empty"]  # nothing dead-lettered, nothing left behind
