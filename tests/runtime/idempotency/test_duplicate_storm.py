"""Several consumer processes, duplicated and redelivered events, one business table: each effect exactly once."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path

import psycopg

from edakit.runtime.idempotency import SqlIdempotencyStore
from edakit.runtime.message import Message

EVENTS, CONSUMERS = 300, 3
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
