"""Worker test helpers: a small spec per test (its own topic names on the shared brokers) and `edakit worker run`
as a subprocess whose JSON log lines are collected while it runs (the `start_worker` fixture in conftest.py)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
EDAKIT = Path(sys.executable).with_name("edakit")

# The service module the subprocess runs: its broker from the environment, a handler that records each message id
# (one line, flushed: a line is on disk before the message is settled) after HANDLE_SECONDS of "work".
SERVICE = textwrap.dedent('''
    import logging, os, signal, time
    from pathlib import Path

    from edakit.runtime.worker import App
    from edakit.spec import load_spec

    spec = load_spec(os.environ["WORKER_SPEC"], root=Path(os.environ["WORKER_ROOT"]))
    if os.environ["WORKER_BROKER"] == "kafka":
        from edakit.runtime.adapters.kafka import KafkaBroker
        broker = KafkaBroker(os.environ["WORKER_BOOTSTRAP"], retry_topic_count=2, partitions=3,
                             consumer_config={"session.timeout.ms": 6000, "heartbeat.interval.ms": 500})
    else:
        from edakit.runtime.adapters.embedded import EmbeddedBroker
        broker = EmbeddedBroker(os.environ["WORKER_DB"], visibility_timeout=float(os.environ.get("WORKER_VT", "30")))
    app = App(spec, broker)
    handled = open(os.environ["WORKER_OUT"], "a", buffering=1)
    pause = float(os.environ.get("HANDLE_SECONDS", "0.004"))
    sigterm_at = int(os.environ.get("SIGTERM_AT", "0"))  # the platform's SIGTERM, while this message is in hand
    count = 0
    log = logging.getLogger("service")

    @app.subscriber("billing")
    def charge(delivery):
        global count
        count += 1
        if count == sigterm_at:
            os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(pause)
        handled.write(delivery.message.id + "\\n")
        log.info("charged")

    if os.environ.get("WORKER_STORE_DOWN"):
        app.readiness("orders-db", lambda: (_ for _ in ()).throw(ConnectionError("orders-db refused")))
''')


def write_spec(directory: Path, *, grace: int = 5, max_poll_records: int = 50) -> tuple[Path, str]:
    """A one-subscriber Kafka spec with a unique name; returns its path and the subscriber's topic."""
    name = f"w{uuid.uuid4().hex[:8]}"
    spec = directory / "spec.yaml"
    spec.write_text(textwrap.dedent(f"""
        name: {name}
        broker: kafka
        kafka:
          bootstrap_servers: ["127.0.0.1:9092"]
        consumer:
          max_poll_records: {max_poll_records}
          processing_timeout_seconds: 10
          shutdown_grace_seconds: {grace}
        events:
          OrderPlaced:
            schema: schemas/order-events/v1/order-placed.avsc
            version: 1
        channels:
          orders:
            events: [OrderPlaced]
        subscribers:
          billing:
            channel: orders
            retry:  # redeliver at once: the tests do not wait out backoffs
              min_backoff_seconds: 0
              max_backoff_seconds: 0
            dlq:
              max_receive_count: 3
            kafka:
              consumer_group: billing
    """))
    return spec, f"{name}-orders"


@dataclass
class WorkerProcess:
    proc: subprocess.Popen
    port: int
    out: Path
    lines: list[dict] = field(default_factory=list)
    reader: threading.Thread | None = None

    def handled(self) -> list[str]:
        return self.out.read_text().split() if self.out.exists() else []

    def wait_handled(self, count: int, timeout: float) -> list[str]:
        deadline = time.monotonic() + timeout
        while len(ids := self.handled()) < count:
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise AssertionError(f"handled {len(ids)} of {count}; exit {self.proc.poll()}; log {self.lines[-5:]}")
            time.sleep(0.02)
        return ids

    def terminate(self) -> tuple[int, float]:
        """SIGTERM; the exit code and the seconds until the process was gone."""
        sent = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(30)
        took = time.monotonic() - sent
        if self.reader is not None:
            self.reader.join(5)
        return code, took

    def logged(self, message: str) -> list[dict]:
        return [line for line in self.lines if message in line.get("message", "")]


def write_push_spec(directory: Path, *, grace: int = 2) -> tuple[Path, str]:
    """A Pub/Sub spec with one push subscriber `email` (endpoint path /pubsub/push) and one pull subscriber."""
    name = f"p{uuid.uuid4().hex[:8]}"
    spec = directory / "push-spec.yaml"
    spec.write_text(textwrap.dedent(f"""
        name: {name}
        broker: pubsub
        pubsub:
          project_id: edakit-worker
          location: europe-west1
        consumer:
          shutdown_grace_seconds: {grace}
        events:
          OrderPlaced:
            schema: schemas/order-events/v1/order-placed.avsc
            version: 1
        channels:
          orders:
            events: [OrderPlaced]
        subscribers:
          email:
            channel: orders
            pubsub:
              push:
                endpoint: https://email.example.com/pubsub/push
                oidc_service_account_email: push@edakit-worker.iam.gserviceaccount.com
          audit:
            channel: orders
    """))
    return spec, f"{name}-orders"
