"""Competing consumers on the embedded broker: several worker processes in one consumer group share a stream.

What happens (no servers; the broker and the work log are SQLite files in a temporary directory):
1. The demo publishes 24 OrderPlaced events to the `orders` topic, whose consumer group `packing` is created first.
2. Three worker processes join the group. Each message goes to one of them; a worker handles it (writes the order to
   the work log) and only then acks it.
3. worker-1 crashes (the process exits) while it holds its third message, unacked. Once that message's visibility
   timeout (2 s) runs out, the broker redelivers it (attempt 2) to another worker.
4. The demo checks the work log: every order handled exactly once, the crashed worker's message by another worker
   on attempt 2, the work shared by more than one worker. Any failed check exits 1.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from contextlib import closing
from pathlib import Path

from edakit.runtime.adapters.embedded import EmbeddedBroker
from edakit.runtime.message import Message

TOPIC, GROUP = "orders", "packing"
ORDERS, WORKERS, CRASH_AFTER, VISIBILITY = 24, 3, 3, 2.0


def work_log(path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(path, timeout=30, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("CREATE TABLE IF NOT EXISTS handled (order_id TEXT, worker TEXT, attempt INTEGER)")
    db.execute("CREATE TABLE IF NOT EXISTS ready (worker TEXT)")
    return db


def worker(name: str, workdir: Path, crash_after: int | None) -> int:
    """One competing consumer: receive one message at a time, handle it, ack it; stop when all orders are done."""
    broker = EmbeddedBroker(workdir / "broker.sqlite3", visibility_timeout=VISIBILITY)
    subscriber = broker.subscriber(TOPIC, GROUP)
    received = 0
    with closing(work_log(workdir / "work.sqlite3")) as log:
        log.execute("INSERT INTO ready VALUES (?)", (name,))
        deadline = time.monotonic() + 60
        while log.execute("SELECT count(*) FROM ready").fetchone()[0] < WORKERS:  # start together
            if time.monotonic() > deadline:
                print(f"   {name}: the other workers did not start within 60 s", flush=True)
                return 2
            time.sleep(0.02)
        while log.execute("SELECT count(*) FROM handled").fetchone()[0] < ORDERS:
            for delivery in subscriber.receive(max_messages=1, timeout=0.2):
                received += 1
                order_id = json.loads(delivery.message.payload)["order_id"]
                if received == crash_after:
                    print(f"   {name} CRASHES while handling {order_id} (attempt {delivery.attempt}); "
                          f"it is never acked", flush=True)
                    os._exit(1)  # the process dies holding the message
                time.sleep(0.03)  # the work
                log.execute("INSERT INTO handled VALUES (?, ?, ?)", (order_id, name, delivery.attempt))
                delivery.ack()
                redelivered = " - a redelivery" if delivery.attempt > 1 else ""
                print(f"   {name} handled {order_id} (attempt {delivery.attempt}){redelivered}", flush=True)
    subscriber.close()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--workdir", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--crash-after", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return worker(args.worker, args.workdir, args.crash_after)

    with tempfile.TemporaryDirectory(prefix="edakit-cc-") as tmp:
        workdir = Path(tmp)
        broker = EmbeddedBroker(workdir / "broker.sqlite3", visibility_timeout=VISIBILITY)
        broker.create_group(TOPIC, GROUP)
        publisher = broker.publisher()
        publisher.publish(TOPIC, [Message.new("OrderPlaced", json.dumps({"order_id": f"ord-{i:02d}"}).encode(),
                                              source="urn:demo:orders") for i in range(1, ORDERS + 1)])
        publisher.close()
        work_log(workdir / "work.sqlite3").close()
        print(f"published {ORDERS} orders to {TOPIC!r}; {WORKERS} workers share consumer group {GROUP!r}")
        workers = {}
        for n in range(1, WORKERS + 1):
            crash = ["--crash-after", str(CRASH_AFTER)] if n == 1 else []
            workers[f"worker-{n}"] = subprocess.Popen(
                [sys.executable, __file__, "--worker", f"worker-{n}", "--workdir", str(workdir), *crash])
        codes = {name: process.wait(timeout=120) for name, process in workers.items()}
        with closing(work_log(workdir / "work.sqlite3")) as log:
            handled = log.execute("SELECT order_id, worker, attempt FROM handled").fetchall()

    problems = []
    counts = Counter(order_id for order_id, _, _ in handled)
    expected = {f"ord-{i:02d}" for i in range(1, ORDERS + 1)}
    if set(counts) != expected:
        problems.append(f"orders never handled: {sorted(expected - set(counts))}")
    if any(c > 1 for c in counts.values()):
        problems.append(f"orders handled more than once: {sorted(o for o, c in counts.items() if c > 1)}")
    redelivered = [(o, w) for o, w, attempt in handled if attempt > 1]
    if len(redelivered) != 1 or redelivered[0][1] == "worker-1":
        problems.append(f"expected the crashed worker's message redelivered once to another worker, got "
                        f"{redelivered}")
    if codes["worker-1"] != 1:
        problems.append(f"worker-1 should have crashed (exit 1), exited {codes['worker-1']}")
    per_worker = Counter(w for _, w, _ in handled)
    if len(per_worker) < 2:
        problems.append(f"the work was not shared: {dict(per_worker)}")
    print(f"\nhandled per worker: {', '.join(f'{w} {c}' for w, c in sorted(per_worker.items()))}")
    if redelivered:
        print(f"the crashed worker's message {redelivered[0][0]} was redelivered to {redelivered[0][1]}")
    for problem in problems:
        print("FAIL:", problem)
    print("competing consumers:", "FAIL" if problems else
          f"PASS: {ORDERS} orders, each handled once; the crashed worker's message went to another worker")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
