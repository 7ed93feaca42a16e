"""The Python saga orchestrator's cost per step, and sagas completed per second (issue 14).

- saga_step_overhead_ratio: seconds per step of the orchestrator consuming a success reply (the idempotent reply
  record, the instance's transition with its history, the next step's command through the outbox, its timer) /
  the same three operations done by hand with the kit's pieces in one transaction per reply: the idempotency
  middleware (`transactional` on the SQL store), an UPDATE of the business row, `outbox.append` of one command.
  SQLite (WAL, the saga connection's settings), SAGAS sagas of three steps, replies built before the clock starts.
- saga_sqlite_sagas_per_s / saga_postgres_sagas_per_s: three-step sagas completed per second by one orchestrator
  (start + three replies each, every transition committed); participants are not timed, their replies are built
  from the commands in the outbox between steps.
"""

from __future__ import annotations

import dataclasses
import json
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

import psycopg

from benchmarks.harness import Figure, Group, Sides
from edakit.devservers import postgres_server
from edakit.runtime.idempotency import SqlIdempotencyStore, transactional
from edakit.runtime.message import Message
from edakit.runtime.outbox import OutboxEvent, append, create_schema
from edakit.runtime.outbox.tx import Transaction, execute
from edakit.saga import parse_saga
from edakit.saga.engine import Orchestrator
from edakit.saga.protocol import REPLY_TYPE, SUCCEEDED_REPLY, parse_command, reply_id, reply_payload
from edakit.saga.store import SUCCEEDED, query
from edakit.saga.worker import connect_sqlite

SAGAS, STEPS = 200, 3
ARN = "arn:aws:sqs:eu-west-1:123456789012:bench"
SAGA = "saga: Bench\ndefaults: {timeout_seconds: 60}\nsteps:\n" + "".join(
    f"  - name: S{n}\n    channel: bench-s{n}\n    action: {{service: sqs, resource: \"{ARN}\"}}\n"
    f"    compensation: {{service: sqs, resource: \"{ARN}\"}}\n" for n in range(STEPS))


@dataclass
class Reply:
    """A reply as the subscriber hands it over (the Delivery protocol); settling is the Router's, not timed."""

    message: Message
    attempt: int = 1
    source: str = "bench-replies"
    metadata: dict[str, str] = field(default_factory=dict)

    def ack(self) -> None:
        pass

    def nack(self, delay_seconds: float = 0) -> None:
        pass

    def dead_letter(self, reason: object) -> None:
        raise RuntimeError(f"saga bench: a reply was dead-lettered: {reason}")


@dataclass
class Context:
    connect: Callable[[], Transaction]
    dialect: str


@contextmanager
def sqlite() -> Iterator[Context]:
    with TemporaryDirectory(prefix="edakit-bench-saga-") as workdir:
        yield Context(lambda: connect_sqlite(str(Path(workdir) / f"{uuid.uuid4().hex}.sqlite3")), "sqlite")


@contextmanager
def postgres() -> Iterator[Context]:
    with ExitStack() as stack:
        url = stack.enter_context(postgres_server())

        def connect() -> psycopg.Connection:
            for _ in range(100):  # the server may still be starting up
                try:
                    conn = psycopg.connect(url)
                    break
                except psycopg.OperationalError:
                    time.sleep(0.1)
            else:
                conn = psycopg.connect(url)
            with conn.transaction():
                for table in ("saga_instances", "saga_history", "saga_timers", "saga_processed_replies", "outbox",
                              "orders", "bench_processed"):
                    conn.execute(f"DROP TABLE IF EXISTS {table}")
            return conn

        yield Context(connect, "postgresql")


def _commit(db: Transaction) -> None:
    db.commit()


def _replies_from_outbox(db: Transaction) -> list[Reply]:
    """The participants' answers to every command in the outbox (set-up, untimed); the outbox is emptied."""
    rows = query(db, "SELECT payload FROM outbox ORDER BY id", {})
    execute(db, "DELETE FROM outbox", {})
    _commit(db)
    replies = []
    for row in rows:
        payload = row["payload"]
        command = parse_command(payload if isinstance(payload, bytes) else bytes(payload))
        message = Message.new(REPLY_TYPE, reply_payload(command, SUCCEEDED_REPLY, output={"ok": True}), source="/bench")
        replies.append(Reply(dataclasses.replace(message, id=reply_id(command, SUCCEEDED_REPLY))))
    return replies


class Orchestrated:
    """One orchestrator over a fresh database; `run(sagas)` returns (seconds starting, seconds of the replies)."""

    def __init__(self, ctx: Context) -> None:
        self.db = ctx.connect()
        create_schema(self.db)
        _commit(self.db)
        self.orchestrator = Orchestrator(parse_saga(SAGA, "bench.yaml"), self.db)
        self.orchestrator.create_schema()
        self.handler = self.orchestrator.reply_handler()

    def run(self, sagas: int) -> tuple[float, float]:
        start = time.perf_counter()
        ids = []
        for _ in range(sagas):
            with self.orchestrator.transaction() as tx:
                ids.append(self.orchestrator.start(tx, {"order": "o-1"}))
        starting, replying = time.perf_counter() - start, 0.0
        for _ in range(STEPS):
            replies = _replies_from_outbox(self.db)
            start = time.perf_counter()
            for reply in replies:
                self.handler(reply)
            replying += time.perf_counter() - start
        done = query(self.db, "SELECT COUNT(*) AS n FROM saga_instances WHERE state = :s", {"s": SUCCEEDED})[0]["n"]
        _commit(self.db)
        execute(self.db, "DELETE FROM saga_instances", {})
        execute(self.db, "DELETE FROM saga_history", {})
        _commit(self.db)
        if done != sagas:
            raise RuntimeError(f"saga bench: {done} of {sagas} sagas succeeded")
        return starting, replying


class ByHand:
    """The three operations per reply with the kit's pieces: idempotency record, business UPDATE, outbox append."""

    def __init__(self, ctx: Context) -> None:
        self.db = ctx.connect()
        create_schema(self.db)
        store = SqlIdempotencyStore("bench", window_hours=24, table="bench_processed")
        store.create_schema(self.db)
        execute(self.db, "CREATE TABLE IF NOT EXISTS orders (id TEXT PRIMARY KEY, step INTEGER NOT NULL, "
                         "data TEXT NOT NULL)", {})
        _commit(self.db)
        self.handler = transactional(self.db, store, self._transition)

    def _transition(self, delivery: Any, tx: Transaction) -> None:
        document = json.loads(delivery.message.payload)
        execute(tx, "UPDATE orders SET step = step + 1, data = :data WHERE id = :id",
                {"id": document["saga_id"], "data": json.dumps(document["output"])})
        append(tx, [OutboxEvent(aggregate_type="order", aggregate_id=document["saga_id"], event_type="Command",
                                payload=delivery.message.payload, topic="bench-next", source="/bench")])

    def run(self, sagas: int) -> float:
        ids = [str(uuid.uuid4()) for _ in range(sagas)]
        execute(self.db, "INSERT INTO orders (id, step, data) VALUES (:id, 0, '{}')", [{"id": i} for i in ids])
        _commit(self.db)
        elapsed = 0.0
        for step in range(STEPS):
            replies = [Reply(Message.new(REPLY_TYPE, json.dumps({"saga_id": i, "output": {"ok": True}}).encode(),
                                         source="/bench")) for i in ids]
            start = time.perf_counter()
            for reply in replies:
                self.handler(reply)
            elapsed += time.perf_counter() - start
        execute(self.db, "DELETE FROM outbox", {})
        execute(self.db, "DELETE FROM orders", {})
        _commit(self.db)
        return elapsed


def _overhead(ctx: Context) -> Sides:
    kit, hand = Orchestrated(ctx), ByHand(ctx)

    def close() -> None:
        kit.db.close()
        hand.db.close()

    return Sides(kit=lambda: kit.run(SAGAS)[1], baseline=lambda: hand.run(SAGAS), items=SAGAS * STEPS, close=close)


def _throughput(ctx: Context) -> Sides:
    kit = Orchestrated(ctx)

    def rate() -> float:
        starting, replying = kit.run(SAGAS)
        return SAGAS / (starting + replying)

    return Sides(kit=rate, close=kit.db.close)


SQLITE = Group("saga", [
    Figure("saga_step_overhead_ratio", "by hand per reply, one transaction: transactional() idempotency record, "
           "UPDATE of the business row, outbox.append of one command (SQLite)", _overhead, kind="cost",
           target=("<=", 1.3), budget=15),
    Figure("saga_sqlite_sagas_per_s", "none: three-step sagas completed per second by one orchestrator on SQLite "
           "(start + three replies, participants untimed)", _throughput, kind="value", unit="sagas/s", budget=8),
], context=sqlite)
POSTGRES = Group("saga_postgres", [
    Figure("saga_postgres_sagas_per_s", "none: three-step sagas completed per second by one orchestrator on "
           "PostgreSQL (start + three replies, participants untimed)", _throughput, kind="value", unit="sagas/s",
           budget=10),
], context=postgres)
