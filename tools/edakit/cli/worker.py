"""`edakit worker run module:app`: run a service's subscribers (edakit.runtime.worker) until SIGTERM, then drain.

Exit codes: 0 drained within the grace period; 1 the grace period ran out, a consume loop crashed, or a second
signal came; 2 the target cannot be loaded (bad `module:attribute`, an import error, not an App, a spec problem).
"""

from __future__ import annotations

import importlib
import os
import sys

import click

from edakit.cli._problems import exit_error
from edakit.runtime.worker import DEFAULT_HOST, DEFAULT_PORT, DEFAULT_PUSH_PORT, App, Worker
from edakit.runtime.worker.logs import configure


def load_app(target: str) -> App:
    """The App `module:attribute` names, importing the module with the working directory on sys.path (as WSGI
    servers do); raises ValueError with one line that says what is wrong."""
    module_name, _, attribute = target.partition(":")
    if not module_name or not attribute or not all(part.isidentifier() for part in module_name.split(".")) \
            or not attribute.isidentifier():
        raise ValueError(f"target {target!r}: expected module:attribute, e.g. billing.worker:app")
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name is not None and module_name.startswith(exc.name):
            raise ValueError(f"target {target!r}: no module {exc.name!r} (looked in {os.getcwd()} and sys.path)") \
                from None
        raise ValueError(f"target {target!r}: importing {module_name} failed: {exc}") from None
    except Exception as exc:  # noqa: BLE001 - the service's module failed at import: its error, in one line
        raise ValueError(f"target {target!r}: importing {module_name} failed: {type(exc).__name__}: {exc}") from None
    app = getattr(module, attribute, None)
    if not isinstance(app, App):
        found = "nothing" if app is None else type(app).__name__
        raise ValueError(f"target {target!r}: expected {module_name}.{attribute} to be an "
                         f"edakit.runtime.worker.App, found {found}")
    return app


@click.group()
def worker() -> None:
    """Run a service's subscribers as a long-running worker."""


@worker.command()
@click.argument("target")
@click.option("--host", default=DEFAULT_HOST, show_default=True,
              help="address of /healthz, /readyz and /metrics (0.0.0.0 to be probed from outside a container)")
@click.option("--port", default=DEFAULT_PORT, show_default=True, type=click.IntRange(0, 65535),
              help="their port (0: any free port, logged at start)")
@click.option("--push-host", default="0.0.0.0", show_default=True,  # noqa: S104 - Pub/Sub pushes from outside
              help="address of the push subscribers' endpoints (only with app.push subscribers)")
@click.option("--push-port", default=DEFAULT_PUSH_PORT, show_default=True, type=click.IntRange(0, 65535),
              help="their port")
@click.option("--grace", "grace_seconds", type=click.FloatRange(min=0.1), default=None,
              help="seconds to drain after SIGTERM  [default: the spec's consumer.shutdown_grace_seconds]")
@click.option("--log-level", default="INFO", show_default=True,
              type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"], case_sensitive=False))
def run(target: str, host: str, port: int, push_host: str, push_port: int, grace_seconds: float | None,
        log_level: str) -> None:
    """Run TARGET (module:attribute, an edakit.runtime.worker.App) until SIGTERM or SIGINT, then drain: stop
    polling, settle every message in hand, commit offsets, exit within the grace period. Logs are JSON lines on
    stderr."""
    configure(log_level)
    try:
        app = load_app(target)
        runner = Worker(app, grace_seconds=grace_seconds)
    except ValueError as exc:  # AppError, SettingsError and a bad target are all ValueErrors
        exit_error(exc)
    try:
        code = runner.run(host, port, push_host, push_port)
    except OSError as exc:  # a port in use, or an address this host does not have
        exit_error(f"cannot serve on {host}:{port} / push {push_host}:{push_port}: {exc}")
    sys.stderr.flush()
    if code != 0:
        os._exit(code)  # a loop may still be running on a daemon thread inside a client library: do not wait for it
    sys.exit(0)
