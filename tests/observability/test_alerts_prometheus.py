"""End to end with a real Prometheus (Debian's package): the generated rules, evaluated every second, scraping an
exporter this test controls. Lag above the spec's threshold -> ConsumerLagHigh reaches `firing` in /api/v1/alerts;
lag back to zero -> it resolves. Every query of the committed dashboards is accepted by the same server."""

from __future__ import annotations

import json
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry, Gauge, start_http_server

from edakit.devservers import free_port, prometheus_server
from edakit.observability import alerts
from edakit.observability import metrics_names as m

ROOT = Path(__file__).resolve().parents[2]
SPEC = """\
name: shop
broker: kafka
kafka: { bootstrap_servers: ["127.0.0.1:9092"] }
events:
  OrderPlaced: { schema: schemas/shop/v1/order-placed.avsc, version: 1 }
channels:
  order-placed: { events: [OrderPlaced] }
alerts: { lag_messages: 100, for_seconds: 2 }
subscribers:
  billing: { channel: order-placed }
environments:
  prod: {}
"""
TOPIC, GROUP = "shop-prod-order-placed", "shop-prod-billing"


def _get(base: str, path: str, **params: str) -> dict:
    url = f"{base}{path}" + (f"?{urllib.parse.urlencode(params)}" if params else "")
    with urllib.request.urlopen(url, timeout=5) as response:  # 127.0.0.1 only: the server this test started
        return json.load(response)


def _wait(what: str, check, timeout: float) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if (result := check()) is not None:
            return result
        time.sleep(0.2)
    raise AssertionError(f"{what} within {timeout}s")


@pytest.fixture(scope="module")
def lag() -> Iterator[tuple[Gauge, int]]:
    registry = CollectorRegistry()
    gauge = Gauge(m.CONSUMER_LAG_MESSAGES, "lag", [m.LABEL_BROKER, m.LABEL_TOPIC, m.LABEL_GROUP, m.LABEL_PARTITION],
                  registry=registry)
    success = Gauge(m.LAG_SCRAPE_SUCCESS, "scrape ok", [m.LABEL_TARGET], registry=registry)
    success.labels("kafka://127.0.0.1:9092").set(1)
    port = free_port()
    server, thread = start_http_server(port, addr="127.0.0.1", registry=registry)
    try:
        yield gauge, port
    finally:
        server.shutdown()
        thread.join(5)


@pytest.fixture(scope="module")
def prometheus(tmp_path_factory: pytest.TempPathFactory, lag: tuple[Gauge, int]) -> Iterator[str]:
    root = tmp_path_factory.mktemp("repo")
    (root / "pyproject.toml").write_text("[project]\nname = 'shop'\n")
    (root / "schemas" / "shop" / "v1").mkdir(parents=True)
    (root / "schemas" / "shop" / "v1" / "order-placed.avsc").write_text('{"type": "record", "name": "X", "fields": []}')
    (root / "configs").mkdir()
    (root / "configs" / "shop.yaml").write_text(SPEC)
    rules = root / "shop.rules.yml"
    rules.write_text(alerts.render_files(alerts.spec_sets(root))["alerts/shop.prod.rules.yml"])
    with prometheus_server([rules], [f"127.0.0.1:{lag[1]}"], eval_interval="1s") as url:
        _wait("Prometheus scraped the exporter", lambda: next(
            (r for r in _get(url, "/api/v1/query", query="up")["data"]["result"] if r["value"][1] == "1"), None), 20)
        yield url


def _lag_alert(url: str) -> dict | None:
    found = [a for a in _get(url, "/api/v1/alerts")["data"]["alerts"]
             if a["labels"]["alertname"] == "ConsumerLagHigh" and a["labels"]["subscriber"] == "billing"]
    return found[0] if found else None


@pytest.mark.slow
@pytest.mark.timeout(60)
def test_lag_alert_fires_in_prometheus_and_resolves(prometheus: str, lag: tuple[Gauge, int]) -> None:
    gauge, _ = lag
    for partition in ("0", "1"):
        gauge.labels("kafka", TOPIC, GROUP, partition).set(40)  # 80 in all: under the threshold of 100
    time.sleep(3)  # several evaluations past `for`
    assert _lag_alert(prometheus) is None

    gauge.labels("kafka", TOPIC, GROUP, "1").set(61)  # 101: one above it, over two partitions
    started = time.monotonic()
    firing = _wait("ConsumerLagHigh firing", lambda: a if (a := _lag_alert(prometheus)) and a["state"] == "firing"
                   else None, 20)
    assert time.monotonic() - started >= 1.5  # it waited out `for: 2s` (pending first)
    assert firing["labels"] | {"alertname": "ConsumerLagHigh"} == {
        "alertname": "ConsumerLagHigh", "severity": "warning", "spec": "shop", "environment": "prod",
        "subscriber": "billing", "channel": "order-placed", "broker": "kafka", "topic": TOPIC, "group": GROUP}
    assert float(firing["value"]) == 101
    assert firing["annotations"]["summary"] == "Subscriber billing of shop/prod is 101 messages behind"
    assert firing["annotations"]["runbook_url"] == "alerts/README.md#consumerlaghigh"

    for partition in ("0", "1"):
        gauge.labels("kafka", TOPIC, GROUP, partition).set(0)  # the group caught up
    _wait("ConsumerLagHigh resolved", lambda: True if _lag_alert(prometheus) is None else None, 20)


@pytest.mark.slow
def test_every_committed_dashboard_query_is_valid_promql(prometheus: str) -> None:
    queries = 0
    for path in sorted((ROOT / "dashboards").glob("*.json")):
        for panel in json.loads(path.read_text())["panels"]:
            for target in panel.get("targets", []):
                expr = target["expr"].replace("$__rate_interval", "1m")
                answer = _get(prometheus, "/api/v1/query", query=expr)
                assert answer["status"] == "success", (path.name, panel["title"], expr, answer)
                queries += 1
    assert queries > 50
