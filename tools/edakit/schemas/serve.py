"""The Confluent Schema Registry REST API (the subset services and `edakit schema push/diff` use) over a Registry.

Threaded stdlib HTTP server: local development and tests, not production. It binds 127.0.0.1 unless told otherwise
and refuses what a web page or a stuck client could do to it: a `Host` that is not an IP literal, `localhost` or an
allowed host (DNS rebinding) gets 421; an `Origin` other than the server's own gets 403; a body that is not one of
Confluent's JSON media types gets 415 (together: no cross-site "simple" POST gets in); a `Content-Length` that is
missing a number, negative or above `MAX_BODY_BYTES` gets 400/413 and the connection is closed; a body that does not
arrive within `request_timeout` seconds gets 408; JSON nested deeper than `MAX_BODY_DEPTH` gets 422; a connection
beyond `MAX_CONNECTIONS` open at once gets 503.
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import re
import sys
import threading
import time
from collections.abc import Iterable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote, urlsplit

from edakit.schemas.errors import SchemaError
from edakit.schemas.registry import Registry, RegistryError
from edakit.schemas.validate import SCHEMA_MAX_BYTES, parse_json

CONTENT_TYPE = "application/vnd.schemaregistry.v1+json"
# the request media types Confluent's server accepts; a browser can send none of them cross-site without a preflight
ACCEPTED_CONTENT_TYPES = frozenset({CONTENT_TYPE, "application/vnd.schemaregistry+json", "application/json"})
# a request carries one schema (at most SCHEMA_MAX_BYTES) JSON-escaped inside a small object
MAX_BODY_BYTES = 2 * SCHEMA_MAX_BYTES
MAX_BODY_DEPTH = 32
REQUEST_TIMEOUT_SECONDS = 10.0
# connections served at once; more get 503 at once, so slow clients cannot make the server start threads without end
MAX_CONNECTIONS = 64
_BUSY = (b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/vnd.schemaregistry.v1+json\r\n"
         b"Retry-After: 1\r\nConnection: close\r\nContent-Length: 67\r\n\r\n"
         b'{"error_code": 50301, "message": "too many connections; try again"}')
_DIGITS = re.compile(r"[0-9]+")
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


class _Refused(Exception):
    """A request refused before routing: status, Confluent-style error body, and whether the connection must close
    (its body was not read, so the next bytes on it are not a request)."""

    def __init__(self, status: int, message: str, close: bool = False) -> None:
        super().__init__(message)
        self.status, self.message, self.close = status, message, close


def _hostname(value: str) -> str:
    """The host part of a Host header or an authority (`[::1]:8081` -> `::1`), lower-cased."""
    try:
        return (urlsplit(f"//{value}").hostname or "").lower()
    except ValueError:
        return ""


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


class _Handler(BaseHTTPRequestHandler):
    registry: Registry  # set on the per-server subclass
    allowed_hosts: frozenset[str]  # host names (besides IP literals and localhost) a Host header may carry
    timeout: float = REQUEST_TIMEOUT_SECONDS  # socket timeout of every read and write: no thread waits forever
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        """Quiet: the CLI prints one line per request only when asked (not needed for tests)."""

    def _dispatch(self, method: str) -> None:
        try:
            self._check_headers()
            # read the whole body first so a refused request never leaves bytes on a kept-alive connection
            self._raw_body = self._read_body(method)
        except _Refused as exc:
            if exc.close:
                self.close_connection = True
            self._send(exc.status, {"error_code": exc.status, "message": exc.message})
            return
        path = urlsplit(self.path).path
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
                except Exception as exc:  # noqa: BLE001 - one line to the client, never a traceback
                    status, body = 500, {"error_code": 50001, "message": f"Error in the backend: "
                                                                          f"{type(exc).__name__}"}
                self._send(status, body)
                return
        self._send(404, {"error_code": 404, "message": f"HTTP 404 Not Found: {method} {path[:200]}"})

    def _check_headers(self) -> None:
        """Host against DNS rebinding, Origin against cross-site pages."""
        host = self.headers.get("Host")
        if not host:
            raise _Refused(400, "a Host header is required", close=True)
        name = _hostname(host)
        if not self._allowed(name):
            raise _Refused(421, f"Host '{host[:100]}' is not served here: expected an IP address, localhost or one "
                                "of --allowed-host (a DNS-rebinding page would send its own name)", close=True)
        origin = self.headers.get("Origin")
        if origin is not None and not self._same_origin(origin):
            raise _Refused(403, f"cross-origin request from '{origin[:100]}' refused", close=True)

    def _allowed(self, name: str) -> bool:
        return bool(name) and (name == "localhost" or _is_ip(name) or name in self.allowed_hosts)

    def _same_origin(self, origin: str) -> bool:
        try:
            parts = urlsplit(origin)
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError:
            return False
        return (parts.scheme == "http" and self._allowed((parts.hostname or "").lower())
                and port == self.server.server_address[1])

    def _read_body(self, method: str) -> bytes:
        if "Transfer-Encoding" in self.headers:
            raise _Refused(411, "chunked request bodies are not accepted: send Content-Length", close=True)
        if len(self.headers.get_all("Content-Length") or ()) > 1:
            raise _Refused(400, "several Content-Length headers", close=True)
        raw_length = (self.headers.get("Content-Length") or "0").strip()
        if not _DIGITS.fullmatch(raw_length):  # also refuses '-1', '+5', '1e3', '0x10', ''
            raise _Refused(400, f"Content-Length '{raw_length[:40]}' is not a non-negative integer", close=True)
        digits = raw_length.lstrip("0") or "0"
        if len(digits) > len(str(MAX_BODY_BYTES)) or int(digits) > MAX_BODY_BYTES:
            raise _Refused(413, f"request body of {digits[:40]} bytes is larger than the {MAX_BODY_BYTES}-byte "
                                "limit", close=True)
        length = int(digits)
        if method in ("POST", "PUT"):
            media_type = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
            if media_type not in ACCEPTED_CONTENT_TYPES:
                raise _Refused(415, f"Content-Type '{media_type[:100]}' is not accepted: send one of "
                                    f"{', '.join(sorted(ACCEPTED_CONTENT_TYPES))}", close=True)
        return self._read_exactly(length)

    def _read_exactly(self, length: int) -> bytes:
        """The body, within the request timeout in total (each read is also bounded by the socket timeout)."""
        deadline = time.monotonic() + self.timeout
        chunks: list[bytes] = []
        remaining = length
        try:
            while remaining:
                if time.monotonic() > deadline:
                    raise TimeoutError
                chunk = self.rfile.read1(min(remaining, 65536))
                if not chunk:
                    raise _Refused(400, f"the body ended after {length - remaining} of {length} bytes", close=True)
                chunks.append(chunk)
                remaining -= len(chunk)
        except TimeoutError:
            raise _Refused(408, f"the request body did not arrive within {self.timeout:g} s", close=True) from None
        return b"".join(chunks)

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
        self.send_header("X-Content-Type-Options", "nosniff")
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(data)

    def _body(self) -> dict[str, Any]:
        try:
            body = parse_json(self._raw_body or b"{}", "request body", max_bytes=MAX_BODY_BYTES,
                              max_depth=MAX_BODY_DEPTH)
        except SchemaError as exc:
            raise RegistryError(422, 422, f"Unprocessable entity: {exc.message}") from exc
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


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    max_connections = MAX_CONNECTIONS
    request_queue_size = 2 * MAX_CONNECTIONS  # the listen backlog (socketserver's default is 5)

    def server_activate(self) -> None:
        self._slots = threading.BoundedSemaphore(self.max_connections)
        super().server_activate()

    def process_request(self, request: Any, client_address: Any) -> None:
        if not self._slots.acquire(blocking=False):
            with contextlib.suppress(OSError):  # answered from the accept loop: a short write with a short timeout
                request.settimeout(1.0)
                request.sendall(_BUSY)
            self.shutdown_request(request)
            return
        super().process_request(request, client_address)

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()

    def handle_error(self, request: Any, client_address: Any) -> None:
        """One line, never a traceback (a client that vanished mid-request is not the server's problem)."""
        print(f"schema registry: request from {client_address[0]} failed: {sys.exc_info()[1]!r}", file=sys.stderr)


def make_server(registry: Registry, host: str = "127.0.0.1", port: int = 8081, *,
                allowed_hosts: Iterable[str] = (), request_timeout: float = REQUEST_TIMEOUT_SECONDS
                ) -> ThreadingHTTPServer:
    """A server for `registry` on host:port. `allowed_hosts`: host names a Host header may carry besides IP
    literals and localhost (a container's service name, say); `request_timeout`: seconds any one read may take."""
    handler = type("RegistryHandler", (_Handler,), {
        "registry": registry, "timeout": request_timeout,
        "allowed_hosts": frozenset(h.lower() for h in allowed_hosts)})
    return _Server((host, port), handler)


@contextlib.contextmanager
def running(registry: Registry, host: str = "127.0.0.1", port: int = 0, **options: Any) -> Iterator[str]:
    """Serve in a background thread; yields the base URL and shuts the server down after."""
    server = make_server(registry, host, port, **options)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="schema-registry",
                              daemon=True)
    thread.start()
    try:
        yield f"http://{host}:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
