"""A consumer process for the SIGKILL storm: it writes its effect to PostgreSQL, and on its `stall_at`-th handler run
prints "in-handler EVENT_ID" and sleeps inside the handler, after the effect, until the test kills it.

With the SQL store the effect and the idempotency record share one transaction (open while it sleeps); with a lease
store (Redis, DynamoDB) the effect commits on its own (autocommit) and the record is completed after the handler.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg

from edakit.runtime.adapters.embedded import EmbeddedBroker
from edakit.runtime.idempotency import SqlIdempotencyStore, idempotent, transactional
from edakit.runtime.middleware import RetryPolicy, Router, compose, retry

LEASE_SECONDS = 1  # the Router's lease_seconds: a killed run's store lease lapses this soon
VISIBILITY = 1.0  # the embedded broker redelivers a killed run's message this soon


class Flaky(Exception):
    """Raised after the business writes (SQL store only), so the transaction must roll them back."""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--store", choices=["sql", "redis", "dynamodb"], required=True)
    parser.add_argument("--dsn", required=True)
    parser.add_argument("--broker", required=True)
    parser.add_argument("--consumer", required=True)
    parser.add_argument("--store-address", default="")
    parser.add_argument("--stall-at", type=int, default=0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--wait-for-go", action="store_true", help="start consuming after a line on stdin")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    conn = psycopg.connect(args.dsn, autocommit=args.store != "sql")
    runs = 0

    def effect(delivery, db: psycopg.Connection) -> None:  # noqa: ANN001 - a router delivery
        nonlocal runs
        runs += 1
        amount = json.loads(delivery.message.payload)["amount"]
        db.execute("INSERT INTO ledger (event_id, amount, pid) VALUES (%s, %s, %s)",
                   (delivery.message.id, amount, os.getpid()))
        if runs == args.stall_at:
            print(f"in-handler {delivery.message.id}", flush=True)  # after the effect, before the record
            time.sleep(60)  # the test SIGKILLs this process now
        if args.store == "sql" and rng.random() < 0.1:
            raise Flaky("injected failure after the writes")

    subscriber = EmbeddedBroker(args.broker).subscriber("payments", "billing", visibility_timeout=VISIBILITY)
    policy = retry(RetryPolicy(max_attempts=50, base_delay=0.05, max_delay=0.3))
    if args.store == "sql":
        @contextmanager
        def transaction() -> Iterator[psycopg.Connection]:
            with conn.transaction():
                yield conn

        handler = compose(transactional(transaction, SqlIdempotencyStore(args.consumer, window_hours=24), effect),
                          policy)
    else:
        from lease_stores import lease_store  # boto3 and redis only where they are used: start-up is the cost here

        store = lease_store(args.store, args.store_address, args.consumer)
        handler = compose(lambda delivery: effect(delivery, conn), policy, idempotent(store))
    router = Router(subscriber, handler, max_messages=5, receive_timeout=0.25, lease_seconds=LEASE_SECONDS)
    if args.wait_for_go:
        sys.stdin.readline()  # started early, so the test's kills need not wait for this process to import
    idle = 0
    while idle < 6:  # stops after ~1.5 s without messages: longer than a lapsing lease's retries take to resume
        idle = 0 if router.run_once() else idle + 1


if __name__ == "__main__":
    main()
