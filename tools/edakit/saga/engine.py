"""The Python saga orchestrator: runs a saga definition (the YAML the ASL is generated from) durably on the kit.

Every saga instance is a row (state, step, phase, attempt, the data each step returned, a transition history);
every wait is a timer row (step timeout, heartbeat, retry delay, the saga's own timeout). A transition and the
command it causes commit in one transaction, the command written to the transactional outbox (the relay
publishes it to the step's channel on any broker). Replies come back through a kit subscriber: the SQL
idempotency store drops redelivered replies, and a reply for a command the instance no longer awaits (late, or
for an earlier attempt) is ignored; both are recorded in the history.

Semantics follow the generated state machine (edakit.saga.asl): per-step Retry (MaxAttempts retries after the
first attempt, IntervalSeconds x BackoffRate^n, ErrorEquals with States.ALL / States.TaskFailed / States.Timeout),
the completed steps compensated newest first, compensations retried by their own settings, and a compensation
that still fails ends in CompensationFailed, which waits for a person (`retry_compensation`).
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from edakit.runtime.adapters.base import Broker, Delivery
from edakit.runtime.idempotency import SqlIdempotencyStore, begin, transactional
from edakit.runtime.middleware import Handler, RetryPolicy, Router, compose, retry
from edakit.runtime.outbox import OutboxEvent, append
from edakit.runtime.outbox.tx import Transaction

from . import store
from .loader import SagaError
from .model import Invocation, Saga, Step
from .protocol import (COMMAND_TYPE, HEARTBEAT, ReplyError, SUCCEEDED_REPLY, Reply, command_payload, parse_reply)
from .store import COMPENSATING, COMPENSATION_FAILED, FAILED, RUNNING, SUCCEEDED, Instance

log = logging.getLogger(__name__)
TIMEOUT, HEARTBEAT_TIMEOUT = "States.Timeout", "States.HeartbeatTimeout"
SAGA_TIMED_OUT, SAGA_ABORTED = "SagaTimedOut", "SagaAborted"
STEP_TIMERS = ("step_timeout", "heartbeat", "retry")


def error_matches(errors: tuple[str, ...], error: str) -> bool:
    """ASL's ErrorEquals: a name matches itself; States.ALL matches every error; States.TaskFailed every error but
    a timeout; States.Timeout also matches a heartbeat timeout (States.HeartbeatTimeout)."""
    timeout = error in (TIMEOUT, HEARTBEAT_TIMEOUT)
    return (error in errors or "States.ALL" in errors or ("States.TaskFailed" in errors and not timeout)
            or (error == HEARTBEAT_TIMEOUT and TIMEOUT in errors))


def retry_delay(invocation: Invocation, retries_done: int) -> float:
    """Seconds before retry number retries_done + 1: IntervalSeconds x BackoffRate^retries_done, as in ASL."""
    return invocation.retry.interval_seconds * invocation.retry.backoff_rate ** retries_done


def check_runnable(saga: Saga) -> None:
    """The Python engine needs a channel on every step (the loader checks it is all steps or none)."""
    if any(step.channel is None for step in saga.steps):
        from edakit.spec.errors import Problem

        raise SagaError([Problem(saga.name, 1, 1, "steps", "the Python orchestrator needs `channel` on every step: "
                                 "the kit channel its commands go to")])


@dataclass(frozen=True)
class Outcome:
    """What a reply or a timer did: for logs, tests and the demo's printout."""

    saga_id: str
    event: str
    step: str | None
    phase: str | None
    attempt: int | None


class Orchestrator:
    """Runs the instances of one saga definition stored in `db` (a sqlite3 or psycopg connection).

    `db` holds the saga tables, the outbox table (`outbox_table`) and the reply idempotency records. Use one
    connection per orchestrator thread. On PostgreSQL several orchestrator processes may share the tables: timers
    are claimed with SKIP LOCKED and each reply locks its instance row. On SQLite run one orchestrator process.

    `time_scale` multiplies every duration of the definition (timeouts, retry intervals): 1.0 in production; tests
    and demos shrink whole seconds to milliseconds with it. `clock` returns seconds since the epoch.
    `on_transition(outcome)` is called after each committed transition (the demo prints them); those of `start`
    once `transaction()` commits, or with the next reply or timer when `start` ran in the caller's transaction.
    """

    def __init__(self, saga: Saga, db: Transaction, *, outbox_table: str = "outbox", time_scale: float = 1.0,
                 clock: Callable[[], float] = time.time, source: str | None = None,
                 on_transition: Callable[[Outcome], None] | None = None) -> None:
        check_runnable(saga)
        self.saga, self.db, self.outbox_table = saga, db, outbox_table
        self.time_scale, self.clock = time_scale, clock
        self.source = source or f"/sagas/{saga.name}"
        self.steps: dict[str, Step] = {step.name: step for step in saga.steps}
        self.replies = SqlIdempotencyStore(consumer=f"saga:{saga.name}", window_hours=24 * 7,
                                           table="saga_processed_replies")
        self.on_transition = on_transition
        self._outcomes: list[Outcome] = []

    # --- set-up and starting -------------------------------------------------------------------------------------

    def create_schema(self) -> None:
        """The saga tables and the reply records (the outbox table is `outbox.create_schema`'s); commits."""
        with begin(self.db) as tx:
            store.create_schema(tx)
            self.replies.create_schema(tx)

    def start(self, tx: Transaction, data: Mapping[str, Any], saga_id: str | None = None) -> str:
        """Create an instance and send the first step's command, in the caller's transaction (never commits): start
        the saga in the transaction of the business write that causes it. Returns the saga id."""
        saga_id = saga_id or str(uuid.uuid4())
        now = self.clock()
        instance = Instance(saga_id, self.saga.name, RUNNING, None, "action", 0, None, dict(data), [], [], None,
                            now, now)
        store.insert_instance(tx, instance)
        store.add_history(tx, saga_id, now, "started")
        if self.saga.timeout_seconds is not None:
            self._timer(tx, instance, "saga_timeout", self.saga.timeout_seconds, None)
        self._dispatch(tx, instance, self.saga.steps[0], "action", 1)
        store.save_instance(tx, instance)
        return saga_id

    # --- replies -----------------------------------------------------------------------------------------------

    def reply_handler(self, policy: RetryPolicy | None = None) -> Handler:
        """The chain for the reply subscriber: retry (a malformed reply goes to the DLQ at once) around the
        idempotent, transactional transition."""
        policy = policy or RetryPolicy(max_attempts=5, base_delay=0.05, max_delay=1.0, non_retryable=(ReplyError,))
        handler = transactional(self.db, self.replies, self._on_reply, on_duplicate=self._on_duplicate)
        return compose(self._notifying(handler), retry(policy))

    def router(self, broker: Broker, *, group: str | None = None, receive_timeout: float = 0.2) -> Router:
        """A Router over the saga's reply channel (consumer group `<reply channel>-orchestrator` by default)."""
        subscriber = broker.subscriber(self.saga.reply_channel, group or f"{self.saga.reply_channel}-orchestrator")
        return Router(subscriber, self.reply_handler(), receive_timeout=receive_timeout)

    def _on_reply(self, delivery: Delivery, tx: Transaction) -> None:
        reply = parse_reply(delivery.message.payload)
        instance = store.locked_instance(tx, reply.saga_id)
        if instance is None or instance.saga != self.saga.name:
            raise ReplyError(f"reply {delivery.message.id} names saga {reply.saga_id!r}, which is not an instance "
                             f"of {self.saga.name}")
        now = self.clock()
        if reply.command_id != instance.awaiting:
            store.add_history(tx, instance.saga_id, now, "late_reply_ignored", reply.step, reply.phase, reply.attempt,
                              status=reply.status, command_id=reply.command_id, message_id=delivery.message.id)
            self._record(instance, "late_reply_ignored", reply.step, reply.phase, reply.attempt)
            return
        if reply.status == HEARTBEAT:
            invocation = self._invocation(instance)
            if invocation.heartbeat_seconds is not None:
                store.postpone_heartbeat(tx, instance.saga_id, reply.command_id,
                                         now + invocation.heartbeat_seconds * self.time_scale)
            return
        if reply.status == SUCCEEDED_REPLY:
            self._succeeded(tx, instance, reply.output)
        else:
            self._failed(tx, instance, reply.error or "States.TaskFailed", reply.cause or "", "failure")
        instance.updated_at = now
        store.save_instance(tx, instance)

    def _on_duplicate(self, delivery: Delivery) -> None:
        try:
            reply = parse_reply(delivery.message.payload)
        except ReplyError:
            return
        with begin(self.db) as tx:
            if store.locked_instance(tx, reply.saga_id) is not None:
                store.add_history(tx, reply.saga_id, self.clock(), "duplicate_reply_ignored", reply.step, reply.phase,
                                  reply.attempt, message_id=delivery.message.id)

    # --- timers ------------------------------------------------------------------------------------------------

    def fire_due_timers(self, limit: int = 100) -> int:
        """Fire up to `limit` timers that are due, one transaction each; returns how many fired (stale ones count:
        a timer whose wait already ended is deleted without effect)."""
        fired = 0
        while fired < limit:
            with begin(self.db) as tx:
                claimed = store.claim_due_timer(tx, self.clock(), self.saga.name)
                if claimed is None:
                    break
                timer, instance = claimed
                store.delete_timer(tx, timer.timer_id)
                changed = self._fire(tx, timer, instance)
                if changed:
                    instance.updated_at = self.clock()
                    store.save_instance(tx, instance)
            fired += 1
            self._flush()
        return fired

    def _fire(self, tx: Transaction, timer: store.Timer, instance: Instance) -> bool:
        if timer.kind == "saga_timeout":
            if instance.state != RUNNING:
                return False
            self._saga_timed_out(tx, instance)
            return True
        if timer.awaiting is None or timer.awaiting != instance.awaiting:
            return False  # the wait it was set for is over
        if timer.kind == "retry":
            step = self.steps[instance.step or ""]
            self._dispatch(tx, instance, step, instance.phase, instance.attempt + 1)
            return True
        error = TIMEOUT if timer.kind == "step_timeout" else HEARTBEAT_TIMEOUT
        self._failed(tx, instance, error, f"no answer to {instance.phase} of {instance.step} in time", "timeout")
        return True

    # --- operator actions (edakit saga retry | abort) -----------------------------------------------------------

    def retry_compensation(self, saga_id: str) -> None:
        """Resume a CompensationFailed saga after a fix: its failed compensation runs again from attempt 1, then the
        remaining ones. Raises LookupError for an unknown id, ValueError in any other state."""
        with begin(self.db) as tx:
            instance = self._operated(tx, saga_id, (COMPENSATION_FAILED,), "retry")
            instance.state = COMPENSATING
            store.add_history(tx, saga_id, self.clock(), "compensation_retried_by_operator", instance.step,
                              "compensation")
            self._dispatch(tx, instance, self.steps[instance.pending[0]], "compensation", 1)
            store.save_instance(tx, instance)
        self._flush()

    def abort(self, saga_id: str, reason: str = "aborted by an operator") -> None:
        """Stop a Running saga and compensate what was done (the step in flight too, by its compensate_on
        "timeout" rule: its effect may have happened). Raises LookupError / ValueError like retry_compensation."""
        with begin(self.db) as tx:
            instance = self._operated(tx, saga_id, (RUNNING,), "abort")
            self._begin_compensation(tx, instance, SAGA_ABORTED, reason, self._in_flight_kind(instance))
            store.save_instance(tx, instance)
        self._flush()

    def _operated(self, tx: Transaction, saga_id: str, states: tuple[str, ...], what: str) -> Instance:
        instance = store.locked_instance(tx, saga_id)
        if instance is None or instance.saga != self.saga.name:
            raise LookupError(f"no {self.saga.name} saga with id {saga_id!r}")
        if instance.state not in states:
            raise ValueError(f"saga {saga_id} is {instance.state}; {what} applies to {' or '.join(states)} sagas only")
        return instance

    # --- transitions (all inside the caller's transaction, the instance locked) ----------------------------------

    def _succeeded(self, tx: Transaction, instance: Instance, output: Any) -> None:
        step = self.steps[instance.step or ""]
        now = self.clock()
        store.delete_timers(tx, instance.saga_id, STEP_TIMERS)
        store.add_history(tx, instance.saga_id, now, "succeeded", step.name, instance.phase, instance.attempt)
        self._record(instance, "succeeded", step.name, instance.phase, instance.attempt)
        if instance.phase == "action":
            instance.data.setdefault("results", {})[step.name] = {"output": output}
            instance.completed.append(step.name)
            index = self.saga.steps.index(step)
            if index + 1 < len(self.saga.steps):
                self._dispatch(tx, instance, self.saga.steps[index + 1], "action", 1)
            else:
                self._end(tx, instance, SUCCEEDED)
        else:
            instance.data.setdefault("compensations", {})[step.name] = {"output": output}
            instance.pending.pop(0)
            self._next_compensation(tx, instance)

    def _failed(self, tx: Transaction, instance: Instance, error: str, cause: str, kind: str) -> None:
        """An attempt failed (kind "failure") or timed out (kind "timeout"): retry it, or give the step up."""
        step = self.steps[instance.step or ""]
        invocation = self._invocation(instance)
        now = self.clock()
        store.delete_timers(tx, instance.saga_id, STEP_TIMERS)
        store.add_history(tx, instance.saga_id, now, "timed_out" if kind == "timeout" else "failed", step.name,
                          instance.phase, instance.attempt, error=error, cause=cause)
        self._record(instance, "timed_out" if kind == "timeout" else "failed", step.name, instance.phase,
                     instance.attempt)
        instance.last_error = {"Error": error, "Cause": cause, "kind": kind}
        retries_done = instance.attempt - 1
        if error_matches(invocation.retry.errors, error) and retries_done < invocation.retry.max_attempts:
            timer_id = str(uuid.uuid4())
            instance.awaiting = f"retry:{timer_id}"
            delay = retry_delay(invocation, retries_done)
            store.add_timer(tx, store.Timer(timer_id, instance.saga_id, "retry", now + delay * self.time_scale,
                                            instance.awaiting))
            store.add_history(tx, instance.saga_id, now, "retry_scheduled", step.name, instance.phase,
                              instance.attempt + 1, delay_seconds=delay)
            return
        if instance.phase == "action":
            self._begin_compensation(tx, instance, error, cause, kind)
        else:
            instance.data["compensation_failure"] = {"Error": error, "Cause": cause}
            instance.awaiting = None
            self._end(tx, instance, COMPENSATION_FAILED)

    def _saga_timed_out(self, tx: Transaction, instance: Instance) -> None:
        store.add_history(tx, instance.saga_id, self.clock(), "saga_timed_out", instance.step, instance.phase,
                          instance.attempt)
        self._begin_compensation(tx, instance, SAGA_TIMED_OUT,
                                 f"the saga did not finish within {self.saga.timeout_seconds} s",
                                 self._in_flight_kind(instance))

    def _in_flight_kind(self, instance: Instance) -> str:
        """How the step in flight ends when the saga stops under it: as a timeout while its command is unanswered
        (its effect may have happened); as its last error while a retry waits."""
        if instance.awaiting and instance.awaiting.startswith("retry:") and instance.last_error:
            return str(instance.last_error["kind"])
        return "timeout"

    def _begin_compensation(self, tx: Transaction, instance: Instance, error: str, cause: str, kind: str) -> None:
        store.delete_timers(tx, instance.saga_id, STEP_TIMERS)
        current = self.steps[instance.step] if instance.step else None
        own = [current.name] if current is not None and current.compensates_own(kind) else []
        earlier = [name for name in reversed(instance.completed) if self.steps[name].compensation is not None]
        instance.pending = own + earlier
        instance.data["failure"] = {"Error": error, "Cause": cause}
        instance.state = COMPENSATING
        store.add_history(tx, instance.saga_id, self.clock(), "compensating", instance.step, "action",
                          instance.attempt, error=error, compensations=instance.pending)
        self._next_compensation(tx, instance)

    def _next_compensation(self, tx: Transaction, instance: Instance) -> None:
        if instance.pending:
            self._dispatch(tx, instance, self.steps[instance.pending[0]], "compensation", 1)
        else:
            instance.awaiting = None
            self._end(tx, instance, FAILED)

    def _end(self, tx: Transaction, instance: Instance, state: str) -> None:
        instance.state, instance.awaiting = state, None
        store.delete_timers(tx, instance.saga_id, (*STEP_TIMERS, "saga_timeout"))
        store.add_history(tx, instance.saga_id, self.clock(), "ended", instance.step, instance.phase,
                          instance.attempt, state=state)
        self._record(instance, state, instance.step, instance.phase, instance.attempt)

    def _dispatch(self, tx: Transaction, instance: Instance, step: Step, phase: str, attempt: int) -> None:
        """Send the command for (step, phase, attempt) through the outbox and arm its timers."""
        command_id = str(uuid.uuid4())
        instance.step, instance.phase, instance.attempt, instance.awaiting = step.name, phase, attempt, command_id
        invocation = step.action if phase == "action" else step.compensation
        assert invocation is not None and step.channel is not None
        payload = command_payload(self.saga, instance.saga_id, step.name, phase, attempt, command_id, instance.data)
        append(tx, [OutboxEvent(aggregate_type="saga", aggregate_id=instance.saga_id, event_type=COMMAND_TYPE,
                                payload=payload, topic=step.channel, source=self.source, event_id=command_id)],
               table=self.outbox_table)
        if invocation.timeout_seconds is not None:
            self._timer(tx, instance, "step_timeout", invocation.timeout_seconds, command_id)
        if invocation.heartbeat_seconds is not None:
            self._timer(tx, instance, "heartbeat", invocation.heartbeat_seconds, command_id)
        store.add_history(tx, instance.saga_id, self.clock(), "dispatched", step.name, phase, attempt,
                          command_id=command_id, channel=step.channel)
        self._record(instance, "dispatched", step.name, phase, attempt)

    def _timer(self, tx: Transaction, instance: Instance, kind: str, seconds: float, awaiting: str | None) -> None:
        store.add_timer(tx, store.Timer(str(uuid.uuid4()), instance.saga_id, kind,
                                        self.clock() + seconds * self.time_scale, awaiting))

    def _invocation(self, instance: Instance) -> Invocation:
        step = self.steps[instance.step or ""]
        invocation = step.action if instance.phase == "action" else step.compensation
        assert invocation is not None
        return invocation

    # --- notifications after commit --------------------------------------------------------------------------------

    def _record(self, instance: Instance, event: str, step: str | None, phase: str | None, attempt: int | None) -> None:
        self._outcomes.append(Outcome(instance.saga_id, event, step, phase, attempt))

    def _flush(self) -> None:
        outcomes, self._outcomes = self._outcomes, []
        if self.on_transition is not None:
            for outcome in outcomes:
                self.on_transition(outcome)

    def _notifying(self, handler: Handler) -> Handler:
        def handle(delivery: Delivery) -> None:
            try:
                handler(delivery)
            except BaseException:
                self._outcomes.clear()  # rolled back: nothing of it happened
                raise
            self._flush()

        return handle

    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        """A transaction on the orchestrator's connection, for `start` outside a business transaction; transitions
        recorded in it are reported to `on_transition` after it commits."""
        try:
            with begin(self.db) as tx:
                yield tx
        except BaseException:
            self._outcomes.clear()
            raise
        self._flush()


def saga_status(db: Transaction, saga_id: str) -> dict[str, Any] | None:
    """One saga's row and history as JSON-ready data (what `edakit saga show` prints)."""
    instance = store.get_instance(db, saga_id)
    if instance is None:
        return None
    row = instance.to_row()
    for key in ("data", "completed", "pending", "last_error"):
        row[key] = json.loads(row[key]) if row[key] else None
    row["history"] = [t.__dict__ for t in store.history(db, saga_id)]
    return row
