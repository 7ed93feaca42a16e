"""`edakit registry serve`: the repository's schemas over the Confluent Schema Registry REST API."""

from __future__ import annotations

import ipaddress
import sys
from pathlib import Path

import click

from edakit.schemas import SchemaError


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@click.group()
def registry() -> None:
    """A local schema registry for development."""


@registry.command()
@click.option("--host", default="127.0.0.1", show_default=True,
              help="address to bind; anything but loopback exposes an unauthenticated registry to the network")
@click.option("--port", default=8081, show_default=True, type=int)
@click.option("--schemas", "schemas_root", type=click.Path(file_okay=False, path_type=Path), default=Path("schemas"))
@click.option("--persist", is_flag=True, help="write accepted new versions into schemas/<domain>/v<N>/")
@click.option("--allowed-host", "allowed_hosts", multiple=True, metavar="NAME",
              help="a host name clients use to reach the server (repeatable); IP addresses and localhost always "
                   "work, any other Host header is refused (DNS rebinding)")
@click.option("--request-timeout", default=10.0, show_default=True, type=click.FloatRange(min=0.1),
              help="seconds a client may take to send a request body (and each read of its connection)")
def serve(host: str, port: int, schemas_root: Path, persist: bool, allowed_hosts: tuple[str, ...],
          request_timeout: float) -> None:
    """Serve the repo's subjects; new versions are accepted only when compatible at the subject's level."""
    from edakit.schemas.registry import Registry
    from edakit.schemas.serve import make_server

    if not _is_loopback(host):
        click.echo(f"warning: listening on {host}, not loopback: anyone who can reach it can register schemas "
                   "(there is no authentication)", err=True)
    try:
        server = make_server(Registry.from_repository(schemas_root, persist=persist), host, port,
                             allowed_hosts=allowed_hosts, request_timeout=request_timeout)
    except SchemaError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    except OSError as exc:
        click.echo(f"error: cannot listen on {host}:{port}: {exc.strerror or exc}", err=True)
        sys.exit(2)
    click.echo(f"schema registry on http://{host}:{server.server_address[1]} (schemas: {schemas_root}"
               f"{', persisting' if persist else ''})", err=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
