"""A consumer process for the duplicate-storm test: handler writes to PostgreSQL, fails and stalls at random."""

from __future__ import annotations

import json
import random
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg

from edakit.runtime.adapters.embedded import EmbeddedBroker
from edakit.runtime.idempotency import SqlIdempotencyStore, transactional
from edakit.runtime.middleware import RetryPolicy, Router, compose, retry


class Flaky(Exception):
    """Raised after the business writes, so the transaction must roll them back."""


def main(dsn: str, broker_path: str, seed: int) -> None:
    rng = random.Random(seed)
    conn = psycopg.connect(dsn)

    @contextmanager
    def transaction() -> Iterator[psycopg.Connection]:
        with conn.transaction():
            yield conn

    def apply_payment(delivery, tx: psycopg.Connection) -> None:
        amount = json.loads(delivery.message.payload)["amount"]
        tx.execute("INSERT INTO ledger (event_id, amount) VALUES (%s, %s)", (delivery.message.id, amount))
        tx.execute("UPDATE account SET balance = balance + %s", (amount,))
        if rng.random() < 0.03:
            time.sleep(0.6)  # outlives the visibility timeout: another process gets the same event meanwhile
        if rng.random() < 0.15:
            raise Flaky("injected failure after the writes")

    store = SqlIdempotencyStore("billing", window_hours=24)
    subscriber = EmbeddedBroker(broker_path).subscriber("payments", "billing", visibility_timeout=0.5)
    handler = compose(transactional(transaction, store, apply_payment),
                      retry(RetryPolicy(max_attempts=50, base_delay=0.01, max_delay=0.05)))
    router = Router(subscriber, handler, max_messages=5, receive_timeout=0.5)
    idle = 0
    while idle < 3:  # bounded: stops after ~1.5 s without messages
        idle = 0 if router.run_once() else idle + 1


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
