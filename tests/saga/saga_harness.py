"""A whole saga deployment in one process, on real parts: the embedded broker (SQLite), SQLite databases with
the kit's outbox and relays, the orchestrator and one Participant per step channel.

Only the clock is the test's: `pump()` runs everything until nothing moves, then jumps the clock to the next
timer, so step timeouts and retry delays of whole seconds cost no wall time and the order of events is exact.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

from edakit.runtime.adapters.embedded import EmbeddedBroker
from edakit.runtime.outbox import Relay, SqliteOutbox, create_schema
from edakit.runtime.outbox.tx import Transaction
from edakit.saga import parse_saga
from edakit.saga.engine import Orchestrator
from edakit.saga.protocol import Command
from edakit.saga.store import TERMINAL, get_instance, history, query
from edakit.saga.worker import Participant, StepFailed, connect_sqlite

# What a participant does with one call: "ok", ("fail", error), or "silent" (applies its effect, never answers).
Behaviour = Callable[[Command], Any]


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


class Deployment:
    def __init__(self, tmp: Path, saga_yaml: str, behaviour: Behaviour | None = None) -> None:
        self.saga = parse_saga(saga_yaml, "saga.yaml")
        self.clock = Clock()
        self.behaviour = behaviour or (lambda command: "ok")
        self.calls: list[tuple[str, str, int]] = []
        self.broker = EmbeddedBroker(tmp / "broker.sqlite3")
        channels = sorted({step.channel for step in self.saga.steps if step.channel})
        for channel in channels:
            self.broker.create_group(channel, "participants")
        self.broker.create_group(self.saga.reply_channel, f"{self.saga.reply_channel}-orchestrator")
        self.saga_db = connect_sqlite(str(tmp / "saga.sqlite3"))
        self.part_db = connect_sqlite(str(tmp / "participants.sqlite3"))
        for path, conn in ((tmp / "saga.sqlite3", self.saga_db), (tmp / "participants.sqlite3", self.part_db)):
            with sqlite3.connect(path) as c:
                create_schema(c)
        with self.part_db:
            self.part_db.execute("CREATE TABLE IF NOT EXISTS effects (step TEXT, phase TEXT, saga_id TEXT)")
        self.orchestrator = Orchestrator(self.saga, self.saga_db, clock=self.clock)
        self.orchestrator.create_schema()
        self.participant = Participant("participants", self.part_db, self._handle)
        self.participant.create_schema()
        self.relays = [Relay(SqliteOutbox(tmp / name), self.broker.publisher())
                       for name in ("saga.sqlite3", "participants.sqlite3")]
        self.orchestrator_router = self.orchestrator.router(self.broker, receive_timeout=0.0)
        self.participant_routers = []
        for channel in channels:
            router = self.participant.router(self.broker, channel, group="participants", receive_timeout=0.0)
            router.handler = self._maybe_silent(router.handler)
            self.participant_routers.append(router)

    def _handle(self, command: Command, tx: Transaction) -> Any:
        self.calls.append((command.step, command.phase, command.attempt))
        what = self.behaviour(command)
        tx.execute("INSERT INTO effects VALUES (?, ?, ?)", (command.step, command.phase, command.saga_id))
        if isinstance(what, tuple) and what[0] == "fail":
            raise StepFailed(what[1], "as scripted")
        return {"done": f"{command.step}/{command.phase}"}

    def _maybe_silent(self, handler):
        from edakit.saga.protocol import parse_command

        def handle(delivery) -> None:
            command = parse_command(delivery.message.payload)
            if self.behaviour(command) == "silent":  # the effect happens, the answer is lost
                self.participant.execute(command, reply=None)
                return
            handler(delivery)

        return handle

    def start(self, data: dict[str, Any] | None = None, saga_id: str | None = None) -> str:
        with self.orchestrator.transaction() as tx:
            return self.orchestrator.start(tx, data or {"order_id": "o-1"}, saga_id)

    def step_once(self) -> int:
        moved = sum(relay.drain() for relay in self.relays)
        for router in self.participant_routers:
            moved += router.run_until_idle(0.0)
        moved += sum(relay.drain() for relay in self.relays)
        moved += self.orchestrator_router.run_until_idle(0.0)
        moved += self.orchestrator.fire_due_timers()
        return moved

    def pump(self, max_jumps: int = 200) -> None:
        """Run until every saga ended: quiesce, then move the clock to the next timer."""
        for _ in range(max_jumps):
            while self.step_once():
                pass
            live = query(self.saga_db, "SELECT COUNT(*) AS n FROM saga_instances WHERE state NOT IN "
                         f"({', '.join(repr(s) for s in TERMINAL)})", {})[0]["n"]
            if not live:
                return
            due = query(self.saga_db, "SELECT MIN(due_at) AS due FROM saga_timers", {})[0]["due"]
            if due is None:
                return  # waits for something outside (an operator)
            self.clock.now = max(self.clock.now, float(due))
        raise AssertionError("sagas still running after every timer jump")

    def state(self, saga_id: str) -> str:
        instance = get_instance(self.saga_db, saga_id)
        assert instance is not None
        return instance.state

    def events(self, saga_id: str) -> list[str]:
        return [t.event for t in history(self.saga_db, saga_id)]

    def effects(self) -> list[tuple[str, str, str]]:
        return [tuple(row) for row in self.part_db.execute("SELECT step, phase, saga_id FROM effects")]
