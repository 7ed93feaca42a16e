"""The Confluent Schema Registry REST API (the subset services and `edakit schema push/diff` use) over a Registry.

Threaded stdlib HTTP server: local development and tests, not production.
"""

from __future__ import annotations

import contextlib
import json
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote, urlsplit

from edakit.schemas.registry import Registry, RegistryError

CONTENT_TYPE = "application/vnd.schemaregistry.v1+json"
SUBJECT = r"(?P<subject>[^/]+)"
ROUTES: list[tuple[str, re.Pattern[str], str]] = [
    ("GET", re.compile(r"^/subjects/?$"), "list_subjects"),
    ("GET", re.compile(rf"^/subjects/{SUBJECT}/versions/?$"), "list_versions"),
    ("GET", re.compile(rf"^/subjects/{SUBJECT}/versions/(?P<version>[^/]+)/?$"), "get_version"),
    ("GET", re.compile(rf"^/subjects/{SUBJECT}/versions/(?P<version>[^/]+)/schema/?$"), "get_version_schema"),
    ("POST", re.compile(rf"^/subjects/{SUBJECT}/versions/?$"), "register"),
    ("POST", re.compile(rf"^/subjects/{SUBJECT}/?$"), "lookup"),
    ("GET", re.compile(r"^/schemas/ids/(?P<schema_id>[0-9]+)/?$"), "get_by_id"),
    ("GET", re.compile(r"^/config/?$"), "get_config"),
    ("PUT", re.compile(r"^/config/?$"), "put_config"),
    ("GET", re.compile(rf"^/config/{SUBJECT}/?$"), "get_config"),
    ("PUT", re.compile(rf"^/config/{SUBJECT}/?$"), "put_config"),
    ("POST", re.compile(rf"^/compatibility/subjects/{SUBJECT}/versions(?:/(?P<version>[^/]+))?/?$"), "compatibility"),
]


class _Handler(BaseHTTPRequestHandler):
    registry: Registry  # set on the per-server subclass
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        """Quiet: the CLI prints one line per request only when asked (not needed for tests)."""

    def _dispatch(self, method: str) -> None:
        path = urlsplit(self.path).path
        # read the whole body first so a refused request never leaves bytes on a kept-alive connection
        self._raw_body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        for route_method, pattern, name in ROUTES:
            match = pattern.match(path)
            if route_method == method and match:
                args = {k: unquote(v) for k, v in match.groupdict().items() if v is not None}
                try:
                    status, body = getattr(self, name)(**args)
                except RegistryError as exc:
                    status, body = exc.status, {"error_code": exc.error_code, "message": exc.message}
                except (ValueError, KeyError, TypeError) as exc:
                    status, body = 422, {"error_code": 422, "message": f"Unprocessable entity: {exc}"}
                self._send(status, body)
                return
        self._send(404, {"error_code": 404, "message": f"HTTP 404 Not Found: {method} {path}"})

    def do_GET(self) -> None:  # noqa: N802 - stdlib naming
        self._dispatch("GET")

    def do_POST(self) -> None:  # noqa: N802
        self._dispatch("POST")

    def do_PUT(self) -> None:  # noqa: N802
        self._dispatch("PUT")

    def _send(self, status: int, body: Any) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", CONTENT_TYPE)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _body(self) -> dict[str, Any]:
        body = json.loads(self._raw_body or b"{}")
        if not isinstance(body, dict):
            raise RegistryError(422, 422, "request body must be a JSON object")
        return body

    def _schema_request(self) -> tuple[str, str]:
        body = self._body()
        if not isinstance(body.get("schema"), str):
            raise RegistryError(422, 42201, "Invalid schema: 'schema' must be a string")
        if body.get("references"):
            raise RegistryError(422, 42201, "Invalid schema: schema references are not supported by this registry")
        return body["schema"], str(body.get("schemaType") or "AVRO").upper()

    # --- endpoints ------------------------------------------------------------------------------------------
    def list_subjects(self) -> tuple[int, Any]:
        return 200, self.registry.subjects()

    def list_versions(self, subject: str) -> tuple[int, Any]:
        return 200, [v.version for v in self.registry.versions(subject)]

    def get_version(self, subject: str, version: str) -> tuple[int, Any]:
        return 200, self.registry.version(subject, version).as_json()

    def get_version_schema(self, subject: str, version: str) -> tuple[int, Any]:
        return 200, json.loads(self.registry.version(subject, version).schema)

    def register(self, subject: str) -> tuple[int, Any]:
        schema, schema_type = self._schema_request()
        registered = self.registry.register(subject, schema, schema_type)
        return 200, {"id": registered.id}

    def lookup(self, subject: str) -> tuple[int, Any]:
        schema, schema_type = self._schema_request()
        return 200, self.registry.lookup(subject, schema, schema_type).as_json()

    def get_by_id(self, schema_id: str) -> tuple[int, Any]:
        schema_type, schema = self.registry.schema_by_id(int(schema_id))
        body = {"schema": schema}
        if schema_type != "AVRO":
            body["schemaType"] = schema_type
        return 200, body

    def get_config(self, subject: str | None = None) -> tuple[int, Any]:
        return 200, {"compatibilityLevel": self.registry.level(subject)}

    def put_config(self, subject: str | None = None) -> tuple[int, Any]:
        level = str(self._body().get("compatibility", "")).upper()
        return 200, {"compatibility": self.registry.set_level(level, subject)}

    def compatibility(self, subject: str, version: str | None = None) -> tuple[int, Any]:
        schema, schema_type = self._schema_request()
        result = self.registry.compatibility(subject, schema, schema_type, version)
        return 200, {"is_compatible": result.compatible, "messages": result.messages}


def make_server(registry: Registry, host: str = "127.0.0.1", port: int = 8081) -> ThreadingHTTPServer:
    handler = type("RegistryHandler", (_Handler,), {"registry": registry})
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    return server


@contextlib.contextmanager
def running(registry: Registry, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
    """Serve in a background thread; yields the base URL and shuts the server down after."""
    server = make_server(registry, host, port)
    thread = threading.Thread(target=server.serve_forever, name="schema-registry", daemon=True)
    thread.start()
    try:
        yield f"http://{host}:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
