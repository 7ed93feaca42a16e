"""One orchestrator process for test_crash.py: relay, reply subscriber and timers in a loop until SIGKILL.

Marks its crash windows in a file (one unbuffered write per line): "D" when a command was written inside a
transition's transaction, "C" once that transaction committed, "R" when it is ready. A kill that leaves "D" last hit a transition between
its command insert and the end of its commit. Both windows (before the commit, between a reply's commit and its
ack) are widened by a 10 ms sleep, so random kills land in them often.
"""

from __future__ import annotations

import os
import sys
import time

import psycopg

from edakit.runtime.adapters.embedded import EmbeddedBroker
from edakit.runtime.middleware import Router
from edakit.runtime.outbox import PostgresOutbox, Relay
from edakit.saga import load_saga
from edakit.saga.engine import Orchestrator


def main(dsn: str, broker_path: str, saga_path: str, marks_path: str, time_scale: str) -> None:
    marks = os.open(marks_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT)

    class Marked(Orchestrator):
        def _dispatch(self, *args, **kwargs):  # type: ignore[no-untyped-def]
            super()._dispatch(*args, **kwargs)
            os.write(marks, b"D\n")
            time.sleep(0.01)  # widens the window between the command's insert and the commit, for the kills to hit

    saga = load_saga(saga_path)
    db = psycopg.connect(dsn)
    orchestrator = Marked(saga, db, time_scale=float(time_scale), on_transition=lambda _: os.write(marks, b"C\n"))
    broker = EmbeddedBroker(broker_path)
    subscriber = broker.subscriber(saga.reply_channel, f"{saga.reply_channel}-orchestrator", visibility_timeout=0.5)
    handler = orchestrator.reply_handler()

    def widened(delivery):  # type: ignore[no-untyped-def]
        handler(delivery)
        time.sleep(0.01)  # widens the window between a reply's commit and its ack

    router = Router(subscriber, widened, receive_timeout=0.02)
    relay = Relay(PostgresOutbox(dsn), broker.publisher(), batch_size=20)
    os.write(marks, b"R\n")
    while True:
        relay.drain()
        router.run_once()
        orchestrator.fire_due_timers(limit=20)


if __name__ == "__main__":
    main(*sys.argv[1:])
