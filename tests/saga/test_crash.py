"""SIGKILL the orchestrators at random points under load on PostgreSQL; restart them; every saga still ends.

Two orchestrator processes share the tables (timers claimed with SKIP LOCKED); participants and their relay run
in this process on the embedded broker. The test kills a random one of the two at random times until both crash
windows were hit at least once: inside a transition's transaction (its marks file ends in "D"), and after a
reply's commit but before its ack (the redelivered reply is recorded as a duplicate).
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import psycopg
import pytest

from edakit.runtime.adapters.embedded import EmbeddedBroker
from edakit.runtime.middleware import Router
from edakit.runtime.outbox import PostgresOutbox, Relay, create_schema
from edakit.saga import parse_saga
from edakit.saga.engine import Orchestrator
from edakit.saga.store import TERMINAL, history, query
from edakit.saga.worker import Participant, StepFailed

SAGAS = 60
ARN = "arn:aws:sqs:eu-west-1:123456789012:{}"
SAGA = f"""
saga: Crash
defaults:
  timeout_seconds: 40
  retry: {{max_attempts: 1, interval_seconds: 1, backoff_rate: 2.0}}
steps:
  - name: Reserve
    channel: crash-reserve
    action: {{service: sqs, resource: "{ARN.format('a')}"}}
    compensation: {{service: sqs, resource: "{ARN.format('b')}"}}
  - name: Charge
    channel: crash-charge
    action: {{service: sqs, resource: "{ARN.format('c')}", timeout_seconds: 6}}
    compensation: {{service: sqs, resource: "{ARN.format('d')}"}}
  - name: Ship
    channel: crash-ship
    compensate_on: []
    action: {{service: sqs, resource: "{ARN.format('e')}"}}
"""
# Charge's 6 s timeout becomes 3 s (the silent charges time out twice), retry intervals 0.5 s; the other steps'
# 20 s outlast any restart. 3 s is the margin for an answered Charge: 60 sagas dispatch it at once to one
# participant thread, on a loaded machine (two parallel runs) that round trip took over 1.5 s and an `ok` saga timed
# out twice and was compensated. The kills also never leave both orchestrators down (see the loop).
TIME_SCALE = 0.5
# kind -> (final state, the (step, phase) effects that must exist, once each)
EXPECTED = {
    "ok": ("Succeeded", {("Reserve", "action"), ("Charge", "action"), ("Ship", "action")}),
    "ship_declined": ("Failed", {("Reserve", "action"), ("Charge", "action"), ("Charge", "compensation"),
                                 ("Reserve", "compensation")}),
    "charge_silent": ("Failed", {("Reserve", "action"), ("Charge", "action"), ("Charge", "compensation"),
                                 ("Reserve", "compensation")}),
    "refund_broken": ("CompensationFailed", {("Reserve", "action"), ("Charge", "action")}),
}


def participants(dsn: str, broker: EmbeddedBroker, stop: threading.Event) -> None:
    """Every participant in one thread: handlers write an effect row in the idempotent transaction."""
    db = psycopg.connect(dsn)

    def handle(command, tx):
        kind = command.input["kind"]
        if kind in ("ship_declined", "refund_broken") and (command.step, command.phase) == ("Ship", "action"):
            raise StepFailed("Declined")
        if (kind, command.step, command.phase) == ("refund_broken", "Charge", "compensation"):
            raise StepFailed("RefundRejected")
        if (kind, command.step, command.phase) == ("charge_silent", "Charge", "action"):
            # the effect happens, the answer never comes: the step times out
            tx.execute("INSERT INTO effects VALUES (%s, %s, %s)", (command.saga_id, command.step, command.phase))
            raise _Silent()
        tx.execute("INSERT INTO effects VALUES (%s, %s, %s)", (command.saga_id, command.step, command.phase))
        return {"ok": True}

    participant = Participant("shop", db, handle, outbox_table="participant_outbox")
    participant.create_schema()
    routers = [Router(broker.subscriber(f"crash-{c}", "shop", visibility_timeout=5), _silencing(participant),
                      receive_timeout=0.01) for c in ("reserve", "charge", "ship")]
    relay = Relay(PostgresOutbox(dsn, table="participant_outbox"), broker.publisher())
    while not stop.is_set():
        for router in routers:
            router.run_once()
        relay.drain()


class _Silent(Exception):
    pass


def _silencing(participant: Participant):
    """The command handler, except that a _Silent handler commits its effect and answers nothing."""
    from edakit.saga.protocol import parse_command

    inner = participant.command_handler()

    def handle(delivery) -> None:
        command = parse_command(delivery.message.payload)
        if command.input["kind"] == "charge_silent" and (command.step, command.phase) == ("Charge", "action"):
            original = participant.handler

            def effect_only(cmd, tx):
                try:
                    return original(cmd, tx)
                except _Silent:
                    return None

            participant.handler = effect_only
            try:
                participant.execute(command, reply=None)
            finally:
                participant.handler = original
            return
        inner(delivery)

    return handle


def start_orchestrator(dsn: str, broker: Path, saga: Path, marks: Path) -> subprocess.Popen:
    script = Path(__file__).with_name("crash_orchestrator.py")
    return subprocess.Popen([sys.executable, str(script), dsn, str(broker), str(saga), str(marks), str(TIME_SCALE)],
                            stderr=subprocess.DEVNULL)


@pytest.mark.slow
def test_sigkilled_orchestrators_resume_and_every_effect_happens_once(pg_url: str, tmp_path: Path) -> None:
    saga_file = tmp_path / "crash.yaml"
    saga_file.write_text(SAGA)
    saga = parse_saga(SAGA, "crash.yaml")
    broker_path = tmp_path / "broker.sqlite3"
    broker = EmbeddedBroker(broker_path)
    for channel in ("crash-reserve", "crash-charge", "crash-ship"):
        broker.create_group(channel, "shop")
    broker.create_group(saga.reply_channel, f"{saga.reply_channel}-orchestrator")
    with psycopg.connect(pg_url) as conn:
        create_schema(conn)
        create_schema(conn, "participant_outbox")
        conn.execute("CREATE TABLE effects (saga_id TEXT, step TEXT, phase TEXT)")
        conn.commit()
    db = psycopg.connect(pg_url)
    orchestrator = Orchestrator(saga, db, time_scale=TIME_SCALE)
    orchestrator.create_schema()
    kinds = {}
    with orchestrator.transaction() as tx:
        for n in range(SAGAS):
            kind = list(EXPECTED)[n % len(EXPECTED)]
            kinds[orchestrator.start(tx, {"kind": kind}, f"saga-{n:02d}")] = kind

    stop = threading.Event()
    worker = threading.Thread(target=participants, args=(pg_url, broker, stop), daemon=True)
    worker.start()
    rng = random.Random(14)
    marks = [tmp_path / "marks-0", tmp_path / "marks-1"]
    procs = [start_orchestrator(pg_url, broker_path, saga_file, m) for m in marks]
    kills, mid_transaction = 0, 0
    try:
        deadline = time.monotonic() + 40
        while time.monotonic() < deadline:
            victim = rng.randrange(2)
            # both started (Python and the kit take about a second to import): one orchestrator always serves
            # replies and timers, so a restart alone never lets an answered step's timeout expire
            while not all("R" in (m.read_text() if m.exists() else "") for m in marks):
                time.sleep(0.02)
            if mid_transaction:
                time.sleep(rng.uniform(0.05, 0.4))
            else:  # until one kill has landed inside a transition: aim at it (the random kills may all miss it)
                aim = time.monotonic() + 5
                while time.monotonic() < aim and not (marks[victim].read_text() if marks[victim].exists()
                                                      else "").endswith("D\n"):
                    time.sleep(0.001)
            procs[victim].send_signal(signal.SIGKILL)
            procs[victim].wait()
            kills += 1
            text = marks[victim].read_text() if marks[victim].exists() else ""
            mid_transaction += text.endswith("D\n")
            marks[victim].unlink(missing_ok=True)
            procs[victim] = start_orchestrator(pg_url, broker_path, saga_file, marks[victim])
            duplicates = query(db, "SELECT COUNT(*) AS n FROM saga_history WHERE event = 'duplicate_reply_ignored'",
                               {})[0]["n"]
            db.commit()
            if mid_transaction and duplicates and kills >= 3:
                break
        # the survivors finish the work
        while time.monotonic() < deadline:
            live = query(db, f"SELECT COUNT(*) AS n FROM saga_instances WHERE state NOT IN {TERMINAL}", {})[0]["n"]
            db.commit()
            if not live:
                break
            time.sleep(0.2)
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
        stop.set()
        worker.join(10)

    assert mid_transaction >= 1 and duplicates >= 1, (kills, mid_transaction, duplicates)
    states = {r["saga_id"]: r["state"] for r in query(db, "SELECT saga_id, state FROM saga_instances", {})}
    effects = query(db, "SELECT saga_id, step, phase, COUNT(*) AS n FROM effects GROUP BY saga_id, step, phase", {})
    by_saga: dict[str, set] = {saga_id: set() for saga_id in kinds}
    for row in effects:
        assert row["n"] == 1, f"{row} applied more than once"
        by_saga[row["saga_id"]].add((row["step"], row["phase"]))
    for saga_id, kind in kinds.items():
        expected_state, expected_effects = EXPECTED[kind]
        assert (states[saga_id], by_saga[saga_id]) == (expected_state, expected_effects), (
            saga_id, kind, [(t.event, t.step, t.phase, t.attempt, t.detail) for t in history(db, saga_id)])
    print(f"\n{kills} kills, {mid_transaction} inside a transition, {duplicates} duplicate replies recorded")
