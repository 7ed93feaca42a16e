"""The worker's parts in-process: the App's contract, the chain from the spec, the JSON log lines, the probes, the
loading of `module:app` and the CLI's one-line errors (exit 2)."""

from __future__ import annotations

import io
import json
import logging
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from click.testing import CliRunner
from worker_helpers import ROOT, write_spec
from hypothesis import given, settings
from hypothesis import strategies as st
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from edakit.cli import main
from edakit.cli.worker import load_app
from edakit.runtime.adapters.base import DLQ_REASON_KEY, DeadLetterReason
from edakit.runtime.adapters.embedded import EmbeddedBroker
from edakit.runtime.message import Message
from edakit.runtime.middleware import compose, handle, tracing
from edakit.runtime.settings import SettingsError, consumer_settings
from edakit.runtime.worker import App, AppError, Worker
from edakit.runtime.worker.logs import JsonFormatter, context, log_context
from edakit.runtime.worker.probes import serve
from edakit.spec import SpecError, load_spec

PARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


@pytest.fixture
def spec(tmp_path: Path):  # noqa: ANN201 - a Spec
    path, _ = write_spec(tmp_path, grace=7, max_poll_records=10)
    return load_spec(path, root=ROOT)


@pytest.fixture
def broker(tmp_path: Path) -> EmbeddedBroker:
    return EmbeddedBroker(tmp_path / "broker.sqlite3", visibility_timeout=30)


def test_the_grace_period_comes_from_the_spec_and_must_be_positive(spec, tmp_path: Path) -> None:  # noqa: ANN001
    assert consumer_settings(spec, "billing").shutdown_grace_seconds == 7
    assert Worker(_app(spec, tmp_path)).grace_seconds == 7
    assert Worker(_app(spec, tmp_path), grace_seconds=1.5).grace_seconds == 1.5  # --grace overrides it
    default = load_spec(ROOT / "configs/order-events-kafka.yaml", "staging")
    assert consumer_settings(default, "billing").shutdown_grace_seconds == 25  # under Kubernetes' 30 s kill
    bad = tmp_path / "bad.yaml"
    bad.write_text(spec_text(tmp_path).replace("shutdown_grace_seconds: 7", "shutdown_grace_seconds: 0"))
    with pytest.raises(SpecError, match="shutdown_grace_seconds"):
        load_spec(bad, root=ROOT)


def spec_text(tmp_path: Path) -> str:
    return (tmp_path / "spec.yaml").read_text()


def _app(spec, tmp_path: Path) -> App:  # noqa: ANN001
    app = App(spec, EmbeddedBroker(tmp_path / "b.sqlite3"))
    app.subscriber("billing", lambda delivery: None)
    return app


def test_the_app_refuses_what_the_worker_could_not_run(spec, broker: EmbeddedBroker) -> None:  # noqa: ANN001
    app = App(spec, broker)
    with pytest.raises(AppError, match="declares no subscriber; add app.subscriber.*billing"):
        Worker(app)
    with pytest.raises(SettingsError, match=r"no subscriber 'biling'; the spec has billing"):
        app.subscriber("biling", print)
    app.subscriber("billing", print)
    with pytest.raises(AppError, match="declared twice"):
        app.subscriber("billing", print)
    for name in ("broker", "Orders DB", ""):
        with pytest.raises(AppError, match="readiness check"):
            app.readiness(name, lambda: None)


def test_the_chain_retries_by_the_spec_and_dead_letters_with_the_reason(spec, broker: EmbeddedBroker) -> None:  # noqa: ANN001
    app = App(spec, broker)
    attempts = []

    @app.subscriber("billing")
    def charge(delivery) -> None:  # noqa: ANN001
        attempts.append(delivery.attempt)
        logging.getLogger("service").warning("declined")
        raise ConnectionError("payment provider down")

    subscription = app.subscriptions["billing"]
    settings_ = subscription.settings
    subscriber = broker.subscriber(settings_.topic, settings_.group, visibility_timeout=0.05)
    sent = Message.new("OrderPlaced", b"{}", source="/orders", headers={"traceparent": PARENT})
    broker.publisher().publish(settings_.topic, [sent])
    chain = subscription.chain()
    while len(attempts) < settings_.retry.max_attempts:
        for delivery in subscriber.receive(1, timeout=2):
            handle(delivery, chain)
    [dead] = broker.dead_letter_subscriber(settings_.topic, settings_.group).receive(1, timeout=2)
    reason = DeadLetterReason.from_json(dead.metadata[DLQ_REASON_KEY])
    assert attempts == [1, 2, 3] and (reason.attempts, reason.error_type) == (3, "ConnectionError")


def test_log_lines_carry_message_id_trace_id_topic_and_subscriber() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    service = logging.getLogger("service.test")
    service.addHandler(handler)
    service.setLevel(logging.INFO)
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))

    def work(delivery) -> None:  # noqa: ANN001
        service.info("charging %s", "order o-1")
        try:
            raise ConnectionError("postgresql://app:s3cret@db/orders refused")
        except ConnectionError:
            service.exception("failed")

    class Delivery:
        message = Message.new("OrderPlaced", b"{}", source="/orders", headers={"traceparent": PARENT})
        attempt, source, metadata = 1, "orders", {}

    try:
        compose(work, log_context("billing", "orders"))(Delivery())  # API only: the message's trace id
        compose(work, tracing(tracer_provider=provider), log_context("billing", "orders"))(Delivery())  # SDK span
    finally:
        service.removeHandler(handler)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert len(lines) == 4
    for line in lines:
        assert (line["message_id"], line["trace_id"], line["topic"], line["subscriber"]) == (
            Delivery.message.id, "4bf92f3577b34da6a3ce929d0e0e4736", "orders", "billing")
    assert lines[0]["message"] == "charging order o-1" and lines[0]["level"] == "INFO"
    assert "ConnectionError" in lines[1]["error"] and "s3cret" not in stream.getvalue()  # redacted
    [span] = exporter.get_finished_spans()
    assert f"{span.context.trace_id:032x}" == lines[3]["trace_id"]


@settings(max_examples=100, deadline=None)
@given(message=st.text(max_size=200), extra=st.dictionaries(
    st.text(alphabet="abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=12).filter(lambda k: not k.startswith("_")),
    st.one_of(st.text(max_size=30), st.integers(), st.none(), st.lists(st.integers(), max_size=3)), max_size=4),
    subscriber=st.text(max_size=20))
def test_every_record_is_one_json_line_with_its_fields(message: str, extra: dict, subscriber: str) -> None:
    record = logging.makeLogRecord({"msg": message, "levelname": "INFO", "name": "x", **extra})
    with context(subscriber=subscriber, message_id="m-1"):
        line = JsonFormatter().format(record)
    assert "\n" not in line
    parsed = json.loads(line)
    assert (parsed["subscriber"], parsed["message_id"], parsed["level"]) == (subscriber, "m-1", "INFO")
    for key, value in extra.items():
        if key not in JsonFormatter._STANDARD:
            assert key in parsed


def _get(port: int, path: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_readyz_names_the_store_that_fails_and_healthz_the_loop_that_died(spec, broker: EmbeddedBroker) -> None:
    app = App(spec, broker)
    seen = []

    @app.subscriber("billing")
    def charge(delivery) -> None:  # noqa: ANN001
        seen.append(delivery.message.id)
        if delivery.message.type == "Fatal":
            raise SystemExit("handler called exit")  # not an Exception: the loop dies

    down = {"db": False}

    def orders_db() -> None:
        if down["db"]:
            raise ConnectionError("connection to postgresql://app:pw@db refused")

    app.readiness("orders-db", orders_db)
    worker = Worker(app, grace_seconds=2, poll_timeout=0.1)
    server, thread = serve(worker.probes(), "127.0.0.1", 0)
    port = server.server_port
    try:
        assert _get(port, "/readyz")[0] == 503  # not consuming yet
        worker.start()
        deadline = time.monotonic() + 5
        while _get(port, "/readyz")[0] != 200:
            assert time.monotonic() < deadline
            time.sleep(0.02)
        assert _get(port, "/readyz")[1]["checks"] == {"broker": "ok", "orders-db": "ok"}
        down["db"] = True
        status, body = _get(port, "/readyz")
        assert status == 503 and body["checks"]["orders-db"].startswith("ConnectionError")
        assert "pw@" not in json.dumps(body)
        topic = app.subscriptions["billing"].settings.topic
        broker.publisher().publish(topic, [Message.new("Fatal", b"{}", source="/orders")])
        deadline = time.monotonic() + 5
        while _get(port, "/healthz")[0] == 200:
            assert time.monotonic() < deadline
            time.sleep(0.02)
        assert _get(port, "/healthz") == (503, {"status": "a consume loop died"})
        worker.stop()
        assert worker.drain()  # the dead loop is done; nothing else was running
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
            assert b"python_info" in response.read()
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def test_load_app_says_in_one_line_what_is_wrong(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    root = logging.getLogger()
    monkeypatch.setattr(root, "handlers", list(root.handlers))  # the CLI installs its JSON handler on the root
    monkeypatch.setattr(root, "level", root.level)
    (tmp_path / "broken_svc.py").write_text("import nonexistent_dependency_xyz\n")
    (tmp_path / "wrong_svc.py").write_text("app = 42\n")
    (tmp_path / "raising_svc.py").write_text("raise RuntimeError('KAFKA_BOOTSTRAP not set')\n")
    cases = {
        "noattr": "expected module:attribute",
        "no_such_module_xyz:app": "no module 'no_such_module_xyz'",
        "broken_svc:app": "importing broken_svc failed: No module named 'nonexistent_dependency_xyz'",
        "wrong_svc:app": "expected wrong_svc.app to be an edakit.runtime.worker.App, found int",
        "wrong_svc:missing": "found nothing",
        "raising_svc:app": "RuntimeError: KAFKA_BOOTSTRAP not set",
    }
    try:
        for target, expected in cases.items():
            with pytest.raises(ValueError, match=expected):
                load_app(target)
            result = CliRunner().invoke(main, ["worker", "run", target, "--port", "0"])
            assert result.exit_code == 2, result.output
            [line] = result.output.strip().splitlines()[-1:]
            assert line.startswith("error: ") and expected.split(":")[0] in line and "Traceback" not in result.output
    finally:
        for name in ("broken_svc", "wrong_svc", "raising_svc"):
            sys.modules.pop(name, None)
