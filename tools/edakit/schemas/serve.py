"""The Confluent Schema Registry REST API over a Registry: every call confluent-kafka's `SchemaRegistryClient` makes
(subjects, versions, ids and guids, soft and permanent deletes, references and referencedby, metadata, config, mode,
contexts: the default context "." only) except Confluent Cloud's associations, with Confluent's error codes, and
every error answered as Confluent's JSON `{error_code, message}`, never an HTML page.

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
import socket
import sys
import threading
import time
from collections.abc import Iterable, Iterator
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from edakit.schemas.errors import SchemaError
from edakit.schemas.registry import (METADATA_KEYS, Reference, Registry, RegistryError, SchemaRequest, Version,
                                     guid_of)
from edakit.schemas.validate import SCHEMA_MAX_BYTES, parse_json

CONTENT_TYPE = "application/vnd.schemaregistry.v1+json"
# the request media types Confluent's server accepts; a browser can send none of them cross-site without a preflight
ACCEPTED_CONTENT_TYPES = frozenset({CONTENT_TYPE, "application/vnd.schemaregistry+json", "application/json"})
# a request carries one schema (at most SCHEMA_MAX_BYTES) JSON-escaped inside a small object
MAX_BODY_BYTES = 2 * SCHEMA_MAX_BYTES
MAX_BODY_DEPTH = 32
MAX_QUERY_FIELDS = 64  # a query string's parameters: Confluent's calls send at most a handful
MAX_PAGE = 100_000  # offset and limit of a listing
REQUEST_TIMEOUT_SECONDS = 10.0
# connections served at once; more get 503 at once, so slow clients cannot make the server start threads without end
MAX_CONNECTIONS = 64
_BUSY = (b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/vnd.schemaregistry.v1+json\r\n"
         b"Retry-After: 1\r\nConnection: close\r\nContent-Length: 67\r\n\r\n"
         b'{"error_code": 50301, "message": "too many connections; try again"}')
_DIGITS = re.compile(r"[0-9]+")
SUBJECT = r"(?P<subject>[^/]+)"
VERSION = r"(?P<version>[^/]+)"
ROUTES: list[tuple[str, re.Pattern[str], str]] = [(method, re.compile(f"^{path}/?$"), name) for method, path, name in [
    ("GET", r"/subjects", "list_subjects"),
    ("GET", rf"/subjects/{SUBJECT}/versions", "list_versions"),
    ("GET", rf"/subjects/{SUBJECT}/versions/{VERSION}", "get_version"),
    ("GET", rf"/subjects/{SUBJECT}/versions/{VERSION}/schema", "get_version_schema"),
    ("GET", rf"/subjects/{SUBJECT}/versions/{VERSION}/referencedby", "referenced_by"),
    ("GET", rf"/subjects/{SUBJECT}/metadata", "latest_with_metadata"),
    ("POST", rf"/subjects/{SUBJECT}/versions", "register"),
    ("POST", rf"/subjects/{SUBJECT}", "lookup"),
    ("DELETE", rf"/subjects/{SUBJECT}", "delete_subject"),
    ("DELETE", rf"/subjects/{SUBJECT}/versions/{VERSION}", "delete_version"),
    ("GET", r"/schemas/types", "schema_types"),
    ("GET", r"/schemas/ids/(?P<schema_id>[0-9]{1,10})", "get_by_id"),
    ("GET", r"/schemas/ids/(?P<schema_id>[0-9]{1,10})/schema", "get_by_id_schema"),
    ("GET", r"/schemas/ids/(?P<schema_id>[0-9]{1,10})/subjects", "id_subjects"),
    ("GET", r"/schemas/ids/(?P<schema_id>[0-9]{1,10})/versions", "id_versions"),
    ("GET", r"/schemas/guids/(?P<guid>[0-9a-fA-F-]{1,64})", "get_by_guid"),
    ("GET", r"/contexts", "contexts"),
    ("GET", r"/config", "get_config"),
    ("PUT", r"/config", "put_config"),
    ("DELETE", r"/config", "delete_config"),
    ("GET", rf"/config/{SUBJECT}", "get_config"),
    ("PUT", rf"/config/{SUBJECT}", "put_config"),
    ("DELETE", rf"/config/{SUBJECT}", "delete_config"),
    ("GET", r"/mode", "get_mode"),
    ("PUT", r"/mode", "put_mode"),
    ("GET", rf"/mode/{SUBJECT}", "get_mode"),
    ("PUT", rf"/mode/{SUBJECT}", "put_mode"),
    ("DELETE", rf"/mode/{SUBJECT}", "delete_mode"),
    ("POST", rf"/compatibility/subjects/{SUBJECT}/versions(?:/{VERSION})?", "compatibility"),
]]
# the one context this registry has: Confluent's default context
DEFAULT_CONTEXT = "."
CONFIG_KEYS = frozenset({"compatibility", "compatibilityLevel"})


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
    # buffered writes, flushed once per request by the stdlib: status, headers and body leave in one segment (written
    # separately, a kept-alive client's delayed ACK held every answer ~40 ms)
    wbufsize = -1

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
        parts = urlsplit(self.path)
        try:
            self._query = parse_qs(parts.query, keep_blank_values=True, max_num_fields=MAX_QUERY_FIELDS)
        except ValueError:
            self._send(400, {"error_code": 400, "message": f"more than {MAX_QUERY_FIELDS} query parameters"})
            return
        path = parts.path
        other_method = False
        for route_method, pattern, name in ROUTES:
            match = pattern.match(path)
            if match and route_method != method:
                other_method = True
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
        if other_method:
            self._send(405, {"error_code": 405, "message": "HTTP 405 Method Not Allowed"})
            return
        self._send(404, {"error_code": 404, "message": f"HTTP 404 Not Found: {method} {path[:200]}"})

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """The stdlib's own errors (a malformed request line, an unknown method) as Confluent's JSON body, not
        an HTML page: every error this server answers is `{error_code, message}`."""
        self.close_connection = True
        if self.request_version == "HTTP/0.9":  # the request line was not understood: answer in HTTP/1.1 anyway
            self.request_version = self.protocol_version
        try:
            phrase = HTTPStatus(code).phrase
        except ValueError:
            phrase = "Error"
        self._send(code, {"error_code": code, "message": f"HTTP {code} {message or phrase}"[:300]})

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
        if method in ("POST", "PUT") or (method == "DELETE" and length):
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

    def do_DELETE(self) -> None:  # noqa: N802
        self._dispatch("DELETE")

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

    def _flag(self, name: str) -> bool:
        values = self._query.get(name) or ["false"]
        return values[-1].strip().lower() == "true"

    def _int(self, name: str, default: int) -> int:
        values = self._query.get(name)
        if not values:
            return default
        raw = values[-1].strip()
        if not re.fullmatch(r"-?[0-9]{1,9}", raw):
            raise RegistryError(400, 400, f"query parameter '{name}' must be an integer, got '{raw[:40]}'")
        return max(-1, min(int(raw), MAX_PAGE))

    def _page(self, items: list[Any]) -> list[Any]:
        """Confluent's `offset` and `limit` (a negative limit: everything after `offset`)."""
        offset, limit = max(0, self._int("offset", 0)), self._int("limit", -1)
        return items[offset:] if limit < 0 else items[offset:offset + limit]

    def _schema_request(self, *, importing: bool = False) -> SchemaRequest:
        body = self._body()
        if not isinstance(body.get("schema"), str):
            raise RegistryError(422, 42201, "Invalid schema: 'schema' must be a string")
        if body.get("ruleSet"):
            raise RegistryError(422, 42201, "Invalid schema: rule sets are not supported by this registry (no rule "
                                            "executor runs here)")
        metadata = body.get("metadata")
        if metadata is not None and (not isinstance(metadata, dict) or set(metadata) - METADATA_KEYS):
            raise RegistryError(422, 42201, f"Invalid schema: 'metadata' must be an object with keys among "
                                            f"{', '.join(sorted(METADATA_KEYS))}")
        references = body.get("references") or []
        if not isinstance(references, list) or not all(
                isinstance(r, dict) and isinstance(r.get("name"), str) and isinstance(r.get("subject"), str)
                and isinstance(r.get("version"), int) and not isinstance(r.get("version"), bool) for r in references):
            raise RegistryError(422, 42201, "Invalid schema: each reference needs a string 'name' and 'subject' and "
                                            "an integer 'version'")
        given = {}
        for key in ("id", "version"):
            value = body.get(key)
            if importing and value is not None and value != -1:
                if not isinstance(value, int) or isinstance(value, bool) or not 0 < value < 2 ** 31:
                    raise RegistryError(422, 42201, f"Invalid schema: '{key}' must be a positive integer")
                given[key] = value
        return SchemaRequest(body["schema"], str(body.get("schemaType") or "AVRO").upper(),
                             tuple(Reference(r["name"], r["subject"], r["version"]) for r in references),
                             metadata, given.get("id"), given.get("version"))

    @staticmethod
    def _schema_body(found: Version) -> dict[str, Any]:
        body: dict[str, Any] = {"schema": found.schema,
                                "guid": guid_of(found.schema_type, found.schema, found.references)}
        if found.schema_type != "AVRO":
            body["schemaType"] = found.schema_type
        if found.references:
            body["references"] = [r.as_json() for r in found.references]
        return body

    # --- endpoints ------------------------------------------------------------------------------------------
    def list_subjects(self) -> tuple[int, Any]:
        prefix = (self._query.get("subjectPrefix") or [""])[-1]
        return 200, self._page(self.registry.subjects(deleted=self._flag("deleted"),
                                                      deleted_only=self._flag("deleted_only")
                                                      or self._flag("deletedOnly"), prefix=prefix))

    def list_versions(self, subject: str) -> tuple[int, Any]:
        versions = self.registry.versions(subject, deleted=self._flag("deleted"),
                                          deleted_only=self._flag("deleted_only") or self._flag("deletedOnly"))
        return 200, self._page([v.version for v in versions])

    def get_version(self, subject: str, version: str) -> tuple[int, Any]:
        return 200, self.registry.version(subject, version, deleted=self._flag("deleted")).as_json()

    def get_version_schema(self, subject: str, version: str) -> tuple[int, Any]:
        return 200, json.loads(self.registry.version(subject, version, deleted=self._flag("deleted")).schema)

    def referenced_by(self, subject: str, version: str) -> tuple[int, Any]:
        return 200, self._page(self.registry.referenced_by(subject, version))

    def latest_with_metadata(self, subject: str) -> tuple[int, Any]:
        keys, values = self._query.get("key") or [], self._query.get("value") or []
        if len(keys) != len(values):
            raise RegistryError(400, 400, "metadata lookup: give as many 'value' parameters as 'key' parameters")
        return 200, self.registry.latest_with_metadata(subject, dict(zip(keys, values, strict=True)),
                                                       deleted=self._flag("deleted")).as_json()

    def register(self, subject: str) -> tuple[int, Any]:
        registered = self.registry.register(subject, self._schema_request(importing=True))
        return 200, {"id": registered.id, "version": registered.version,
                     "guid": guid_of(registered.schema_type, registered.schema, registered.references)}

    def lookup(self, subject: str) -> tuple[int, Any]:
        return 200, self.registry.lookup(subject, self._schema_request(), deleted=self._flag("deleted")).as_json()

    def delete_subject(self, subject: str) -> tuple[int, Any]:
        return 200, self.registry.delete_subject(subject, permanent=self._flag("permanent"))

    def delete_version(self, subject: str, version: str) -> tuple[int, Any]:
        return 200, self.registry.delete_version(subject, version, permanent=self._flag("permanent"))

    def schema_types(self) -> tuple[int, Any]:
        return 200, ["AVRO", "JSON"]

    def get_by_id(self, schema_id: str) -> tuple[int, Any]:
        return 200, self._schema_body(self.registry.schema_by_id(int(schema_id)))

    def get_by_id_schema(self, schema_id: str) -> tuple[int, Any]:
        return 200, json.loads(self.registry.schema_by_id(int(schema_id)).schema)

    def get_by_guid(self, guid: str) -> tuple[int, Any]:
        found = self.registry.schema_by_guid(guid.lower())
        return 200, {**self._schema_body(found), "id": found.id}

    def _id_versions(self, schema_id: str) -> list[Version]:
        subject = (self._query.get("subject") or [None])[-1]
        return self.registry.id_versions(int(schema_id), subject=subject, deleted=self._flag("deleted"))

    def id_subjects(self, schema_id: str) -> tuple[int, Any]:
        return 200, self._page(sorted({v.subject for v in self._id_versions(schema_id)}))

    def id_versions(self, schema_id: str) -> tuple[int, Any]:
        return 200, self._page([{"subject": v.subject, "version": v.version} for v in self._id_versions(schema_id)])

    def contexts(self) -> tuple[int, Any]:
        return 200, self._page([DEFAULT_CONTEXT])

    def get_config(self, subject: str | None = None) -> tuple[int, Any]:
        default_to_global = self._flag("defaultToGlobal")
        return 200, {"compatibilityLevel": self.registry.level(subject, default_to_global=default_to_global)}

    def put_config(self, subject: str | None = None) -> tuple[int, Any]:
        body = self._body()
        unsupported = sorted(k for k, v in body.items() if k not in CONFIG_KEYS and v is not None)
        if unsupported:
            raise RegistryError(422, 42203, f"config keys {', '.join(unsupported)[:200]} are not supported by this "
                                            "registry: it keeps a compatibility level only")
        level = str(body.get("compatibility") or body.get("compatibilityLevel") or "").upper()
        return 200, {"compatibility": self.registry.set_level(level, subject)}

    def delete_config(self, subject: str | None = None) -> tuple[int, Any]:
        return 200, {"compatibilityLevel": self.registry.delete_level(subject)}

    def get_mode(self, subject: str | None = None) -> tuple[int, Any]:
        return 200, {"mode": self.registry.mode(subject, default_to_global=self._flag("defaultToGlobal"))}

    def put_mode(self, subject: str | None = None) -> tuple[int, Any]:
        mode = str(self._body().get("mode", "")).upper()
        return 200, {"mode": self.registry.set_mode(mode, subject, force=self._flag("force"))}

    def delete_mode(self, subject: str) -> tuple[int, Any]:
        return 200, {"mode": self.registry.delete_mode(subject)}

    def compatibility(self, subject: str, version: str | None = None) -> tuple[int, Any]:
        result = self.registry.compatibility(subject, self._schema_request(), version=version)
        body: dict[str, Any] = {"is_compatible": result.compatible}
        if self._flag("verbose") or not result.compatible:
            body["messages"] = result.messages
        return 200, body


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    max_connections = MAX_CONNECTIONS
    request_queue_size = 2 * MAX_CONNECTIONS  # the listen backlog (socketserver's default is 5)

    def server_activate(self) -> None:
        self._slots = threading.BoundedSemaphore(self.max_connections)
        self._open: set[Any] = set()  # connections being served, closed by close_connections()
        self._open_lock = threading.Lock()
        super().server_activate()

    def close_connections(self) -> None:
        """End every kept-alive connection: after shutdown() a client must not be answered by a stopped server."""
        with self._open_lock:
            for request in list(self._open):
                with contextlib.suppress(OSError):
                    request.shutdown(socket.SHUT_RDWR)

    def process_request(self, request: Any, client_address: Any) -> None:
        if not self._slots.acquire(blocking=False):
            with contextlib.suppress(OSError):  # answered from the accept loop: a short write with a short timeout
                request.settimeout(1.0)
                request.sendall(_BUSY)
            self.shutdown_request(request)
            return
        super().process_request(request, client_address)

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        with self._open_lock:
            self._open.add(request)
        try:
            super().process_request_thread(request, client_address)
        finally:
            with self._open_lock:
                self._open.discard(request)
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
        server.close_connections()
        server.server_close()
        thread.join(timeout=5)
