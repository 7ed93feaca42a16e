"""`edakit outbox init|lag|relay`: create the outbox table, watch its lag, run the relay process."""

from __future__ import annotations

import json
import logging
import signal
import sqlite3
import sys
import threading
from collections.abc import Callable
from functools import wraps
from typing import Any, NoReturn

import click
import psycopg

from edakit.cli._problems import RedactingFormatter, exit_error, printable
from edakit.cli.dlq import connect_with_spec, contract_publisher, spec_options
from edakit.redact import redact, secrets_in
from edakit.runtime.adapters.base import BrokerError, PublishError
from edakit.runtime.adapters.urls import SCHEMES, BrokerUrlError, DatabaseUnreachable, check_database
from edakit.runtime.outbox import DB_SCHEMES, OutboxStore, OutboxUrlError, Relay, RetryPolicy, open_outbox
from edakit.runtime.settings import PublisherSettings


def _store_options(create: bool = False) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """--db, --table: passes `store` (closed after the command) once the database answered (else exit 2)."""

    def decorate(command: Callable[..., Any]) -> Callable[..., Any]:
        @click.option("--db", "db_url", required=True, envvar="EDAKIT_OUTBOX_DB", help=DB_SCHEMES)
        @click.option("--table", default="outbox", show_default=True, help="outbox table name")
        @wraps(command)
        def wrapper(db_url: str, table: str, **kwargs: Any) -> Any:
            try:
                check_database(db_url, must_exist=not create)
                store = open_outbox(db_url, table, create=create)
            except DatabaseUnreachable as exc:
                exit_error(f"outbox {exc}", secrets_in(db_url))
            except (OutboxUrlError, ValueError) as exc:  # ValueError: a table name that is no SQL identifier
                exit_error(exc, secrets_in(db_url))
            except (psycopg.Error, sqlite3.Error) as exc:
                _database_error(db_url, exc)
            try:
                return command(store=store, **kwargs)
            except (psycopg.Error, sqlite3.Error) as exc:  # connections open on first use
                _database_error(db_url, exc)
            finally:
                store.close()

        return wrapper

    return decorate


def _database_error(db_url: str, exc: Exception) -> NoReturn:
    """One line naming the database (its credentials masked, also where the driver quotes them out of the URL)."""
    exit_error(f"outbox database {db_url}: {exc}", secrets_in(db_url))


@click.group()
def outbox() -> None:
    """Transactional outbox: create its table, report its lag, relay it to a broker.

    Exit codes: 0 ok, 1 the relay could not publish (rows stay in the outbox), 2 bad input or a database or broker
    that does not answer (one line on stderr; passwords in --db/--broker are masked).
    """


@outbox.command()
@_store_options(create=True)
def init(store: OutboxStore) -> None:
    """Create the outbox table, its indexes, its dead-letter tables and (PostgreSQL) its NOTIFY trigger, or upgrade
    a table made by an earlier version in place; safe to run again."""
    click.echo("outbox table ready", err=True)


@outbox.command()
@_store_options()
@click.option("--format", "output", type=click.Choice(["table", "json"]), default="table", show_default=True)
def lag(store: OutboxStore, output: str) -> None:
    """Rows waiting to be relayed and the age of the oldest: what a lag alert watches."""
    current = store.lag()
    if output == "json":
        click.echo(json.dumps({"rows": current.rows, "oldest_age_seconds": current.oldest_age_seconds,
                               "failing_rows": current.failing_rows, "dead_letters": current.dead_letters,
                               "dead_letters_blocking": current.dead_letters_blocking}))
    else:
        line = f"rows {current.rows}  oldest {current.oldest_age_seconds:.1f}s"
        if current.failing_rows or current.dead_letters:  # see `edakit outbox dlq ls`
            line += (f"  failing {current.failing_rows}  dead letters {current.dead_letters} "
                     f"({current.dead_letters_blocking} blocking their aggregate)")
        click.echo(line)


@outbox.command()
@_store_options()
@click.option("--broker", "broker_url", required=True, envvar="EDAKIT_BROKER", help=SCHEMES)
@click.option("--batch-size", default=100, show_default=True, type=click.IntRange(min=1),
              help="rows claimed, published and deleted per transaction (the duplicates a crash can cause)")
@click.option("--poll-interval", default=1.0, show_default=True, type=click.FloatRange(min=0.01),
              help="seconds between polls when no NOTIFY arrives (SQLite only polls)")
@click.option("--until-empty", is_flag=True, help="drain the outbox once and exit instead of running until stopped")
@click.option("--max-attempts", default=10, show_default=True, type=click.IntRange(min=1),
              help="failed publishes (while the broker accepts others) before a row moves to the dead-letter table")
@spec_options
def relay(store: OutboxStore, broker_url: str, batch_size: int, poll_interval: float, until_empty: bool,
          max_attempts: int, settings: PublisherSettings | None) -> None:
    """Publish committed outbox rows to --broker, deleting each batch only after the broker acknowledged it.

    Runs until SIGTERM or Ctrl-C: it finishes the batch in hand and exits within --poll-interval seconds. Run
    several for throughput; they share the table.

    Give --spec (and --env) on SNS/SQS and Pub/Sub: the publisher then sets each channel's declared native
    attributes (e.g. event_type) that subscription filters read, and it connects with the spec's broker `security`
    block (TLS, SASL, AWS role, service account: a --broker URL carries none). Without it the relay still runs (it
    cannot know the spec) but warns: such filters then miss what it sends.
    """
    try:
        params = click.get_current_context().params
        broker = connect_with_spec(broker_url, params.get("spec_path"), params.get("env"))
        publisher = contract_publisher(broker, settings, broker_url)
    except (BrokerUrlError, BrokerError) as exc:  # BrokerError: BrokerUnreachable, or a client that cannot start
        exit_error(exc, secrets_in(broker_url))
    runner = Relay(store, publisher, batch_size=batch_size, poll_interval=poll_interval,
                   retry=RetryPolicy(max_attempts=max_attempts))
    try:
        if until_empty:
            try:
                click.echo(f"relayed {runner.drain()} event(s)", err=True)
            except (PublishError, BrokerError) as exc:
                click.echo(f"error: {printable(exc, secrets_in(broker_url))} (the batch stays in the outbox)", err=True)
                sys.exit(1)
            return
        handler = logging.StreamHandler()
        handler.setFormatter(RedactingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s",
                                                [*secrets_in(broker_url), *secrets_in(click.get_current_context().params["db_url"])]))
        logging.basicConfig(level=logging.INFO, handlers=[handler])
        stop = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
        click.echo(f"relaying to {redact(broker_url)} (batch {batch_size}); SIGTERM or Ctrl-C stops", err=True)
        runner.run(stop)
        click.echo("relay stopped", err=True)
    finally:
        publisher.close()


from edakit.cli.outbox_dlq import dlq  # noqa: E402 - after _store_options, which outbox_dlq imports

outbox.add_command(dlq)
