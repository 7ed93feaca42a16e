"""The worker's HTTP endpoints, one port: `/healthz` (alive), `/readyz` (its broker and stores answer) and `/metrics`
(Prometheus text format).

- `/healthz`: 200 while every subscriber's consume loop is running (or draining after SIGTERM); 503 once one has
  died, so the platform restarts the process.
- `/readyz`: 200 when the broker answers (`Broker.check_reachable`, one request bounded by `check_timeout`) and every
  check the app registered (`App.readiness`) passes, all run for this request; 503 before the loops started, while
  draining, or when a check fails, with each check's outcome in a JSON body (errors redacted).
- `/metrics`: prometheus-client's default registry. The kit's consumer metrics (messaging.process.duration,
  messaging.client.consumed.messages; edakit.runtime.middleware.metrics) are OpenTelemetry instruments: the worker
  installs an SDK MeterProvider with a Prometheus reader into that registry when opentelemetry-sdk and
  opentelemetry-exporter-prometheus are installed and the application has not installed a provider itself.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterable, Mapping
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from opentelemetry import metrics as otel_metrics
from prometheus_client import REGISTRY, make_wsgi_app

from edakit.redact import redact

log = logging.getLogger(__name__)


def install_meter_provider() -> bool:
    """Install an SDK MeterProvider exporting to prometheus-client's default registry, unless one is installed.
    Returns whether the kit's OpenTelemetry metrics reach `/metrics`."""
    try:
        from opentelemetry.exporter.prometheus import PrometheusMetricReader
        from opentelemetry.sdk.metrics import MeterProvider
    except ImportError:
        log.warning("opentelemetry-sdk and opentelemetry-exporter-prometheus are not installed: /metrics serves "
                    "the process metrics only, not the kit's messaging metrics")
        return False
    current = otel_metrics.get_meter_provider()
    if isinstance(current, MeterProvider):
        return True  # the application's own; whether it exports to Prometheus is its choice
    otel_metrics.set_meter_provider(MeterProvider(metric_readers=[PrometheusMetricReader()]))
    return True


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True  # a slow probe never keeps the process from exiting


class _QuietHandler(WSGIRequestHandler):
    timeout = 30  # seconds a client may take to send its request: a stalled client does not hold a thread for ever
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's signature
        log.debug("probe %s", format % args)


Check = Callable[[], object]


class Probes:
    """`alive()` and `accepting()` (consuming, not starting or draining) come from the worker; `checks` run per
    `/readyz` request."""

    def __init__(self, alive: Callable[[], bool], accepting: Callable[[], bool], checks: Mapping[str, Check]) -> None:
        self.alive = alive
        self.accepting = accepting
        self.checks = dict(checks)
        self.metrics_app = make_wsgi_app(REGISTRY)

    def readiness(self) -> tuple[bool, dict[str, str]]:
        if not self.accepting():
            return False, {"worker": "not consuming (starting or draining)"}
        outcomes: dict[str, str] = {}
        for name, check in self.checks.items():
            try:
                check()
                outcomes[name] = "ok"
            except Exception as exc:  # noqa: BLE001 - any failure is this check's outcome
                outcomes[name] = redact(f"{type(exc).__name__}: {exc}")[:500]
        return all(v == "ok" for v in outcomes.values()), outcomes

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == "/metrics":
            return self.metrics_app(environ, start_response)
        if path == "/healthz":
            ok, body = self.alive(), {"status": "alive" if self.alive() else "a consume loop died"}
        elif path == "/readyz":
            ok, outcomes = self.readiness()
            body = {"status": "ready" if ok else "not ready", "checks": outcomes}
        else:
            start_response("404 Not Found", [("Content-Type", "text/plain; charset=utf-8")])
            return [b"not found: /healthz, /readyz, /metrics\n"]
        data = json.dumps(body).encode()
        start_response("200 OK" if ok else "503 Service Unavailable",
                       [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
        return [data]


def serve(app: Callable[..., Iterable[bytes]], host: str, port: int) -> tuple[WSGIServer, threading.Thread]:
    """Serve the WSGI `app` (the probes, the push endpoints) on host:port (0 = any free port: read
    `server.server_port`), a thread per request, on a daemon thread."""
    server = make_server(host, port, app, server_class=_ThreadingServer, handler_class=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2}, name="edakit-worker-http",
                              daemon=True)
    thread.start()
    return server, thread
