"""`edakit registry serve` against what a web page or a stuck client can send it (issue 10, item 7): bounded,
well-formed bodies of Confluent's media types only, no cross-site Origin, no foreign Host (DNS rebinding), and a
socket timeout so no request holds a thread forever. Every refusal is a 4xx with a JSON body, never a traceback."""

from __future__ import annotations

import http.client
import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from edakit.schemas.registry import Registry
from edakit.schemas.serve import MAX_BODY_BYTES, running

SUBJECT = "orders.order-placed-value"
TIMEOUT = 1.0  # the server's request timeout in these tests
V1 = "application/vnd.schemaregistry.v1+json"


@pytest.fixture
def server(repo_copy: Path) -> Iterator[tuple[str, int]]:
    with running(Registry.from_repository(repo_copy / "schemas"), allowed_hosts=("registry.internal",),
                 request_timeout=TIMEOUT) as url:
        host, port = url.removeprefix("http://").split(":")
        yield host, int(port)


def _request(server: tuple[str, int], method: str, path: str, body: bytes | None = None,
             headers: dict[str, str] | None = None) -> tuple[int, dict, http.client.HTTPResponse]:
    """One request with exactly the given headers (Host included: http.client adds none)."""
    connection = http.client.HTTPConnection(*server, timeout=10)
    connection.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
    for name, value in (headers or {}).items():
        connection.putheader(name, value)
    connection.endheaders(body)
    response = connection.getresponse()
    raw = response.read()
    connection.close()
    return response.status, json.loads(raw) if raw else {}, response


def _host(server: tuple[str, int]) -> dict[str, str]:
    return {"Host": f"{server[0]}:{server[1]}"}


def _register_body(repo_copy: Path) -> bytes:
    schema = (repo_copy / "schemas/order-events/v1/order-placed.avsc").read_text()
    return json.dumps({"schema": schema}).encode()


def _post(server: tuple[str, int], body: bytes, **headers: str) -> tuple[int, dict, http.client.HTTPResponse]:
    sent = {**_host(server), "Content-Type": V1, "Content-Length": str(len(body)), **headers}
    return _request(server, "POST", f"/subjects/{SUBJECT}/versions", body,
                    {k.replace("_", "-"): v for k, v in sent.items()})


def test_accepted_media_types(server: tuple[str, int], repo_copy: Path) -> None:
    body = _register_body(repo_copy)
    for media_type in (V1, "application/vnd.schemaregistry+json", "application/json",
                       "Application/JSON; charset=utf-8"):
        status, answer, _ = _post(server, body, Content_Type=media_type)
        assert status == 200 and answer["id"] >= 1, (media_type, answer)


def test_other_media_types_are_415(server: tuple[str, int], repo_copy: Path) -> None:
    body = _register_body(repo_copy)
    # what a web page's form or fetch without a preflight can send
    for media_type in ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", ""):
        status, answer, _ = _post(server, body, Content_Type=media_type)
        assert (status, answer["error_code"]) == (415, 415), media_type
    status, _, _ = _request(server, "PUT", "/config", b'{"compatibility": "NONE"}',
                            {**_host(server), "Content-Length": "25"})
    assert status == 415
    assert _request(server, "GET", "/config", headers=_host(server))[1] == {"compatibilityLevel": "BACKWARD"}


def test_cross_site_origin_is_403(server: tuple[str, int], repo_copy: Path) -> None:
    body = _register_body(repo_copy)
    host, port = server
    for origin in ("http://evil.example", "null", f"http://localhost:{port + 1}", f"https://{host}:{port}",
                   "http://[not-a-host"):
        status, answer, _ = _post(server, body, Origin=origin)
        assert (status, answer["error_code"]) == (403, 403), origin
        assert _request(server, "GET", "/subjects", headers={**_host(server), "Origin": origin})[0] == 403
    for origin in (f"http://{host}:{port}", f"http://localhost:{port}"):  # the server's own pages, if any
        assert _post(server, body, Origin=origin)[0] == 200


def test_foreign_host_is_421(server: tuple[str, int]) -> None:
    """A DNS-rebinding page reaches 127.0.0.1 under its own name, and its browser sends that name as Host."""
    port = server[1]
    for host in (f"evil.example:{port}", "attacker.test", f"localhost.evil.example:{port}", "", "[bad"):
        status, answer, response = _request(server, "GET", "/subjects", headers={"Host": host})
        assert status in (400, 421) and answer["error_code"] == status, host
        assert response.getheader("Connection") == "close"
    status, _, _ = _request(server, "GET", "/subjects", headers={})
    assert status == 400
    for host in (f"localhost:{port}", f"127.0.0.1:{port}", "[::1]", "registry.internal:8081", "REGISTRY.internal"):
        status, answer, _ = _request(server, "GET", "/subjects", headers={"Host": host})
        assert status == 200 and SUBJECT in answer, host


def test_content_length_must_be_a_bounded_non_negative_integer(server: tuple[str, int]) -> None:
    for length, expected in (("-1", 400), ("abc", 400), ("1e3", 400), ("0x10", 400), ("+5", 400), ("\u00b2", 400),
                             (str(MAX_BODY_BYTES + 1), 413), ("9" * 5000, 413)):
        started = time.monotonic()
        status, answer, response = _request(server, "POST", f"/subjects/{SUBJECT}/versions", b"",
                                            {**_host(server), "Content-Type": V1, "Content-Length": length})
        assert (status, answer["error_code"]) == (expected, expected), length
        assert response.getheader("Connection") == "close"
        assert time.monotonic() - started < TIMEOUT  # refused from the headers, nothing waited for
    status, _, _ = _request(server, "POST", f"/subjects/{SUBJECT}/versions", b"",
                            {**_host(server), "Content-Type": V1, "Transfer-Encoding": "chunked"})
    assert status == 411


def test_deep_json_is_422(server: tuple[str, int]) -> None:
    for body in (b"[" * 100_000 + b"]" * 100_000, json.dumps({"schema": "x", "n": [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[
            [[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}).encode()):
        status, answer, _ = _post(server, body)
        assert (status, answer["error_code"]) == (422, 422)
        assert "nested deeper" in answer["message"] or "depth" in answer["message"]
    deep_schema = json.dumps({"schema": "[" * 100_000 + "]" * 100_000, "schemaType": "JSON"}).encode()
    status, answer, _ = _post(server, deep_schema)
    assert (status, answer["error_code"]) == (422, 42201)
    nested = {"type": "string"}
    for _ in range(200):
        nested = {"type": "array", "items": nested}
    status, answer, _ = _post(server, json.dumps({"schema": json.dumps(nested)}).encode())
    assert (status, answer["error_code"]) == (422, 42201) and "nested deeper than" in answer["message"]


def _handler_threads() -> int:
    return sum(1 for t in threading.enumerate() if t.name.startswith("Thread-") and t.daemon)


def _read_all(sock: socket.socket) -> bytes:
    chunks = []
    while chunk := sock.recv(65536):
        chunks.append(chunk)
    return b"".join(chunks)


def test_a_body_that_never_comes_times_out(server: tuple[str, int], capfd: pytest.CaptureFixture[str]) -> None:
    """Slow loris: a Content-Length and no body. The read times out, the client gets 408, the thread ends."""
    before = _handler_threads()
    with socket.create_connection(server, timeout=TIMEOUT * 10) as sock:
        sock.sendall(f"POST /subjects/{SUBJECT}/versions HTTP/1.1\r\nHost: {server[0]}:{server[1]}\r\n"
                     f"Content-Type: {V1}\r\nContent-Length: 100\r\n\r\n{{\"sch".encode())
        started = time.monotonic()
        answer = _read_all(sock)  # the server closes the connection after answering
        waited = time.monotonic() - started
    assert answer.startswith(b"HTTP/1.1 408 ") and b'"error_code": 408' in answer
    assert TIMEOUT * 0.8 < waited < TIMEOUT * 5
    deadline = time.monotonic() + 5
    while _handler_threads() > before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _handler_threads() <= before
    assert "Traceback" not in capfd.readouterr().err


def test_a_trickled_body_is_cut_at_the_request_timeout(server: tuple[str, int]) -> None:
    """One byte every 0.2 s never trips a per-read timeout; the deadline over the whole body still does."""
    with socket.create_connection(server, timeout=TIMEOUT * 10) as sock:
        sock.sendall(f"POST /subjects/{SUBJECT}/versions HTTP/1.1\r\nHost: {server[0]}:{server[1]}\r\n"
                     f"Content-Type: {V1}\r\nContent-Length: 1000\r\n\r\n".encode())
        started = time.monotonic()
        sock.settimeout(0.2)
        answer = b""
        while time.monotonic() - started < TIMEOUT * 5 and not answer:
            try:
                sock.sendall(b" ")
                answer = sock.recv(65536)
            except TimeoutError:
                continue
            except (BrokenPipeError, ConnectionResetError):
                break
    assert answer.startswith(b"HTTP/1.1 408 ")
    assert time.monotonic() - started < TIMEOUT * 5


def test_an_idle_connection_is_closed(server: tuple[str, int]) -> None:
    with socket.create_connection(server, timeout=TIMEOUT * 10) as sock:
        started = time.monotonic()
        assert _read_all(sock) == b""
        assert time.monotonic() - started < TIMEOUT * 5
    # the server still answers
    assert _request(server, "GET", "/subjects", headers=_host(server))[0] == 200


def test_refused_requests_keep_the_connection_usable_or_close_it(server: tuple[str, int], repo_copy: Path) -> None:
    """A refusal after the body was read leaves a kept-alive connection in sync for the next request."""
    connection = http.client.HTTPConnection(*server, timeout=10)
    connection.request("POST", f"/subjects/{SUBJECT}/versions", body=b'{"schema": 5}',
                       headers={"Content-Type": V1})
    first = connection.getresponse()
    assert first.status == 422 and json.loads(first.read())["error_code"] == 42201
    connection.request("GET", "/subjects")
    second = connection.getresponse()
    assert second.status == 200 and SUBJECT in json.loads(second.read())
    connection.close()


def test_connections_beyond_the_limit_get_503_at_once_and_service_resumes_when_they_go(server) -> None:
    from edakit.schemas.serve import MAX_CONNECTIONS

    idle = [socket.create_connection(server, timeout=5) for _ in range(MAX_CONNECTIONS)]  # each holds a thread
    try:
        time.sleep(0.2)  # let the server accept them all
        started = time.monotonic()
        status, body, response = _request(server, "GET", "/subjects", headers=_host(server))
        assert (status, body["error_code"], response.getheader("Retry-After")) == (503, 50301, "1")
        assert time.monotonic() - started < TIMEOUT  # refused at once, not after an idle client timed out
    finally:
        for sock in idle:
            sock.close()
    deadline = time.monotonic() + 5
    while (status := _request(server, "GET", "/subjects", headers=_host(server))[0]) == 503:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert status == 200
