"""A TLS listener in front of Tansu (which serves no TLS itself), the way a TLS-terminating listener or load
balancer fronts a broker: it requires a client certificate signed by the test CA and relays the decrypted Kafka
protocol to Tansu, which advertises the listener's port so every client connection passes it."""

from __future__ import annotations

import datetime
import ipaddress
import socket
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from edakit import devservers

from security_consts import KEY_PASSWORD  # noqa: E402 - shared with the tests


@dataclass
class Pki:
    ca: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path  # encrypted with KEY_PASSWORD
    other_ca: Path  # a CA that signed nothing here


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _cert(subject: str, key, issuer: str, issuer_key, *, ca: bool = False, san_ip: str | None = None):  # noqa: ANN001, ANN202
    now = datetime.datetime.now(datetime.timezone.utc)
    builder = (x509.CertificateBuilder().subject_name(_name(subject)).issuer_name(_name(issuer))
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(hours=1))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if san_ip:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(san_ip))]),
                                        critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


def _write_key(path: Path, key, password: str | None = None) -> Path:  # noqa: ANN001
    encryption = (serialization.BestAvailableEncryption(password.encode()) if password
                  else serialization.NoEncryption())
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption))
    return path


def _write_cert(path: Path, cert) -> Path:  # noqa: ANN001
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return path


@pytest.fixture(scope="module")
def pki(tmp_path_factory) -> Pki:
    d = tmp_path_factory.mktemp("pki")
    ca_key, other_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    server_key, client_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    return Pki(
        ca=_write_cert(d / "ca.pem", _cert("edakit test CA", ca_key, "edakit test CA", ca_key, ca=True)),
        server_cert=_write_cert(d / "server.pem", _cert("broker", server_key, "edakit test CA", ca_key,
                                                        san_ip="127.0.0.1")),
        server_key=_write_key(d / "server.key", server_key),
        client_cert=_write_cert(d / "client.pem", _cert("order-service", client_key, "edakit test CA", ca_key)),
        client_key=_write_key(d / "client.key", client_key, KEY_PASSWORD),
        other_ca=_write_cert(d / "other-ca.pem", _cert("other CA", other_key, "other CA", other_key, ca=True)),
    )


@dataclass
class TlsListener:
    """Accepts TLS with a required client certificate and relays to `target`; records each verified client."""

    context: ssl.SSLContext
    target: str | None = None
    clients: list[str] = field(default_factory=list)  # subject CN of each verified client certificate
    refused: int = 0  # handshakes that failed (no or untrusted client certificate, client distrusts us)

    def __post_init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.1)
        self.port = self._listener.getsockname()[1]
        self._closed = threading.Event()
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                raw, _ = self._listener.accept()
            except TimeoutError:
                continue
            threading.Thread(target=self._serve, args=(raw,), daemon=True).start()

    def _serve(self, raw: socket.socket) -> None:
        raw.settimeout(5)
        try:
            tls = self.context.wrap_socket(raw, server_side=True)
        except (ssl.SSLError, OSError):
            self.refused += 1
            raw.close()
            return
        subject = dict(item[0] for item in tls.getpeercert()["subject"])
        self.clients.append(subject["commonName"])
        host, _, port = self.target.rpartition(":")
        upstream = socket.create_connection((host, int(port)), timeout=5)
        with self._lock:
            self._sockets += [tls, upstream]
        tls.settimeout(None)
        upstream.settimeout(None)
        for source, sink in ((tls, upstream), (upstream, tls)):
            threading.Thread(target=self._pipe, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def close(self) -> None:
        self._closed.set()
        self._thread.join()
        self._listener.close()
        with self._lock:
            for sock in self._sockets:
                sock.close()


@pytest.fixture(scope="module")
def tls_tansu(pki: Pki) -> Iterator[TlsListener]:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH, cafile=str(pki.ca))
    context.verify_mode = ssl.CERT_REQUIRED
    context.load_cert_chain(str(pki.server_cert), str(pki.server_key))
    listener = TlsListener(context)
    try:
        with devservers.tansu_broker(advertised_port=listener.port) as direct:
            listener.target = direct
            yield listener
    finally:
        listener.close()
