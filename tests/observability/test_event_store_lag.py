"""`edakit lag` and `edakit lag serve` for an event store: its relays' and a read model's projection's lag (events
behind the log head, oldest one's age) from the tracking records `edakit es positions` reads, on SQLite and
PostgreSQL; an unreachable or unusable store is exit 2 and one line."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st
from prometheus_client.parser import text_string_to_metric_families

from edakit.cli import main
from edakit.devservers import free_port
from edakit.es.orders import Orders, OrderSummaries
from edakit.es.projection import Projector, open_view
from edakit.es.relay import EventStoreRelay, Position
from edakit.es.store import store_env
from edakit.observability import metrics_names as m
from edakit.observability.exporter import LagExporter, Outcome, families, serve
from edakit.observability.lag import EventStoreCollector, FollowerLag, Report, followers
from edakit.runtime.adapters.embedded import EmbeddedBroker

ITEMS = [{"product_id": "p-1", "quantity": 1, "unit_price": 2.0}]


class _Acknowledging:
    """A publisher that takes every batch: these tests are about the positions the relay records."""

    def publish(self, topic, messages) -> None:  # type: ignore[no-untyped-def]
        pass

    def close(self) -> None:
        pass


def _lag(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["lag", *args])
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def store(tmp_path: Path) -> tuple[str, str]:
    """Three events; the relay has published two (one behind), the projection has applied all three."""
    url, query = f"sqlite:{tmp_path / 'events.db'}", f"sqlite:{tmp_path / 'query.db'}"
    app = Orders(env=store_env(url))
    first = app.place_order("c-1", ITEMS)
    app.place_order("c-2", ITEMS)
    app.pay_order(first, "pay-1")
    EventStoreRelay(app, EmbeddedBroker(tmp_path / "broker.db").publisher(), batch_size=2).run_once()
    Projector(app, open_view(OrderSummaries, query)).drain()
    app.close()
    return url, query


def test_lag_reports_the_relay_and_the_projection_as_json_and_table(store: tuple[str, str]) -> None:
    url, query = store
    code, out, err = _lag("--store", url, "--query", query, "--format", "json")
    assert code == 0, err
    [report] = json.loads(out)
    assert (report["kind"], report["target"], report["notes"]) == ("eventstore", url, [])
    relay, projection = report["followers"]
    assert {k: relay[k] for k in ("follower", "name", "position", "head", "events_behind")} == {
        "follower": "relay", "name": "relay", "position": 2, "head": 3, "events_behind": 1}
    assert 0 < relay["seconds_behind"] < 120  # the unpublished event was placed moments ago
    assert projection == {"follower": "projection", "name": "order_summaries", "position": 3, "head": 3,
                          "events_behind": 0, "seconds_behind": 0.0}
    code, out, _ = _lag("--store", url, "--query", query)
    lines = out.splitlines()
    assert code == 0 and lines[0] == f"eventstore {url}"
    assert lines[1].split() == ["FOLLOWER", "NAME", "POSITION", "HEAD", "EVENTS", "BEHIND", "SECONDS", "BEHIND"]
    assert lines[2].split()[:5] == ["relay", "relay", "2", "3", "1"]
    assert lines[3].split() == ["projection", "order_summaries", "3", "3", "0", "0.0"]


def test_a_store_no_follower_has_read_says_so(tmp_path: Path) -> None:
    url = f"sqlite:{tmp_path / 'events.db'}"
    Orders(env=store_env(url)).place_order("c-1", ITEMS)
    code, out, _ = _lag("--store", url, "--format", "json")
    [report] = json.loads(out)
    assert code == 0 and report["followers"] == []
    assert report["notes"] == ["no relay or projection has recorded a position in this store"]


def test_postgres_store_relay_and_projection(pg_url: str) -> None:
    app = Orders(env=store_env(pg_url))
    first = app.place_order("c-1", ITEMS)
    EventStoreRelay(app, _Acknowledging()).drain()
    Projector(app, open_view(OrderSummaries, pg_url)).drain()  # the query tables beside the store's
    app.pay_order(first, "pay-1")
    app.place_order("c-2", ITEMS)
    app.close()
    code, out, err = _lag("--store", pg_url, "--query", pg_url, "--format", "json")
    assert code == 0, err
    found = {(f["follower"], f["name"]): f for f in json.loads(out)[0]["followers"]}
    assert {k: (f["position"], f["head"], f["events_behind"]) for k, f in found.items()} == {
        ("relay", "relay"): (1, 3, 2), ("projection", "order_summaries"): (1, 3, 2)}
    assert all(0 < f["seconds_behind"] < 120 for f in found.values())


def test_serve_exports_relay_and_projection_lag_in_prometheus_names(store: tuple[str, str]) -> None:
    url, query = store
    exporter = LagExporter([EventStoreCollector(url, "edakit.es.orders:Orders", query,
                                                "edakit.es.orders:OrderSummaries")], scrape_timeout=5)
    server, port = serve(exporter, "127.0.0.1", 0)
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
            text = response.read().decode()
    finally:
        server.shutdown()  # type: ignore[attr-defined]
    samples = {(s.name, tuple(sorted(s.labels.items()))): s.value
               for family in text_string_to_metric_families(text) for s in family.samples}
    base = (("broker", "eventstore"), ("target", url))
    assert samples[(m.EVENT_STORE_RELAY_LAG_EVENTS, tuple(sorted(base + (("relay", "relay"),))))] == 1
    assert 0 < samples[(m.EVENT_STORE_RELAY_LAG_SECONDS, tuple(sorted(base + (("relay", "relay"),))))] < 120
    projection = tuple(sorted(base + (("projection", "order_summaries"),)))
    assert samples[(m.EVENT_STORE_PROJECTION_LAG_EVENTS, projection)] == 0
    assert samples[(m.EVENT_STORE_PROJECTION_LAG_SECONDS, projection)] == 0
    assert samples[(m.LAG_SCRAPE_SUCCESS, (("target", url),))] == 1


def _bad_cases(tmp: Path, store: tuple[str, str]) -> dict[str, list[str]]:
    url, query = store
    dead = free_port()
    empty = tmp / "empty.db"  # a database, but no event store in it
    sqlite3.connect(empty).execute("CREATE TABLE unrelated (x)").connection.close()
    return {
        "postgresql down": ["--store", f"postgresql://app:s3cr3t-pw@127.0.0.1:{dead}/orders"],
        "sqlite missing": ["--store", f"sqlite:{tmp / 'missing.db'}"],
        "query database missing": ["--store", url, "--query", f"sqlite:{tmp / 'missing-query.db'}"],
        "no event store in the database": ["--store", f"sqlite:{empty}"],
        "not a store url": ["--store", "mysql://127.0.0.1/orders"],
        "app not an application": ["--store", url, "--app", "os:path"],
        "model not a read model": ["--store", url, "--query", query, "--model", "edakit.es.orders:Orders"],
    }


REFUSED = ["postgresql down", "sqlite missing", "query database missing", "not a store url", "app not an application",
           "model not a read model"]  # refused by `lag` and at the start of `lag serve`


# A database that answers but holds no event store passes serve's start check (it is reachable): serve reports it
# as a failed scrape instead (test_serve_reports_a_store_without_tables_as_a_failed_scrape).
@pytest.mark.parametrize(("command", "name"), [(["lag"], n) for n in [*REFUSED, "no event store in the database"]]
                         + [(["lag", "serve", "--port", "0"], n) for n in REFUSED])
def test_an_unusable_store_is_one_line_and_exit_2(tmp_path: Path, store: tuple[str, str], name: str,
                                                   command: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EDAKIT_CONNECT_TIMEOUT", "1")
    args = _bad_cases(tmp_path, store)[name]
    started = time.monotonic()
    result = CliRunner().invoke(main, [*command, *args])
    assert result.exit_code == 2, (name, result.output)
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert "Traceback" not in result.stderr and "s3cr3t-pw" not in result.stderr
    assert time.monotonic() - started < 8


def test_serve_reports_a_store_without_tables_as_a_failed_scrape(tmp_path: Path) -> None:
    empty = tmp_path / "empty.db"
    sqlite3.connect(empty).execute("CREATE TABLE unrelated (x)").connection.close()
    [outcome] = LagExporter([EventStoreCollector(f"sqlite:{empty}", "edakit.es.orders:Orders")],
                            scrape_timeout=5).scrape()
    assert outcome.report is None and outcome.error and outcome.error.startswith(f"event store sqlite:{empty}: ")


NAMES = st.text(st.characters(codec="ascii", categories=["L", "N"], include_characters="_-."), min_size=1,
                max_size=12)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["relay:", "projection:", "other:", ""]), NAMES,
                          st.integers(0, 10**6), st.integers(0, 10**6), st.floats(0, 10**6)), max_size=6))
def test_every_relay_and_projection_record_is_one_gauge_pair_and_others_none(
        records: list[tuple[str, str, int, int, float]]) -> None:
    positions = [Position(prefix + name, at, at + behind, behind, seconds)
                 for prefix, name, at, behind, seconds in records]
    found = followers(positions)
    kept = [(prefix.rstrip(":"), name, behind, seconds) for prefix, name, _, behind, seconds in records
            if prefix in ("relay:", "projection:")]
    assert [(f.follower, f.name, f.events_behind, f.seconds_behind) for f in found] == kept
    report = Report("eventstore", "sqlite:x", followers=found)
    samples = [(family.name, s.labels, s.value) for family in families([Outcome("sqlite:x", report, 0.0, None)])
               for s in family.samples if family.name.startswith("edakit_event_store_")]
    expected = []
    for follower, name, behind, seconds in kept:
        label = m.LABEL_RELAY if follower == "relay" else m.LABEL_PROJECTION
        prefix = f"edakit_event_store_{follower}_lag_"
        labels = {"broker": "eventstore", "target": "sqlite:x", label: name}
        expected += [(prefix + "events", labels, behind), (prefix + "seconds", labels, seconds)]
    assert sorted(samples, key=repr) == sorted(expected, key=repr)


def test_follower_lag_is_what_lag_json_prints() -> None:
    lag = FollowerLag("relay", "relay", 2, 3, 1, 0.5)
    assert Report("eventstore", "sqlite:x", followers=[lag]).to_json()["followers"] == [
        {"follower": "relay", "name": "relay", "position": 2, "head": 3, "events_behind": 1, "seconds_behind": 0.5}]


def test_committed_kit_rule_tests_pass_in_promtool_and_cover_the_event_store_rules() -> None:
    root = Path(__file__).resolve().parents[2]
    tests = (root / "alerts" / "tests" / "edakit.test.yml").read_text()
    for alert in ("EventStoreRelayLagging", "ProjectionLagging"):
        assert tests.count(f"alertname: {alert}") == 2, alert  # a firing and a calm case each
    done = subprocess.run(["promtool", "test", "rules", "edakit.test.yml"], cwd=root / "alerts" / "tests",
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
