"""`edakit saga ls|show|retry|abort`: the Python orchestrator's saga instances, from the command line.

`ls` lists instances by state, `show` one saga's row and transition history, `retry` resumes a CompensationFailed
saga's compensations after a fix, `abort` stops a Running saga and compensates what it did. Step Functions
executions are not in the kit's database: `retry` and `abort` name what to do there instead.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from functools import wraps
from pathlib import Path
from typing import Any

import click
import psycopg

from edakit.cli._problems import exit_bad_input, exit_error
from edakit.redact import secrets_in
from edakit.runtime.adapters.urls import DatabaseUnreachable, check_database
from edakit.saga import SagaError, load_saga
from edakit.saga.engine import Orchestrator, saga_status
from edakit.saga.store import STATES, list_instances
from edakit.saga.worker import connect_sqlite

DB_HELP = "the orchestrator's database: postgresql://... or sqlite:PATH"
FORMAT = click.option("--format", "output", type=click.Choice(["table", "json"]), default="table", show_default=True)
SFN_RETRY = ("is a Step Functions execution: its CompensationFailed end is a Fail state, and RedriveExecution "
             "continues from the unsuccessful state, so a redrive fails again there; after the fix, run the failed "
             "compensations by hand (the execution's history names them) — `edakit saga retry` resumes only sagas "
             "of the Python orchestrator")
SFN_ABORT = ("is a Step Functions execution: StopExecution ends it without compensating; the kit cannot abort it "
             "with compensation — let its step or saga timeout compensate, or stop it and compensate by hand")


@contextmanager
def _database(db_url: str) -> Iterator[Any]:
    try:
        check_database(db_url)
    except DatabaseUnreachable as exc:
        exit_error(f"saga {exc}", secrets_in(db_url))
    try:
        if db_url.startswith(("postgresql://", "postgres://")):
            conn: Any = psycopg.connect(db_url, connect_timeout=5)
        elif db_url.startswith("sqlite:"):
            conn = connect_sqlite(db_url.removeprefix("sqlite:"))
        else:
            exit_error(f"saga database {db_url!r}: expected {DB_HELP.split(': ', 1)[1]}", secrets_in(db_url))
        try:
            yield conn
        finally:
            conn.close()
    except (psycopg.Error, sqlite3.Error) as exc:
        if "saga_instances" in str(exc):
            exit_error(f"saga database {db_url}: no saga tables (is this the orchestrator's database?)",
                       secrets_in(db_url))
        exit_error(f"saga database {db_url}: {exc}", secrets_in(db_url))


def _db_option(command: Callable[..., Any]) -> Callable[..., Any]:
    @click.option("--db", "db_url", required=True, envvar="EDAKIT_SAGA_DB", help=DB_HELP)
    @wraps(command)
    def wrapper(db_url: str, **kwargs: Any) -> Any:
        with _database(db_url) as conn:
            return command(conn=conn, **kwargs)

    return wrapper


def _time(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, timezone.utc).isoformat(timespec="seconds")


def _status_or_exit(conn: Any, saga_id: str) -> dict[str, Any]:
    if saga_id.startswith("arn:"):
        exit_error(f"saga {saga_id} is a Step Functions execution ARN: `aws stepfunctions get-execution-history "
                   "--execution-arn ...` shows it; this command reads the Python orchestrator's database")
    status = saga_status(conn, saga_id)
    if status is None:
        exit_error(f"saga {saga_id!r}: no such saga instance in this database (`edakit saga ls` lists them)")
    return status


@click.group()
def saga() -> None:
    """Saga instances of the Python orchestrator (edakit.saga.engine).

    Exit codes: 0 ok, 2 bad input (an unknown id, a saga in the wrong state) or a database that does not answer.
    """


@saga.command("ls")
@_db_option
@click.option("--state", type=click.Choice(STATES), help="only sagas in this state")
@click.option("--saga", "name", help="only instances of this saga definition (its `saga:` name)")
@click.option("--limit", default=100, show_default=True, type=click.IntRange(1, 10_000))
@FORMAT
def list_sagas(conn: Any, state: str | None, name: str | None, limit: int, output: str) -> None:
    """Saga instances, oldest first."""
    rows = list_instances(conn, state, name, limit)
    if output == "json":
        click.echo(json.dumps([{"saga_id": i.saga_id, "saga": i.saga, "state": i.state, "step": i.step,
                                "phase": i.phase, "attempt": i.attempt, "created_at": _time(i.created_at),
                                "updated_at": _time(i.updated_at)} for i in rows]))
        return
    click.echo(f"{'saga id':38}  {'saga':20}  {'state':18}  {'step':20}  {'phase':12}  attempt  updated")
    for i in rows:
        click.echo(f"{i.saga_id[:38]:38}  {i.saga[:20]:20}  {i.state:18}  {(i.step or '')[:20]:20}  {i.phase:12}  "
                   f"{i.attempt:>7}  {_time(i.updated_at)}")
    click.echo(f"{len(rows)} saga(s)", err=True)


@saga.command()
@_db_option
@click.argument("saga_id")
@FORMAT
def show(conn: Any, saga_id: str, output: str) -> None:
    """One saga: its state, data and the history of its transitions."""
    status = _status_or_exit(conn, saga_id)
    if output == "json":
        click.echo(json.dumps(status, default=str))
        return
    click.echo(f"{status['saga']} {status['saga_id']}: {status['state']} at {status['step']} "
               f"({status['phase']}, attempt {status['attempt']})")
    if status["pending"]:
        click.echo(f"compensations to run: {', '.join(status['pending'])}")
    for t in status["history"]:
        where = f"{t['step']} {t['phase']} #{t['attempt']}" if t["step"] else ""
        detail = " ".join(f"{k}={v}" for k, v in (t["detail"] or {}).items() if k not in ("command_id",))
        click.echo(f"{t['seq']:>4}  {_time(t['at'])}  {t['event']:26}  {where:36}  {detail}")


def _definition_option(command: Callable[..., Any]) -> Callable[..., Any]:
    @click.option("--definition", "definition", required=True, type=click.Path(path_type=Path),
                  help="the saga YAML the orchestrator runs (configs/sagas/NAME.yaml)")
    @wraps(command)
    def wrapper(definition: Path, **kwargs: Any) -> Any:
        try:
            loaded = load_saga(definition)
        except SagaError as exc:
            exit_bad_input(exc.problems)
        return command(definition=loaded, **kwargs)

    return wrapper


def _operate(conn: Any, definition: Any, saga_id: str, output: str, sfn_message: str,
             action: Callable[[Orchestrator, str], None]) -> None:
    if saga_id.startswith("arn:") and ":execution:" in saga_id:
        exit_error(f"saga {saga_id} {sfn_message}")
    _status_or_exit(conn, saga_id)
    try:
        orchestrator = Orchestrator(definition, conn)
        action(orchestrator, saga_id)
    except SagaError as exc:
        exit_bad_input(exc.problems)
    except (LookupError, ValueError) as exc:
        exit_error(str(exc).strip("'\""))
    status = saga_status(conn, saga_id)
    assert status is not None
    if output == "json":
        click.echo(json.dumps({"saga_id": saga_id, "state": status["state"], "step": status["step"],
                               "phase": status["phase"], "pending": status["pending"]}))
    else:
        click.echo(f"saga {saga_id}: {status['state']}, now {status['phase']} of {status['step']}; the running "
                   "orchestrator picks up its replies")


@saga.command("retry")
@_db_option
@_definition_option
@click.argument("saga_id")
@FORMAT
def retry_saga(conn: Any, definition: Any, saga_id: str, output: str) -> None:
    """Run a CompensationFailed saga's failed compensation again (attempt 1), then the remaining ones: after the
    participant was fixed. The command goes out through the outbox with the transition."""
    _operate(conn, definition, saga_id, output, SFN_RETRY, Orchestrator.retry_compensation)


@saga.command()
@_db_option
@_definition_option
@click.argument("saga_id")
@FORMAT
def abort(conn: Any, definition: Any, saga_id: str, output: str) -> None:
    """Stop a Running saga and compensate its completed steps, newest first (and the step in flight, when its
    compensate_on includes timeout: its effect may have happened)."""
    _operate(conn, definition, saga_id, output, SFN_ABORT, Orchestrator.abort)
