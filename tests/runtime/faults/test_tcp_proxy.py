"""devservers.TcpProxy, the fault tests' way to cut a broker off without stopping it, against a real echo server."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest

from edakit.devservers import TcpProxy, tcp_proxy


@pytest.fixture
def echo() -> Iterator[tuple[str, list[bytes]]]:
    """An echo server on 127.0.0.1; yields its address and every chunk it received."""
    server = socket.create_server(("127.0.0.1", 0))
    received: list[bytes] = []

    def serve(conn: socket.socket) -> None:
        with conn:
            while data := conn.recv(4096):
                received.append(data)
                conn.sendall(data)

    def accept() -> None:
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            threading.Thread(target=serve, args=(conn,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    yield f"127.0.0.1:{server.getsockname()[1]}", received
    server.close()


def connect(proxy: TcpProxy) -> socket.socket:
    return socket.create_connection(("127.0.0.1", proxy.port), timeout=2)


def closed(sock: socket.socket) -> bool:
    try:
        return sock.recv(1) == b""
    except ConnectionResetError:
        return True


def test_forward_relays_both_ways_and_drop_closes_old_and_new_connections(echo) -> None:  # noqa: ANN001
    address, _ = echo
    with tcp_proxy(address) as proxy:
        client = connect(proxy)
        client.sendall(b"ping")
        assert client.recv(4) == b"ping"
        proxy.set_mode("drop")
        assert closed(client)
        assert closed(connect(proxy))  # accepted, then closed at once: the server looks down
        proxy.set_mode("forward")
        again = connect(proxy)
        again.sendall(b"back")
        assert again.recv(4) == b"back"


def test_lose_replies_delivers_requests_but_no_answers_then_closes_those_connections(echo) -> None:  # noqa: ANN001
    address, received = echo
    with tcp_proxy(address) as proxy:
        client = connect(proxy)
        client.sendall(b"one")
        assert client.recv(3) == b"one"
        proxy.set_mode("lose_replies")
        client.sendall(b"two")
        deadline = time.monotonic() + 2
        while b"two" not in received and time.monotonic() < deadline:
            time.sleep(0.01)
        assert b"two" in received  # the server got the request...
        client.settimeout(0.3)
        with pytest.raises(TimeoutError):
            client.recv(3)  # ...its answer never arrives
        client.settimeout(2)
        proxy.set_mode("forward")
        assert closed(client)  # its byte stream lost data: not handed back as if intact


def test_cut_restores_by_itself_and_close_stops_every_thread(echo) -> None:  # noqa: ANN001
    address, _ = echo
    before = {t for t in threading.enumerate() if t.name.startswith("tcp-proxy")}
    proxy = TcpProxy(address)
    connect(proxy).sendall(b"x")
    proxy.cut(0.3)
    assert proxy.mode == "drop"
    time.sleep(0.6)
    assert proxy.mode == "forward"
    client = connect(proxy)
    client.sendall(b"y")
    assert client.recv(1) == b"y"
    proxy.close()
    assert closed(client)
    deadline = time.monotonic() + 2
    while {t for t in threading.enumerate() if t.name.startswith("tcp-proxy")} - before:
        assert time.monotonic() < deadline, "proxy threads still running after close()"
        time.sleep(0.02)
    with pytest.raises(ConnectionRefusedError):
        connect(proxy)


def test_an_unknown_mode_is_refused() -> None:
    with tcp_proxy() as proxy, pytest.raises(ValueError, match="forward, drop, lose_replies"):
        proxy.set_mode("partition")
