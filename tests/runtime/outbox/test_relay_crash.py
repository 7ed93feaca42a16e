"""Fault test: relay processes are SIGKILLed at random points while events are written; nothing may be lost."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import defaultdict
from pathlib import Path

import psycopg

from edakit.runtime.outbox import OutboxEvent, PostgresOutbox, append
from edakit.runtime.outbox import postgres as pg_outbox
from edakit.runtime.outbox.relay import FAULT_AFTER_PUBLISH_ENV

EVENTS, AGGREGATES, BATCH, RELAYS, MAX_ROUNDS = 2000, 40, 20, 2, 10
WORKER = Path(__file__).with_name("relay_worker.py")


def write_events(pg_url: str) -> None:
    with psycopg.connect(pg_url) as conn:
        for start in range(0, EVENTS, 20):
            with conn.transaction():
                append(conn, [OutboxEvent(aggregate_type="Order", aggregate_id=f"o{n % AGGREGATES}",
                                          event_type="OrderPlaced", payload=json.dumps({"n": n}).encode(),
                                          topic="orders", source="/orders") for n in range(start, start + 20)])
            time.sleep(0.002)


def start_relays(command: list[str], count: int = RELAYS, env: dict[str, str] | None = None
                 ) -> list[subprocess.Popen[str]]:
    relays = [subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)
              for _ in range(count)]
    for relay in relays:  # each prints "ready" once connected, then waits for "go"
        assert relay.stdout is not None and relay.stdout.readline() == "ready\n"
    for relay in relays:
        assert relay.stdin is not None
        relay.stdin.write("go\n")
        relay.stdin.flush()
    return relays


def stop(relay: subprocess.Popen[str]) -> None:
    relay.send_signal(signal.SIGKILL)
    relay.wait()
    assert relay.stdout is not None and relay.stdin is not None
    relay.stdout.close()
    relay.stdin.close()


def test_sigkilled_relays_lose_nothing_and_duplicate_at_most_a_batch_per_kill(pg_url, embedded, capsys):
    with psycopg.connect(pg_url) as conn:
        pg_outbox.create_schema(conn)
    sub = embedded.subscriber("orders", "check")
    command = [sys.executable, str(WORKER), pg_url, str(embedded.path), str(BATCH)]
    writer = threading.Thread(target=write_events, args=(pg_url,))
    writer.start()
    lag, rng, kills, rounds = PostgresOutbox(pg_url), random.Random(6), 0, 0
    try:
        # Bounded: at most MAX_ROUNDS rounds; each starts the relays and SIGKILLs each at a random moment of its
        # draining (claiming, publishing or deleting) while the backlog lasts.
        while rounds < MAX_ROUNDS and (writer.is_alive() or lag.lag().rows):
            rounds += 1
            relays = start_relays(command)
            for relay in relays:
                time.sleep(rng.uniform(0.0, 0.03))
                stop(relay)
                kills += 1
        writer.join()
        relays = start_relays(command)  # survivors drain what is left
        deadline = time.monotonic() + 60
        while lag.lag().rows and time.monotonic() < deadline:
            time.sleep(0.05)
        assert lag.lag().rows == 0
        for relay in relays:
            stop(relay)
    finally:
        lag.close()

    received = []
    while batch := sub.receive(500, timeout=0.3):
        for delivery in batch:
            received.append(json.loads(delivery.message.payload)["n"])
            delivery.ack()
    missing = set(range(EVENTS)) - set(received)
    duplicates = len(received) - len(set(received))
    with capsys.disabled():
        print(f"\n[outbox fault test] events={EVENTS} kills={kills} received={len(received)} "
              f"missing={len(missing)} duplicates={duplicates} (bound {kills * BATCH})")
    assert not missing
    assert duplicates <= kills * BATCH
    # Per aggregate, first arrivals keep the write order (a re-sent batch repeats a prefix it already sent).
    first_seen: dict[int, list[int]] = defaultdict(list)
    seen: set[int] = set()
    for n in received:
        if n not in seen:
            seen.add(n)
            first_seen[n % AGGREGATES].append(n)
    assert all(ns == sorted(ns) for ns in first_seen.values())


WINDOW_EVENTS, WINDOW_BATCH, WINDOW_KILLS, KILL_AFTER_ACKS = 200, 20, 3, 2


def test_a_kill_between_the_broker_ack_and_the_delete_duplicates_and_loses_nothing(pg_url, embedded, capsys):
    """The crash window itself: each relay SIGKILLs itself (EDAKIT_FAULT_AFTER_PUBLISH) right after the broker
    acknowledged its second batch, before the delete commits. The next relay sends that batch again: exactly one
    batch of duplicates per kill, nothing lost."""
    with psycopg.connect(pg_url) as conn:
        pg_outbox.create_schema(conn)
        append(conn, [OutboxEvent(aggregate_type="Order", aggregate_id=f"o{n % AGGREGATES}", event_type="OrderPlaced",
                                  payload=json.dumps({"n": n}).encode(), topic="orders", source="/orders")
                      for n in range(WINDOW_EVENTS)])
    sub = embedded.subscriber("orders", "check")
    command = [sys.executable, str(WORKER), pg_url, str(embedded.path), str(WINDOW_BATCH)]
    faulty = {**os.environ, FAULT_AFTER_PUBLISH_ENV: str(KILL_AFTER_ACKS)}
    for _ in range(WINDOW_KILLS):
        [relay] = start_relays(command, 1, faulty)
        assert relay.wait(60) == -signal.SIGKILL  # it killed itself in the window, nobody else did
        stop(relay)
    lag = PostgresOutbox(pg_url)
    try:
        assert lag.lag().rows == WINDOW_EVENTS - WINDOW_KILLS * (KILL_AFTER_ACKS - 1) * WINDOW_BATCH
        [relay] = start_relays(command, 1)  # a healthy relay drains the rest
        deadline = time.monotonic() + 60
        while lag.lag().rows and time.monotonic() < deadline:
            time.sleep(0.05)
        assert lag.lag().rows == 0
        stop(relay)
    finally:
        lag.close()
    received = []
    while batch := sub.receive(500, timeout=0.3):
        for delivery in batch:
            received.append(json.loads(delivery.message.payload)["n"])
            delivery.ack()
    lost = len(set(range(WINDOW_EVENTS)) - set(received))
    duplicates = len(received) - len(set(received))
    with capsys.disabled():
        print(f"\n[outbox crash-window test] events={WINDOW_EVENTS} kills={WINDOW_KILLS} received={len(received)} "
              f"lost={lost} duplicates={duplicates} (one batch of {WINDOW_BATCH} per kill)")
    assert lost == 0
    assert duplicates == WINDOW_KILLS * WINDOW_BATCH > 0
