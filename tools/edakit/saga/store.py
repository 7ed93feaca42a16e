"""Saga instances, their history and their timers as rows, in the service's SQLite or PostgreSQL database.

The tables live next to the outbox table, so a transition and the command it sends commit in one transaction.
Statements use `:name` placeholders and run through `edakit.runtime.outbox.tx.execute`, like the outbox's own.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import psycopg

from edakit.runtime.outbox.tx import NAMED, Transaction, dialect_of, execute

# End states, named like the generated state machine's; Running and Compensating are the live ones.
RUNNING, COMPENSATING = "Running", "Compensating"
SUCCEEDED, FAILED, COMPENSATION_FAILED = "Succeeded", "Failed", "CompensationFailed"
STATES = (RUNNING, COMPENSATING, SUCCEEDED, FAILED, COMPENSATION_FAILED)
TERMINAL = (SUCCEEDED, FAILED, COMPENSATION_FAILED)

DDL = (
    """CREATE TABLE IF NOT EXISTS saga_instances (
  saga_id TEXT PRIMARY KEY,
  saga TEXT NOT NULL,
  state TEXT NOT NULL,
  step TEXT,
  phase TEXT NOT NULL,
  attempt INTEGER NOT NULL,
  awaiting TEXT,
  data TEXT NOT NULL,
  completed TEXT NOT NULL,
  pending TEXT NOT NULL,
  last_error TEXT,
  created_at DOUBLE PRECISION NOT NULL,
  updated_at DOUBLE PRECISION NOT NULL
)""",
    "CREATE INDEX IF NOT EXISTS saga_instances_state ON saga_instances (saga, state)",
    """CREATE TABLE IF NOT EXISTS saga_history (
  saga_id TEXT NOT NULL,
  seq INTEGER NOT NULL,
  at DOUBLE PRECISION NOT NULL,
  event TEXT NOT NULL,
  step TEXT,
  phase TEXT,
  attempt INTEGER,
  detail TEXT,
  PRIMARY KEY (saga_id, seq)
)""",
    """CREATE TABLE IF NOT EXISTS saga_timers (
  timer_id TEXT PRIMARY KEY,
  saga_id TEXT NOT NULL,
  kind TEXT NOT NULL,
  due_at DOUBLE PRECISION NOT NULL,
  awaiting TEXT
)""",
    "CREATE INDEX IF NOT EXISTS saga_timers_due ON saga_timers (due_at)",
    "CREATE INDEX IF NOT EXISTS saga_timers_instance ON saga_timers (saga_id)",
)
COLUMNS = ("saga_id", "saga", "state", "step", "phase", "attempt", "awaiting", "data", "completed", "pending",
           "last_error", "created_at", "updated_at")


@dataclass
class Instance:
    """One saga run. `awaiting` is the id of the command whose reply is expected, `retry:<timer>` while a retry
    waits, or None once the saga ended; any reply for another command is late and ignored."""

    saga_id: str
    saga: str
    state: str
    step: str | None
    phase: str
    attempt: int
    awaiting: str | None
    data: dict[str, Any]
    completed: list[str]
    pending: list[str]
    last_error: dict[str, Any] | None
    created_at: float
    updated_at: float

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Instance:
        return cls(
            saga_id=row["saga_id"], saga=row["saga"], state=row["state"], step=row["step"], phase=row["phase"],
            attempt=int(row["attempt"]), awaiting=row["awaiting"], data=json.loads(row["data"]),
            completed=json.loads(row["completed"]), pending=json.loads(row["pending"]),
            last_error=json.loads(row["last_error"]) if row["last_error"] else None,
            created_at=float(row["created_at"]), updated_at=float(row["updated_at"]),
        )

    def to_row(self) -> dict[str, Any]:
        return {
            "saga_id": self.saga_id, "saga": self.saga, "state": self.state, "step": self.step, "phase": self.phase,
            "attempt": self.attempt, "awaiting": self.awaiting, "data": json.dumps(self.data),
            "completed": json.dumps(self.completed), "pending": json.dumps(self.pending),
            "last_error": json.dumps(self.last_error) if self.last_error else None,
            "created_at": self.created_at, "updated_at": self.updated_at,
        }


@dataclass(frozen=True)
class Transition:
    """One line of a saga's history."""

    seq: int
    at: float
    event: str
    step: str | None
    phase: str | None
    attempt: int | None
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Timer:
    timer_id: str
    saga_id: str
    kind: str  # step_timeout | heartbeat | retry | saga_timeout
    due_at: float
    awaiting: str | None  # valid only while the instance still awaits this


def create_schema(tx: Transaction) -> None:
    for statement in DDL:
        execute(tx, statement, {})


def query(tx: Transaction, sql: str, params: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Rows as dicts, on a sqlite3 or psycopg connection."""
    if isinstance(tx, sqlite3.Connection):
        cursor = tx.execute(sql, params)
    elif isinstance(tx, psycopg.Connection):
        cursor = tx.execute(NAMED.sub(r"%(\1)s", sql), params)  # type: ignore[arg-type]
    else:
        raise TypeError(f"the saga store takes a sqlite3 or psycopg connection, got {type(tx).__name__}")
    names = [column[0] for column in cursor.description or ()]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


def insert_instance(tx: Transaction, instance: Instance) -> None:
    execute(tx, f"INSERT INTO saga_instances ({', '.join(COLUMNS)}) VALUES ({', '.join(':' + c for c in COLUMNS)})",
            instance.to_row())


def save_instance(tx: Transaction, instance: Instance) -> None:
    sets = ", ".join(f"{c} = :{c}" for c in COLUMNS if c != "saga_id")
    execute(tx, f"UPDATE saga_instances SET {sets} WHERE saga_id = :saga_id", instance.to_row())


def locked_instance(tx: Transaction, saga_id: str) -> Instance | None:
    """The instance, its row locked until `tx` ends on PostgreSQL (SQLite's write lock covers it)."""
    lock = " FOR UPDATE" if dialect_of(tx) == "postgresql" else ""
    rows = query(tx, f"SELECT * FROM saga_instances WHERE saga_id = :saga_id{lock}", {"saga_id": saga_id})
    return Instance.from_row(rows[0]) if rows else None


def get_instance(tx: Transaction, saga_id: str) -> Instance | None:
    rows = query(tx, "SELECT * FROM saga_instances WHERE saga_id = :saga_id", {"saga_id": saga_id})
    return Instance.from_row(rows[0]) if rows else None


def list_instances(tx: Transaction, state: str | None = None, saga: str | None = None,
                   limit: int = 1000) -> list[Instance]:
    where, params = [], {"limit": limit}
    if state is not None:
        where.append("state = :state")
        params["state"] = state
    if saga is not None:
        where.append("saga = :saga")
        params["saga"] = saga
    clause = f" WHERE {' AND '.join(where)}" if where else ""
    rows = query(tx, f"SELECT * FROM saga_instances{clause} ORDER BY created_at, saga_id LIMIT :limit", params)
    return [Instance.from_row(row) for row in rows]


def add_history(tx: Transaction, saga_id: str, at: float, event: str, step: str | None = None,
                phase: str | None = None, attempt: int | None = None, **detail: Any) -> None:
    """Append one transition; the caller holds the instance's lock, so the next seq is safe to compute."""
    execute(tx, "INSERT INTO saga_history (saga_id, seq, at, event, step, phase, attempt, detail) "
                "SELECT :saga_id, COALESCE(MAX(seq), 0) + 1, :at, :event, :step, :phase, :attempt, :detail "
                "FROM saga_history WHERE saga_id = :saga_id",
            {"saga_id": saga_id, "at": at, "event": event, "step": step, "phase": phase, "attempt": attempt,
             "detail": json.dumps(detail, default=str) if detail else None})


def history(tx: Transaction, saga_id: str) -> list[Transition]:
    rows = query(tx, "SELECT * FROM saga_history WHERE saga_id = :saga_id ORDER BY seq", {"saga_id": saga_id})
    return [Transition(int(r["seq"]), float(r["at"]), r["event"], r["step"], r["phase"], r["attempt"],
                       json.loads(r["detail"]) if r["detail"] else {}) for r in rows]


def add_timer(tx: Transaction, timer: Timer) -> None:
    execute(tx, "INSERT INTO saga_timers (timer_id, saga_id, kind, due_at, awaiting) "
                "VALUES (:timer_id, :saga_id, :kind, :due_at, :awaiting)", timer.__dict__)


def delete_timers(tx: Transaction, saga_id: str, kinds: tuple[str, ...]) -> None:
    names = {f"k{n}": kind for n, kind in enumerate(kinds)}
    execute(tx, f"DELETE FROM saga_timers WHERE saga_id = :saga_id AND kind IN ({', '.join(':' + k for k in names)})",
            {"saga_id": saga_id, **names})


def postpone_heartbeat(tx: Transaction, saga_id: str, awaiting: str, due_at: float) -> None:
    execute(tx, "UPDATE saga_timers SET due_at = :due_at WHERE saga_id = :saga_id AND kind = 'heartbeat' "
                "AND awaiting = :awaiting", {"saga_id": saga_id, "awaiting": awaiting, "due_at": due_at})


def claim_due_timer(tx: Transaction, now: float, saga: str) -> tuple[Timer, Instance] | None:
    """The earliest due timer of this saga definition with its instance, both locked for `tx`.

    On PostgreSQL `FOR UPDATE ... SKIP LOCKED` passes over a timer another orchestrator holds, or whose instance a
    reply is changing right now, so a timer claim never waits and one timer is fired once (the caller deletes it in
    the claiming transaction). SQLite has one writer at a time: run one orchestrator process per database there."""
    sql = ("SELECT t.timer_id, t.kind, t.due_at, t.awaiting AS timer_awaiting, i.* FROM saga_timers t "
           "JOIN saga_instances i ON i.saga_id = t.saga_id WHERE t.due_at <= :now AND i.saga = :saga "
           "ORDER BY t.due_at LIMIT 1")
    if dialect_of(tx) == "postgresql":
        sql += " FOR UPDATE OF t, i SKIP LOCKED"
    rows = query(tx, sql, {"now": now, "saga": saga})
    if not rows:
        return None
    row = rows[0]
    timer = Timer(row["timer_id"], row["saga_id"], row["kind"], float(row["due_at"]), row["timer_awaiting"])
    return timer, Instance.from_row(row)


def delete_timer(tx: Transaction, timer_id: str) -> None:
    execute(tx, "DELETE FROM saga_timers WHERE timer_id = :timer_id", {"timer_id": timer_id})
