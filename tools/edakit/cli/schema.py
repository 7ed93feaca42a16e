"""`edakit schema`: validate payloads, check compatibility, push to / diff against a registry, check the repo."""

from __future__ import annotations

import http.client
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlsplit

import click

from edakit.cli._problems import exit_error
from edakit.redact import redact, secrets_in

from edakit.schemas import LEVELS, SchemaError, check_compatibility
from edakit.schemas.validate import read_schema_json, schema_type_of, validate_ndjson, validate_payload

EXISTING = click.Path(exists=True, dir_okay=False, path_type=Path)


def _fail_input(exc: Exception) -> None:
    click.echo(f"error: {exc}", err=True)
    sys.exit(2)


T = TypeVar("T")


def _against_registry(call: Callable[[Path, str], T], schemas_root: Path, url: str) -> T:
    """`call(schemas_root, url)`; a registry that cannot be reached, or answers what no Confluent registry would, is
    one line naming the (redacted) URL and exit 2."""
    from edakit.schemas.client import RegistryHTTPError

    parts = urlsplit(url)
    shown = redact(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        exit_error(f"--url {shown}: expected http(s)://HOST[:PORT][/PATH] (a schema registry)")
    if parts.username is not None or parts.password is not None:
        exit_error(f"--url {shown}: credentials in the URL are not supported (the request would not send them)")
    known = secrets_in(url)
    try:
        return call(schemas_root, url)
    except RegistryHTTPError as exc:  # outside a registration (level, listing): the whole run is off
        exit_error(f"schema registry {shown}: {exc}", known)
    except OSError as exc:  # URLError, refused, timeout, reset
        reason = getattr(exc, "reason", None) or exc.strerror or exc
        exit_error(f"schema registry {shown}: cannot reach it ({reason})", known)
    except (http.client.HTTPException, ValueError, KeyError, TypeError, AttributeError) as exc:
        exit_error(f"schema registry {shown}: its answer is not the Confluent REST API "
                   f"({type(exc).__name__}: {exc})", known)


@click.group()
def schema() -> None:
    """Event schemas: payload validation, compatibility, registry push/diff, repository check."""


@schema.command()
@click.option("--schema", "schema_path", type=EXISTING, required=True, help="*.avsc or *.schema.json")
@click.option("--payload", "payloads", type=EXISTING, multiple=True, help="JSON payload file (repeatable)")
@click.option("--ndjson", "ndjson", type=click.File("rb"), help="NDJSON stream, one payload per line ('-' = stdin)")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
def validate(schema_path: Path, payloads: tuple[Path, ...], ndjson, fmt: str) -> None:
    """Validate payloads against a schema; exit 1 when any is invalid."""
    if not payloads and ndjson is None:
        raise click.UsageError("give --payload FILE (repeatable) or --ndjson FILE")
    try:
        reports = [validate_payload(schema_path, p) for p in payloads]
        if ndjson is not None:
            reports += list(validate_ndjson(schema_path, ndjson, getattr(ndjson, "name", "<stdin>")))
    except SchemaError as exc:
        _fail_input(exc)
    if fmt == "json":
        click.echo(json.dumps([{"source": r.source, "line": r.line, "valid": r.valid, "errors": r.errors}
                               for r in reports], indent=2))
    else:
        for report in reports:
            click.echo(str(report))
    sys.exit(0 if all(r.valid for r in reports) else 1)


@schema.command()
@click.argument("new", type=EXISTING)
@click.argument("previous_files", nargs=-1, type=EXISTING)
@click.option("--previous", "previous_flag", is_flag=True,
              help="the files after NEW are earlier versions, oldest first")
@click.option("--level", type=click.Choice(LEVELS, case_sensitive=False), default="BACKWARD", show_default=True)
@click.option("--policy", type=click.Choice(["STRICT", "LENIENT"], case_sensitive=False), default="STRICT",
              show_default=True, help="JSON Schema only")
def compat(new: Path, previous_files: tuple[Path, ...], previous_flag: bool, level: str, policy: str) -> None:
    """Check NEW against --previous OLD1 [OLD2 ...] at a Confluent level; exit 1 when incompatible."""
    if previous_files and not previous_flag:
        raise click.UsageError("earlier versions go after --previous: compat NEW --previous OLD1 [OLD2 ...]")
    try:
        schema_type = schema_type_of(new)
        mixed = [p for p in previous_files if schema_type_of(p) != schema_type]
        if mixed:
            raise SchemaError(str(mixed[0]), f"expected a schema of the same kind as {new} ({schema_type})")
        result = check_compatibility(schema_type, read_schema_json(new), [read_schema_json(p) for p in previous_files],
                                     level, policy)
    except SchemaError as exc:
        _fail_input(exc)
    for message in result.messages:
        click.echo(message)
    click.echo(f"{new}: {'compatible' if result.compatible else 'INCOMPATIBLE'} at {level.upper()}")
    sys.exit(0 if result.compatible else 1)


@schema.command()
@click.option("--url", required=True, help="schema registry base URL")
@click.option("--schemas", "schemas_root", type=click.Path(file_okay=False, path_type=Path), default=Path("schemas"))
def push(url: str, schemas_root: Path) -> None:
    """Register every subject's versions (oldest first) and levels; exit 1 when the registry rejects one, 2 when it
    cannot be reached."""
    from edakit.schemas.client import push as push_all

    results, problems = _against_registry(push_all, schemas_root, url)
    for problem in problems:
        click.echo(str(problem), err=True)
    if problems:
        sys.exit(2)
    for result in results:
        click.echo(str(result))
    sys.exit(1 if any(r.error for r in results) else 0)


@schema.command()
@click.option("--url", required=True, help="schema registry base URL")
@click.option("--schemas", "schemas_root", type=click.Path(file_okay=False, path_type=Path), default=Path("schemas"))
def diff(url: str, schemas_root: Path) -> None:
    """Show what differs between the repository and the registry; exit 1 when anything does, 2 when the registry
    cannot be reached."""
    from edakit.schemas.client import diff as diff_all

    drifts, problems = _against_registry(diff_all, schemas_root, url)
    for problem in problems:
        click.echo(str(problem), err=True)
    if problems:
        sys.exit(2)
    for drift in drifts:
        click.echo(str(drift))
    if not drifts:
        click.echo("repository and registry are in sync")
    sys.exit(1 if drifts else 0)


@schema.command()
@click.option("--root", type=click.Path(file_okay=False, path_type=Path), default=Path("."), help="project root")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
def check(root: Path, fmt: str) -> None:
    """Repository-wide check: layout, every subject's history at its level, every example payload."""
    from edakit.schemas.repo import check_repository

    problems = check_repository(root)
    if fmt == "json":
        click.echo(json.dumps([{"file": p.file, "line": p.line, "message": p.message} for p in problems], indent=2))
    else:
        for problem in problems:
            click.echo(str(problem))
        click.echo(f"{len(problems)} problem(s)" if problems else "schemas: ok")
    sys.exit(1 if problems else 0)
