"""Participant helper: receive a saga command, run the handler once per (saga id, step, phase), answer.

One handler serves both engines. Under the Python orchestrator the command arrives on the step's channel and the
answer goes back through the participant's transactional outbox; under Step Functions the envelope of a
`.waitForTaskToken` task arrives (SQS/SNS) and the answer is SendTaskSuccess / SendTaskFailure, with
SendTaskHeartbeat while the handler runs.

The handler's writes, the idempotency record and (Python engine) the success reply commit in one transaction.
A handler that raises StepFailed rolls all of it back and the failure is answered, so a retry runs it again; any
other exception is a crash of the participant: nothing is answered and the delivery is retried by the broker (then
dead-lettered), and the orchestrator's step timeout decides. A duplicate command for a step already done runs
nothing and answers again with the stored output (the orchestrator may have resent it after a timeout).
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from edakit.runtime.adapters.base import Broker, Delivery
from edakit.runtime.idempotency import SqlIdempotencyStore, begin, transactional
from edakit.runtime.middleware import Handler, RetryPolicy, Router, compose, retry
from edakit.runtime.outbox import OutboxEvent, append
from edakit.runtime.outbox.tx import Transaction, execute

from edakit.runtime.adapters.base import Publisher
from edakit.runtime.message import Message

from .protocol import (FAILED_REPLY, HEARTBEAT, REPLY_TYPE, SUCCEEDED_REPLY, Command, CommandError, parse_command,
                       reply_id, reply_payload)
from .store import query

log = logging.getLogger(__name__)
StepHandler = Callable[[Command, Transaction], Any]  # returns the step's JSON-ready output
# What Step Functions answers for a token whose task already ended.
CLOSED_TOKEN_ERRORS = ("TaskTimedOut", "InvalidToken", "TaskDoesNotExist")
RESULTS_DDL = """CREATE TABLE IF NOT EXISTS saga_step_results (
  participant TEXT NOT NULL,
  step_key TEXT NOT NULL,
  output TEXT NOT NULL,
  PRIMARY KEY (participant, step_key)
)"""


class StepFailed(Exception):
    """Raised by a handler to answer failure with an error name the saga's retry settings understand (its
    `retry.errors`, ASL's ErrorEquals): a business failure ("PaymentDeclined") is not retried unless listed."""

    def __init__(self, error: str, cause: str = "") -> None:
        super().__init__(f"{error}: {cause}" if cause else error)
        self.error, self.cause = error, cause


class _Answered(Exception):
    """Carries a StepFailed out of the transaction, so the transaction rolls back before the failure is answered."""

    def __init__(self, failure: StepFailed) -> None:
        super().__init__(str(failure))
        self.failure = failure


def step_key(saga_id: str, step: str, phase: str) -> str:
    return f"{saga_id}/{step}/{phase}"


@dataclass(frozen=True)
class Answer:
    status: str  # succeeded | failed
    output: Any = None
    error: str | None = None
    cause: str | None = None
    duplicate: bool = False


class Participant:
    """Runs `handler(command, tx)` for the commands of one participant, effectively once per (saga, step, phase).

    `db` (sqlite3 or psycopg connection) holds the participant's business tables, its idempotency records
    (consumer `name`), the stored outputs and, for the Python engine, its outbox table.
    """

    def __init__(self, name: str, db: Transaction, handler: StepHandler, *, outbox_table: str = "outbox",
                 window_hours: float = 24 * 7, source: str | None = None) -> None:
        self.name, self.db, self.handler, self.outbox_table = name, db, handler, outbox_table
        self.source = source or f"/participants/{name}"
        self.store = SqlIdempotencyStore(consumer=name, window_hours=window_hours, table="saga_processed_commands")

    def create_schema(self) -> None:
        with begin(self.db) as tx:
            self.store.create_schema(tx)
            execute(tx, RESULTS_DDL, {})

    # --- Python engine -------------------------------------------------------------------------------------------

    def command_handler(self, policy: RetryPolicy | None = None) -> Handler:
        """The chain for a Router on the step's channel: a command that cannot be read is dead-lettered at once; a
        crash of the handler is retried by `policy`, then dead-lettered."""
        policy = policy or RetryPolicy(max_attempts=5, base_delay=0.05, max_delay=1.0, non_retryable=(CommandError,))

        def handle(delivery: Delivery) -> None:
            command = parse_command(delivery.message.payload)
            self.execute(command, reply=self._reply_in, delivery=delivery)

        return compose(handle, retry(policy))

    def router(self, broker: Broker, channel: str, *, group: str | None = None,
               receive_timeout: float = 0.2) -> Router:
        return Router(broker.subscriber(channel, group or self.name), self.command_handler(),
                      receive_timeout=receive_timeout)

    def _reply_in(self, tx: Transaction, command: Command, answer: Answer) -> None:
        status = answer.status
        event = OutboxEvent(aggregate_type="saga", aggregate_id=command.saga_id, event_type=REPLY_TYPE,
                            payload=reply_payload(command, status, output=answer.output, error=answer.error,
                                                  cause=answer.cause),
                            topic=command.reply_to, source=self.source, event_id=reply_id(command, status))
        append(tx, [event], table=self.outbox_table)

    def heartbeat(self, command: Command, publisher: Publisher) -> None:
        """Tell the orchestrator the step is still running (for a step with heartbeat_seconds: call it more often
        than that while a long handler runs). Published directly, not through the outbox: a heartbeat changes no
        state, and one lost only shortens the wait; it must not wait for the handler's open transaction."""
        publisher.publish(command.reply_to, [Message.new(REPLY_TYPE, reply_payload(command, HEARTBEAT),
                                                         source=self.source, key=command.saga_id)])

    # --- both engines ----------------------------------------------------------------------------------------------

    def execute(self, command: Command, *, reply: Callable[[Transaction, Command, Answer], None] | None = None,
                delivery: Delivery | None = None) -> Answer:
        """Run the command once: `reply(tx, command, answer)` is called in the transaction that records it (the
        success) or in a transaction of its own (a failure, a duplicate). Returns the answer. `delivery` is the
        broker's delivery of the command, for the idempotency middleware's log and metrics (a Step Functions
        envelope gets a stand-in)."""
        key = step_key(command.saga_id, command.step, command.phase)
        answers: list[Answer] = []

        def run(_: Delivery | None, tx: Transaction) -> None:
            try:
                output = self.handler(command, tx)
            except StepFailed as failure:
                raise _Answered(failure) from None
            execute(tx, "INSERT INTO saga_step_results (participant, step_key, output) VALUES (:p, :k, :o)",
                    {"p": self.name, "k": key, "o": json.dumps(output)})
            answers.append(Answer(SUCCEEDED_REPLY, output))
            if reply is not None:
                reply(tx, command, answers[-1])

        def duplicate(_: Delivery | None) -> None:
            with begin(self.db) as tx:
                rows = query(tx, "SELECT output FROM saga_step_results WHERE participant = :p AND step_key = :k",
                             {"p": self.name, "k": key})
                answers.append(Answer(SUCCEEDED_REPLY, json.loads(rows[0]["output"]) if rows else None,
                                      duplicate=True))
                if reply is not None:
                    reply(tx, command, answers[-1])

        once = transactional(self.db, self.store, run, key=lambda _: key, on_duplicate=duplicate,
                             cleanup_every_seconds=None)
        try:
            once(delivery if delivery is not None else _TaskDelivery(command, self.name))
        except _Answered as answered:
            answer = Answer(FAILED_REPLY, error=answered.failure.error, cause=answered.failure.cause)
            if reply is not None:
                with begin(self.db) as tx:
                    reply(tx, command, answer)
            return answer
        return answers[-1]

    # --- Step Functions --------------------------------------------------------------------------------------------

    def answer_task_token(self, sfn: Any, envelope: dict[str, Any], *, heartbeat_seconds: float | None = None) -> Answer:
        """Serve a `.waitForTaskToken` task of the generated state machine: `envelope` is its message body (saga,
        step, phase, execution, input, task_token). The execution ARN is the saga id, so dedup keys match the
        Python engine's. Sends SendTaskHeartbeat every `heartbeat_seconds` while the handler runs, then
        SendTaskSuccess with the output or SendTaskFailure with the StepFailed error. `sfn` is a boto3 client."""
        try:
            command = Command(saga=str(envelope["saga"]), saga_id=str(envelope["execution"]),
                              step=str(envelope["step"]), phase=str(envelope["phase"]), attempt=1,
                              command_id=str(envelope["task_token"]), input=envelope.get("input") or {},
                              reply_to="")
        except (KeyError, TypeError) as exc:
            raise CommandError(f"Step Functions task envelope: missing {exc}") from None
        token = command.command_id
        stop = threading.Event()
        beat = None
        if heartbeat_seconds:
            def beating() -> None:
                while not stop.wait(heartbeat_seconds):
                    sfn.send_task_heartbeat(taskToken=token)

            beat = threading.Thread(target=beating, name="sfn-heartbeat", daemon=True)
            beat.start()
        try:
            answer = self.execute(command)
        finally:
            stop.set()
            if beat is not None:
                beat.join()
        try:
            if answer.status == SUCCEEDED_REPLY:
                sfn.send_task_success(taskToken=token, output=json.dumps(answer.output))
            else:
                sfn.send_task_failure(taskToken=token, error=answer.error or "StepFailed", cause=answer.cause or "")
        except Exception as exc:  # botocore ClientError; the kit does not import botocore for it
            code = getattr(exc, "response", {}).get("Error", {}).get("Code")
            if not answer.duplicate or code not in CLOSED_TOKEN_ERRORS:
                raise
            # a redelivered envelope whose task already ended (answered, timed out): nothing is waiting for it
            log.info("task token of %s/%s/%s is closed (%s); duplicate not answered", command.saga_id,
                     command.step, command.phase, code)
        return answer


class _TaskDelivery:
    """A Step Functions envelope as a Delivery, for the idempotency middleware: the caller settles the SQS message
    (or SNS delivery) itself, so ack, nack and dead_letter do nothing here."""

    attempt = 1

    def __init__(self, command: Command, group: str) -> None:
        self.message = Message.new("edakit.saga.task", b"{}", source=f"/stepfunctions/{command.saga}")
        self.source = f"stepfunctions:{command.saga}"
        self.metadata = {"group": group}

    def ack(self) -> None:
        pass

    def nack(self, delay_seconds: float = 0) -> None:
        pass

    def dead_letter(self, reason: object) -> None:
        pass


def connect_sqlite(path: str) -> sqlite3.Connection:
    """A SQLite connection fit for the saga tables: autocommit off, WAL, a busy timeout for the relay's writes."""
    conn = sqlite3.connect(path, timeout=10, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    return conn
