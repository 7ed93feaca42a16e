"""`edakit es`: streams, events, positions with lag, rebuild; bad input is one line and exit 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from edakit.cli import main
from edakit.es.orders import Orders
from edakit.es.projection import Projector, open_view
from edakit.es.orders import OrderSummaries
from edakit.es.relay import EventStoreRelay
from edakit.es.store import store_env
from edakit.runtime.adapters.embedded import EmbeddedBroker

ITEMS = [{"product_id": "p-1", "quantity": 1, "unit_price": 2.0}]


def _run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["es", *args])
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def store(tmp_path: Path) -> tuple[str, list]:
    url = f"sqlite:{tmp_path / 'events.db'}"
    app = Orders(env=store_env(url))
    first, second = app.place_order("c-1", ITEMS), app.place_order("c-2", ITEMS)
    app.pay_order(first, "pay-1")
    relay = EventStoreRelay(app, EmbeddedBroker(tmp_path / "broker.db").publisher(), batch_size=2)
    relay.run_once()  # the relay is 1 event behind
    Projector(app, open_view(OrderSummaries, f"sqlite:{tmp_path / 'query.db'}")).drain()
    return url, [first, second]


def test_streams_and_events(store) -> None:
    url, (first, second) = store
    code, out, _ = _run("streams", "--store", url, "--format", "json")
    assert code == 0 and [(s["stream"], s["events"], s["version"]) for s in json.loads(out)] == [
        (str(first), 2, 2), (str(second), 1, 1)]
    code, out, _ = _run("events", str(first), "--store", url, "--format", "json")
    found = json.loads(out)
    assert code == 0 and [(e["version"], e["event"], e["schema_version"]) for e in found] == [
        (1, "order-events/order-placed", 2), (2, "order-events/order-paid", 1)]
    assert found[1]["payload"]["payment_id"] == "pay-1"
    code, out, _ = _run("events", str(first), "--store", url)
    assert code == 0 and out.splitlines()[1].startswith("v2  order-events/order-paid v1  {")


def test_positions_report_relay_and_projection_lag(store, tmp_path: Path) -> None:
    url, _ = store
    code, out, _ = _run("positions", "--store", url, "--query", f"sqlite:{tmp_path / 'query.db'}", "--format", "json")
    [relay, projection] = json.loads(out)
    assert code == 0
    assert {k: relay[k] for k in ("name", "position", "head", "events_behind")} == {
        "name": "relay:relay", "position": 2, "head": 3, "events_behind": 1}
    assert relay["seconds_behind"] >= 0
    assert projection == {"name": "projection:order_summaries", "position": 3, "head": 3, "events_behind": 0,
                          "seconds_behind": 0.0}


def test_rebuild_from_the_cli(store, tmp_path: Path) -> None:
    url, _ = store
    code, out, _ = _run("rebuild", "--store", url, "--query", f"sqlite:{tmp_path / 'fresh.db'}", "--format", "json")
    assert code == 0 and json.loads(out) == {"model": "order_summaries", "events": 3, "position": 3}


def test_streams_and_positions_on_postgres(pg_url) -> None:
    app = Orders(env=store_env(pg_url))
    app.place_order("c-1", ITEMS)
    code, out, _ = _run("positions", "--store", pg_url, "--format", "json")
    assert code == 0 and json.loads(out) == []
    code, out, _ = _run("streams", "--store", pg_url, "--format", "json")
    assert code == 0 and [(s["events"], s["version"], s["first"]) for s in json.loads(out)] == [(1, 1, 1)]
    EventStoreRelay(app, _NullPublisher()).drain()
    code, out, _ = _run("positions", "--store", pg_url, "--format", "json")
    assert code == 0 and [(p["name"], p["position"], p["events_behind"]) for p in json.loads(out)] == [
        ("relay:relay", 1, 0)]


class _NullPublisher:
    """Acknowledges everything: this test is about the positions the CLI reads."""

    def publish(self, topic, messages) -> None:  # type: ignore[no-untyped-def]
        pass

    def close(self) -> None:
        pass


@pytest.mark.parametrize(("args", "message"), [
    (["events", "not-a-uuid"], "error: stream 'not-a-uuid': expected an aggregate id (a UUID)"),
    (["events", "00000000-0000-0000-0000-000000000001"],
     "error: stream 00000000-0000-0000-0000-000000000001: no events in this store"),
    (["streams", "--app", "os:path"], "error: --app 'os:path': expected a subclass of SchemaApplication"),
    (["streams", "--app", "nonsense"], "error: --app 'nonsense': expected module:Class"),
    (["positions", "--query", "sqlite:/nonexistent/q.db"],
     "error: --query: database sqlite:/nonexistent/q.db: SQLite database /nonexistent/q.db does not exist"),
    (["positions", "--query", "sqlite:QUERY", "--model", "edakit.es.orders:Orders"],
     "error: --model 'edakit.es.orders:Orders': expected a subclass of ReadModel"),
])
def test_bad_input_is_one_line_and_exit_2(store, tmp_path: Path, args: list[str], message: str) -> None:
    url, _ = store
    args = [a.replace("QUERY", str(tmp_path / "query.db")) for a in args]
    code, out, err = _run(*args, "--store", url)
    assert (code, out, err) == (2, "", message + "\n")


@pytest.mark.parametrize(("store_url", "message"), [
    ("mysql://x", "error: --store: store 'mysql://x': expected sqlite:PATH or postgresql://... (a libpq URL with "
                  "host, user and dbname)"),
    ("sqlite:/nonexistent/e.db", "error: --store: database sqlite:/nonexistent/e.db: SQLite database "
                                 "/nonexistent/e.db does not exist"),
])
def test_a_store_that_cannot_be_opened_is_one_line_and_exit_2(store_url: str, message: str) -> None:
    code, out, err = _run("streams", "--store", store_url)
    assert (code, out, err) == (2, "", message + "\n")
