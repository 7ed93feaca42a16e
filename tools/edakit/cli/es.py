"""`edakit es streams|events|positions|rebuild`: look into an event store, its relays and read models."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from functools import wraps
from typing import Any

import click
import psycopg
from eventsourcing.persistence import PersistenceError

from edakit.cli._problems import exit_error
from edakit.es.inspect import InspectError, list_streams, load_class, positions, stream_events
from edakit.es.mapping import EventSchemaError
from edakit.es.projection import ReadModel, open_view, rebuild
from edakit.es.store import STORE_URLS, SchemaApplication, StoreUrlError, store_env
from edakit.redact import secrets_in
from edakit.runtime.adapters.urls import DatabaseUnreachable, check_database
from edakit.schemas.errors import SchemaError

DEFAULT_APP = "edakit.es.orders:Orders"
DEFAULT_MODEL = "edakit.es.orders:OrderSummaries"
FORMAT = click.option("--format", "output", type=click.Choice(["table", "json"]), default="table", show_default=True)


def _open_database(url: str, what: str, *, must_exist: bool = True) -> dict[str, str]:
    """The store environment of `url` once the database answered (a missing SQLite file is an error unless
    `must_exist=False`: opening it would create an empty database)."""
    try:
        env = store_env(url)
        check_database(url, must_exist=must_exist)
    except (StoreUrlError, DatabaseUnreachable) as exc:
        exit_error(f"{what}: {exc}", secrets_in(url))
    return env


def _with_app(command: Callable[..., Any]) -> Callable[..., Any]:
    """--store, --app: passes `app` (the application over the store) and `known` (secrets to mask)."""

    @click.option("--store", "store_url", required=True, envvar="EDAKIT_ES_STORE", help=STORE_URLS)
    @click.option("--app", "app_path", default=DEFAULT_APP, show_default=True,
                  help="the SchemaApplication (module:Class) whose events the store holds")
    @wraps(command)
    def wrapper(store_url: str, app_path: str, **kwargs: Any) -> Any:
        known = secrets_in(store_url)
        try:
            app_class = load_class(app_path, SchemaApplication, "--app")
            app = app_class(env={**_open_database(store_url, "--store"), "CREATE_TABLE": "no"})
            return command(app=app, known=known, **kwargs)
        except (InspectError, EventSchemaError, SchemaError) as exc:
            exit_error(exc, known)
        except (PersistenceError, psycopg.Error, sqlite3.Error) as exc:
            exit_error(f"--store: {exc}".splitlines()[0], known)

    return wrapper


def _view(query_url: str, model_path: str, known: list[str], *, must_exist: bool = True) -> Any:
    model = load_class(model_path, ReadModel, "--model")
    known.extend(secrets_in(query_url))
    _open_database(query_url, "--query", must_exist=must_exist)
    return open_view(model, query_url)


@click.group()
def es() -> None:
    """Event store (pyeventsourcing, schema-mapped events): streams, events, relay and projection positions,
    projection rebuilds.

    Exit codes: 0 ok, 2 bad input or a database that does not answer (one line on stderr; passwords masked).
    """


@es.command()
@_with_app
@click.option("--limit", default=100, show_default=True, type=click.IntRange(min=1, max=100_000))
@FORMAT
def streams(app: SchemaApplication, known: list[str], limit: int, output: str) -> None:
    """Streams (aggregates) in the order they began, with their event count and version."""
    rows = list_streams(app, limit)
    if output == "json":
        click.echo(json.dumps(rows))
        return
    for row in rows:
        click.echo(f"{row['stream']}  events {row['events']}  version {row['version']}  "
                   f"notifications {row['first']}..{row['last']}")


@es.command()
@_with_app
@click.argument("stream")
@FORMAT
def events(app: SchemaApplication, known: list[str], stream: str, output: str) -> None:
    """One stream's events as stored: version, subject, schema version, payload."""
    found = stream_events(app, stream)
    if output == "json":
        click.echo(json.dumps(found))
        return
    for event in found:
        if "error" in event:
            click.echo(f"v{event['version']}  {event['topic']}  INVALID: {event['error']}")
        else:
            name = f"{event['event']} v{event['schema_version']}" if "event" in event else event["topic"]
            click.echo(f"v{event['version']}  {name}  {json.dumps(event['payload'])}")


@es.command(name="positions")
@_with_app
@click.option("--query", "query_url", help=f"a read model's query database ({STORE_URLS}): report its projection")
@click.option("--model", "model_path", default=DEFAULT_MODEL, show_default=True, help="the ReadModel (module:Class)")
@FORMAT
def positions_command(app: SchemaApplication, known: list[str], query_url: str | None, model_path: str,
                      output: str) -> None:
    """Relay and projection positions: each one's notification id and its lag (events, seconds) behind the head."""
    view = _view(query_url, model_path, known) if query_url else None
    found = positions(app, view)
    if output == "json":
        click.echo(json.dumps([p.as_dict() for p in found]))
        return
    if not found:
        click.echo("no relay or projection has recorded a position")
    for p in found:
        click.echo(f"{p.name}  position {p.position}/{p.head}  behind {p.events_behind} events, "
                   f"{p.seconds_behind:.1f}s")


@es.command(name="rebuild")
@_with_app
@click.option("--query", "query_url", required=True, help=f"the read model's query database ({STORE_URLS})")
@click.option("--model", "model_path", default=DEFAULT_MODEL, show_default=True, help="the ReadModel (module:Class)")
@FORMAT
def rebuild_command(app: SchemaApplication, known: list[str], query_url: str, model_path: str, output: str) -> None:
    """Replay the whole log into fresh tables and swap them in with their position (stop the projector first)."""
    view = _view(query_url, model_path, known, must_exist=False)  # a first build creates the query database
    projected = rebuild(app, view)
    position = view.max_tracking_id(app.name) or 0
    if output == "json":
        click.echo(json.dumps({"model": view.model_class.name, "events": projected, "position": position}))
    else:
        click.echo(f"rebuilt {view.model_class.name} from {projected} event(s); position {position}")
