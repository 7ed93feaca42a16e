"""Issue 11 item 4: a `dlq` or `outbox` command that cannot reach its broker or database fails with exit 2 and one
line on stderr (no traceback, no empty table), within its connect timeout; against the running servers the same
check passes (`check_reachable` per adapter, `check_database`)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner

from edakit.cli import main
from edakit.cli.dlq import dlq as dlq_cli
from edakit.devservers import free_port
from edakit.runtime.adapters.base import BrokerUnreachable, DeadLetterReason
from edakit.runtime.adapters.embedded import EmbeddedBroker
from edakit.runtime.adapters.kafka import KafkaBroker
from edakit.runtime.adapters.pubsub import PubSubBroker
from edakit.runtime.adapters.sqs_sns import SqsSnsBroker
from edakit.runtime.adapters.urls import (BrokerUrlError, DatabaseUnreachable, check_database, connect_broker,
                                          open_broker)
from edakit.runtime.message import Message

EDAKIT = [str(Path(sys.executable).parent / "edakit")]
CONNECT_TIMEOUT = 1.0  # EDAKIT_CONNECT_TIMEOUT for the commands below: what bounds each run
ENV = {**os.environ, "EDAKIT_CONNECT_TIMEOUT": str(CONNECT_TIMEOUT), "AWS_DEFAULT_REGION": "eu-west-1",
       "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
DLQ = ["--topic", "orders", "--group", "billing"]


def _dead_port() -> int:
    return free_port()  # bound, then released: nothing listens there


def _cases(tmp: Path) -> dict[str, list[str]]:
    kafka, sqs, pubsub = (f"kafka://127.0.0.1:{_dead_port()}", f"sqs:http://127.0.0.1:{_dead_port()}",
                          f"pubsub://127.0.0.1:{_dead_port()}/edakit-test")
    outbox = tmp / "outbox.db"
    subprocess.run([*EDAKIT, "outbox", "init", "--db", f"sqlite:{outbox}"], env=ENV, check=True,
                   capture_output=True)
    not_a_db = tmp / "not-a-db"
    not_a_db.write_bytes(b"this is not an SQLite file" * 100)
    pg = f"postgresql://app:s3cr3t-pw@127.0.0.1:{_dead_port()}/orders"
    return {
        "dlq ls kafka (port 1)": ["dlq", "ls", "--broker", "kafka://127.0.0.1:1", *DLQ],
        "dlq ls kafka": ["dlq", "ls", "--broker", kafka, *DLQ, "--format", "json"],
        "dlq show kafka": ["dlq", "show", "--broker", kafka, *DLQ, "some-id"],
        "dlq replay kafka": ["dlq", "replay", "--broker", kafka, *DLQ],
        "dlq purge kafka": ["dlq", "purge", "--broker", kafka, *DLQ, "--dry-run"],
        "dlq ls sqs": ["dlq", "ls", "--broker", sqs, *DLQ],
        "dlq replay sqs": ["dlq", "replay", "--broker", sqs, *DLQ],
        "dlq ls pubsub": ["dlq", "ls", "--broker", pubsub, *DLQ],
        "dlq purge pubsub": ["dlq", "purge", "--broker", pubsub, *DLQ],
        "dlq ls embedded, not a database": ["dlq", "ls", "--broker", f"embedded:{not_a_db}", *DLQ],
        "dlq ls embedded, missing": ["dlq", "ls", "--broker", f"embedded:{tmp / 'missing.db'}", *DLQ],
        "outbox lag postgresql": ["outbox", "lag", "--db", pg],
        "outbox init postgresql": ["outbox", "init", "--db", pg],
        "outbox relay postgresql": ["outbox", "relay", "--db", pg, "--broker", kafka, "--until-empty"],
        "outbox lag sqlite, missing": ["outbox", "lag", "--db", f"sqlite:{tmp / 'missing.db'}"],
        "outbox lag sqlite, not a database": ["outbox", "lag", "--db", f"sqlite:{not_a_db}"],
        "outbox relay, kafka down": ["outbox", "relay", "--db", f"sqlite:{outbox}", "--broker", kafka, "--until-empty"],
        "outbox relay, sqs down": ["outbox", "relay", "--db", f"sqlite:{outbox}", "--broker", sqs, "--until-empty"],
        "outbox relay, pubsub down": ["outbox", "relay", "--db", f"sqlite:{outbox}", "--broker", pubsub,
                                      "--until-empty"],
    }


# Run in this process (one import of the kit); two go through a real process, where librdkafka's own log lines
# would land on the same stderr.
IN_A_PROCESS = {"dlq ls kafka (port 1)", "outbox relay, kafka down"}


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[int, str, str, float]]:
    """name -> (exit code, stdout, stderr, seconds); the process runs go in parallel with the in-process ones."""
    cases = _cases(tmp_path_factory.mktemp("unreachable"))

    def run(args: list[str]) -> tuple[int, str, str, float]:
        started = time.monotonic()
        done = subprocess.run([*EDAKIT, *args], env=ENV, capture_output=True, text=True, timeout=60)
        return done.returncode, done.stdout, done.stderr, time.monotonic() - started

    results: dict[str, tuple[int, str, str, float]] = {}
    with ThreadPoolExecutor(max_workers=len(IN_A_PROCESS)) as pool:
        futures = {name: pool.submit(run, cases[name]) for name in IN_A_PROCESS}
        with pytest.MonkeyPatch.context() as patch:
            for key in ("EDAKIT_CONNECT_TIMEOUT", "AWS_DEFAULT_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
                patch.setenv(key, ENV[key])
            for name, args in cases.items():
                if name not in IN_A_PROCESS:
                    started = time.monotonic()
                    result = CliRunner().invoke(main, args)
                    results[name] = (result.exit_code, result.stdout, result.stderr, time.monotonic() - started)
        results |= {name: future.result() for name, future in futures.items()}
    return results


@pytest.mark.parametrize("name", [
    "dlq ls kafka (port 1)", "dlq ls kafka", "dlq show kafka", "dlq replay kafka", "dlq purge kafka", "dlq ls sqs",
    "dlq replay sqs", "dlq ls pubsub", "dlq purge pubsub", "dlq ls embedded, not a database",
    "dlq ls embedded, missing", "outbox lag postgresql", "outbox init postgresql", "outbox relay postgresql",
    "outbox lag sqlite, missing", "outbox lag sqlite, not a database", "outbox relay, kafka down",
    "outbox relay, sqs down", "outbox relay, pubsub down",
])
def test_an_unreachable_broker_or_database_is_one_line_and_exit_2(runs, name: str) -> None:
    code, out, err, seconds = runs[name]
    assert code == 2, (name, out, err)
    assert out == ""  # no table, no "[]": nothing is reported as empty
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert "Traceback" not in err and "s3cr3t-pw" not in err
    assert seconds < CONNECT_TIMEOUT + 10  # bounded by the connect timeout (plus start-up on a busy machine)


def test_the_line_names_what_failed(runs) -> None:
    assert "Kafka 127.0.0.1:1: no broker answered within 1 s" in runs["dlq ls kafka (port 1)"][2]
    assert "SQS http://127.0.0.1:" in runs["dlq ls sqs"][2]
    assert "Pub/Sub project edakit-test (emulator 127.0.0.1:" in runs["dlq ls pubsub"][2]
    assert "postgresql://app:***@127.0.0.1:" in runs["outbox lag postgresql"][2]
    assert "does not exist" in runs["outbox lag sqlite, missing"][2]
    assert "not a database" in runs["outbox lag sqlite, not a database"][2]


def test_sqs_without_a_region_is_one_line(tmp_path: Path) -> None:
    env = {k: v for k, v in ENV.items() if k not in ("AWS_DEFAULT_REGION", "AWS_REGION")}
    env |= {"AWS_CONFIG_FILE": str(tmp_path / "none"), "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none")}
    done = subprocess.run([*EDAKIT, "dlq", "ls", "--broker", "sqs:", *DLQ], env=env, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 2 and done.stderr.splitlines() == [
        "error: broker 'sqs:': no AWS region; set AWS_REGION (or AWS_DEFAULT_REGION, or region in ~/.aws/config)"]


def test_a_bad_connect_timeout_setting_is_an_error(monkeypatch) -> None:
    monkeypatch.setenv("EDAKIT_CONNECT_TIMEOUT", "soon")
    with pytest.raises(BrokerUrlError, match="EDAKIT_CONNECT_TIMEOUT"):
        connect_broker("kafka://127.0.0.1:1")


# The same check against the real servers: it passes, and the commands still work.

def test_check_reachable_passes_on_running_brokers(tansu_bootstrap, moto_url, pstest_host, tmp_path: Path,
                                                   monkeypatch) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    EmbeddedBroker(tmp_path / "b.db")
    for url in (f"kafka://{tansu_bootstrap}", f"sqs:{moto_url}", f"pubsub://{pstest_host}/edakit-test",
                f"embedded:{tmp_path / 'b.db'}"):
        started = time.monotonic()
        connect_broker(url, timeout=5)
        assert time.monotonic() - started < 5, url
    assert isinstance(open_broker(f"pubsub://{pstest_host}/p"), PubSubBroker)
    assert isinstance(open_broker("pubsub:my-project"), PubSubBroker)


def test_check_reachable_raises_per_adapter(monkeypatch) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    port = _dead_port()
    for broker in (KafkaBroker(f"127.0.0.1:{port}"), SqsSnsBroker(endpoint_url=f"http://127.0.0.1:{port}"),
                   PubSubBroker("p", emulator_host=f"127.0.0.1:{port}")):
        started = time.monotonic()
        with pytest.raises(BrokerUnreachable):
            broker.check_reachable(1.0)
        assert time.monotonic() - started < 5, broker


def test_check_database(pg_url: str, tmp_path: Path) -> None:
    check_database(pg_url, 5)
    with pytest.raises(DatabaseUnreachable, match="does not exist"):
        check_database(f"sqlite:{tmp_path / 'x.db'}", 5)
    check_database(f"sqlite:{tmp_path / 'x.db'}", 5, must_exist=False)  # `outbox init` creates it



def test_dlq_ls_on_pubsub_lists_what_was_dead_lettered(pstest_host: str) -> None:
    topic, group = f"t{uuid.uuid4().hex[:10]}", "billing"
    broker = PubSubBroker("edakit-test", create_missing=True, emulator_host=pstest_host)
    subscriber = broker.subscriber(topic, group)
    message = Message.new("com.example.order.placed", b'{"n": 1}', source="/orders")
    broker.publisher().publish(topic, [message])
    deliveries = []
    for _ in range(20):
        deliveries += subscriber.receive(1, timeout=1)
        if deliveries:
            break
    now = datetime.now(timezone.utc)
    deliveries[0].dead_letter(DeadLetterReason("ValueError", "bad order", 1, now, now, topic))
    subscriber.close()
    result = CliRunner().invoke(dlq_cli, ["ls", "--broker", f"pubsub://{pstest_host}/edakit-test", "--topic", topic,
                                          "--group", group, "--format", "json"])
    assert result.exit_code == 0, result.output
    [letter] = json.loads(result.output)
    assert (letter["id"], letter["error_type"], letter["error_message"]) == (message.id, "ValueError", "bad order")


def test_an_error_answer_still_counts_as_reachable(monkeypatch) -> None:
    """SQS: an endpoint that answers, even AccessDenied, is there (a listing may still fail later, with its own
    error); only no answer is BrokerUnreachable."""
    import http.server
    import threading

    class Denies(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            body = (b'<?xml version="1.0"?><ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code>'
                    b"<Message>denied</Message></Error><RequestId>1</RequestId></ErrorResponse>")
            self.send_response(403)
            self.send_header("Content-Type", "text/xml")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Denies)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        for key, value in (("AWS_DEFAULT_REGION", "eu-west-1"), ("AWS_ACCESS_KEY_ID", "testing"),
                           ("AWS_SECRET_ACCESS_KEY", "testing")):
            monkeypatch.setenv(key, value)
        SqsSnsBroker(endpoint_url=f"http://127.0.0.1:{server.server_address[1]}").check_reachable(2)
    finally:
        server.shutdown()
        server.server_close()


def test_pubsub_without_credentials_is_unreachable(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(tmp_path / "no-such-key.json"))
    with pytest.raises(BrokerUnreachable, match="Pub/Sub project my-project .pubsub.googleapis.com.: File .* was not"):
        connect_broker("pubsub:my-project", timeout=2)


def test_sqs_without_credentials_is_unreachable(monkeypatch, tmp_path: Path) -> None:
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    with pytest.raises(BrokerUnreachable, match="SQS region eu-west-1: Unable to locate credentials"):
        connect_broker("sqs:", timeout=2)


def test_the_dlq_library_never_reads_an_unreachable_broker_as_empty() -> None:
    from edakit.runtime.dlq import DeadLetterQueue, Selection

    q = DeadLetterQueue(KafkaBroker(f"127.0.0.1:{_dead_port()}"), "orders", "billing", wait=0.1, reachable_timeout=1)
    for operation in (q.list, lambda: q.purge(Selection(), dry_run=True)):
        with pytest.raises(BrokerUnreachable):
            operation()
