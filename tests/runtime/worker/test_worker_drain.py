"""`edakit worker run` as a subprocess under load: SIGTERM mid-load loses nothing, handles nothing twice, commits
offsets and exits within the spec's grace period (Kafka on Tansu); the embedded broker shows the probes during a
drain and a grace period that runs out."""

from __future__ import annotations

import json
import time
from datetime import datetime, timezone
import urllib.error
import urllib.request
from pathlib import Path

from worker_helpers import ROOT, write_spec

from edakit.runtime.adapters.embedded import EmbeddedBroker
from edakit.runtime.adapters.kafka import KafkaBroker
from edakit.runtime.message import Message
from edakit.runtime.settings import consumer_settings
from edakit.spec import load_spec

TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-{span}-01"


def orders(count: int) -> list[Message]:
    return [Message.new("OrderPlaced", b'{"n": %d}' % n, source="/orders", key=f"o-{n % 17}",
                        headers={"traceparent": TRACEPARENT.format(span=f"{n + 1:016x}")}) for n in range(count)]


def get(port: int, path: str) -> tuple[int, dict | str]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as response:
            body = response.read().decode()
            status = response.status
    except urllib.error.HTTPError as exc:
        body, status = exc.read().decode(), exc.code
    return status, (json.loads(body) if body.startswith("{") else body)


def test_sigterm_under_load_on_kafka_loses_nothing_handles_nothing_twice_and_commits(
        tansu_bootstrap: str, tmp_path: Path, start_worker) -> None:  # noqa: ANN001 - fixture factory
    spec_file, topic = write_spec(tmp_path, grace=5, max_poll_records=50)
    settings = consumer_settings(load_spec(spec_file, root=ROOT), "billing")
    broker = KafkaBroker(tansu_bootstrap, retry_topic_count=settings.retry_topic_count, create_missing_topics=True)
    broker.create_topics([topic, f"{topic}.billing.retry.1", f"{topic}.billing.retry.2", f"{topic}.billing.dlq"])
    sent = orders(600)
    publisher = broker.publisher()
    publisher.publish(topic, sent)
    publisher.close()
    env = {"WORKER_BROKER": "kafka", "WORKER_BOOTSTRAP": tansu_bootstrap, "HANDLE_SECONDS": "0.002"}

    # The SIGTERM comes while the first run handles its 120th message: a batch is in hand, not between batches.
    first = start_worker(tmp_path, spec_file, tmp_path / "first.txt", SIGTERM_AT="120", **env)
    code = first.proc.wait(30)
    exited = datetime.now(timezone.utc)
    first.reader.join(5)
    first_ids = first.handled()
    [signalled] = first.logged("SIGTERM: draining")
    [drained] = first.logged("drained in")
    took = (exited - datetime.fromisoformat(signalled["time"])).total_seconds()
    assert code == 0 and took < settings.shutdown_grace_seconds, (code, took, first.lines[-3:])
    assert signalled["in_hand"]["billing"] >= 1  # the window was hit: messages were received and not yet handled
    assert 120 <= len(first_ids) == len(set(first_ids)) < len(sent)  # none twice; stopped before the end
    assert drained["handled"] == {"billing": len(first_ids)}  # every message handed to it was handled and settled

    second = start_worker(tmp_path, spec_file, tmp_path / "second.txt", **env)
    second.wait_handled(len(sent) - len(first_ids), timeout=30)
    time.sleep(0.3)  # anything the first run failed to commit would come again now
    code, _ = second.terminate()
    second_ids = second.handled()
    assert code == 0
    assert len(second_ids) == len(set(second_ids))
    assert not set(first_ids) & set(second_ids)  # the first run committed what it handled
    assert sorted(first_ids + second_ids) == sorted(m.id for m in sent)  # 0 lost
    assert not [line for line in first.lines + second.lines if "not_json" in line]
    [line] = [line for line in first.lines if line.get("message") == "charged"][:1]
    message = next(m for m in sent if m.id == line["message_id"])
    assert (line["trace_id"], line["topic"], line["subscriber"]) == (
        message.headers["traceparent"].split("-")[1], topic, "billing")


def test_probes_during_a_drain_and_a_grace_period_that_runs_out(tmp_path: Path, start_worker) -> None:  # noqa: ANN001
    spec_file, topic = write_spec(tmp_path, grace=1, max_poll_records=5)
    settings = consumer_settings(load_spec(spec_file, root=ROOT), "billing")
    broker = EmbeddedBroker(tmp_path / "broker.sqlite3")
    broker.create_group(topic, settings.group)
    sent = orders(5)
    broker.publisher().publish(topic, sent)
    worker = start_worker(tmp_path, spec_file, tmp_path / "out.txt", WORKER_BROKER="embedded",
                          WORKER_DB=str(tmp_path / "broker.sqlite3"), WORKER_VT="1", HANDLE_SECONDS="0.8")
    deadline = time.monotonic() + 10
    while get(worker.port, "/readyz")[0] != 200:
        assert time.monotonic() < deadline, worker.lines
        time.sleep(0.05)
    assert get(worker.port, "/readyz")[1] == {"status": "ready", "checks": {"broker": "ok"}}
    assert get(worker.port, "/healthz") == (200, {"status": "alive"})
    worker.wait_handled(1, timeout=10)
    status, metrics = get(worker.port, "/metrics")  # the kit's OpenTelemetry consumer metrics, as Prometheus reads
    consumed = [line for line in metrics.splitlines() if line.startswith("messaging_client_consumed_messages_total")]
    assert status == 200 and consumed and f'messaging_consumer_group_name="{settings.group}"' in consumed[0]
    worker.proc.send_signal(15)
    sent_at = time.monotonic()
    time.sleep(0.2)
    assert get(worker.port, "/readyz")[0] == 503  # draining: take no more traffic
    assert get(worker.port, "/healthz")[0] == 200  # but alive: do not kill it yet
    code = worker.proc.wait(10)
    took = time.monotonic() - sent_at
    worker.reader.join(5)
    assert code == 1 and 1.0 <= took < 2.0, (code, took)  # gave up at the grace period, not later
    assert worker.logged("grace period of 1s over")
    handled = worker.handled()
    assert len(handled) < len(sent)
    # What it had not settled was redelivered (visibility timeout 1 s), none of what it had settled.
    time.sleep(1.1)
    rest = broker.subscriber(topic, settings.group).receive(10, timeout=2)
    assert sorted(d.message.id for d in rest) == sorted(m.id for m in sent if m.id not in handled)


def test_a_second_signal_exits_at_once(tmp_path: Path, start_worker) -> None:  # noqa: ANN001
    spec_file, topic = write_spec(tmp_path, grace=20)
    broker = EmbeddedBroker(tmp_path / "broker.sqlite3")
    broker.create_group(topic, consumer_settings(load_spec(spec_file, root=ROOT), "billing").group)
    broker.publisher().publish(topic, orders(3))
    worker = start_worker(tmp_path, spec_file, tmp_path / "out.txt", WORKER_BROKER="embedded",
                          WORKER_DB=str(tmp_path / "broker.sqlite3"), HANDLE_SECONDS="10", SIGTERM_AT="1")
    # the first SIGTERM comes from inside the first message's handler, so the drain surely has a message in hand
    # (signalled from outside, a drain with nothing in hand could end before the second signal arrived)
    deadline = time.monotonic() + 10
    while not worker.logged("draining"):
        assert time.monotonic() < deadline, worker.lines
        time.sleep(0.02)
    time.sleep(0.2)
    sent_at = time.monotonic()
    worker.proc.send_signal(15)
    assert worker.proc.wait(5) == 1 and time.monotonic() - sent_at < 1.0
