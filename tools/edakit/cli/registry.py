"""`edakit registry serve`: the repository's schemas over the Confluent Schema Registry REST API."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from edakit.schemas import SchemaError


@click.group()
def registry() -> None:
    """A local schema registry for development."""


@registry.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8081, show_default=True, type=int)
@click.option("--schemas", "schemas_root", type=click.Path(file_okay=False, path_type=Path), default=Path("schemas"))
@click.option("--persist", is_flag=True, help="write accepted new versions into schemas/<domain>/v<N>/")
def serve(host: str, port: int, schemas_root: Path, persist: bool) -> None:
    """Serve the repo's subjects; new versions are accepted only when compatible at the subject's level."""
    from edakit.schemas.registry import Registry
    from edakit.schemas.serve import make_server

    try:
        server = make_server(Registry.from_repository(schemas_root, persist=persist), host, port)
    except SchemaError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    click.echo(f"schema registry on http://{host}:{server.server_address[1]} (schemas: {schemas_root}"
               f"{', persisting' if persist else ''})", err=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
