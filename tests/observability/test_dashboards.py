"""Grafana dashboards from the spec: one per spec, a row per environment with the event-flow panels, each
subscriber's lag and DLQ drawn from the same series its alerts fire on; committed files current."""

from __future__ import annotations

import json
import re
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from edakit.observability import alerts, generate
from edakit.observability.dashboards import _regex, render_files

ROOT = Path(__file__).resolve().parents[2]
PANELS = ["Published per channel", "Consumed per subscriber", "Lag per subscriber (messages)",
          "Lag per subscriber (age)", "Dead-letter queue depth", "Outbox oldest unpublished row",
          "Event-store relay and projection lag", "Handler p95",
          "Handler error rate", "Retried, dead-lettered, duplicates skipped"]
PER_SUBSCRIBER = {"Lag per subscriber (messages)": "lag_messages", "Lag per subscriber (age)": "lag_seconds",
                  "Dead-letter queue depth": "dlq_messages"}


def test_committed_dashboards_are_current() -> None:
    assert generate.stale(ROOT, generate.dashboard_files(ROOT), "dashboards", "edakit dashboards") == []


def test_one_dashboard_per_spec_with_a_row_of_event_flow_panels_per_environment() -> None:
    sets = alerts.spec_sets(ROOT)
    files = render_files(sets)
    uids = set()
    for name, (source, specs) in sets.items():
        if not any(spec.subscribers for spec in specs):
            assert f"dashboards/{name}.json" not in files
            continue
        board = json.loads(files[f"dashboards/{name}.json"])
        uids.add(board["uid"])
        assert board["title"] == f"eda-kit / {name}" and source in board["description"]
        assert [v["name"] for v in board["templating"]["list"]] == ["datasource"]
        rows = [i for i, p in enumerate(board["panels"]) if p["type"] == "row"]
        assert [board["panels"][i]["title"] for i in rows] == [s.environment or "base" for s in specs]
        assert [board["panels"][i]["collapsed"] for i in rows] == [False] + [True] * (len(rows) - 1)
        for spec, start in zip(specs, rows, strict=True):
            end = next((i for i in rows if i > start), len(board["panels"]))
            panels = {p["title"]: p for p in board["panels"][start + 1:end]}
            measured = [alerts.measured(spec, sub) for sub in spec.subscribers.values()]
            missing = {title for title, pick in PER_SUBSCRIBER.items()
                       if all(getattr(what, pick) is None for what in measured)}
            assert list(panels) == [title for title in PANELS if title not in missing]
            assert all(p["datasource"] == {"type": "prometheus", "uid": "${datasource}"} for p in panels.values())
            for sub in spec.subscribers.values():
                what = alerts.measured(spec, sub)
                for title, series, op in (("Lag per subscriber (messages)", what.lag_messages, "sum"),
                                          ("Lag per subscriber (age)", what.lag_seconds, "max"),
                                          ("Dead-letter queue depth", what.dlq_messages, "sum")):
                    exprs = {t["legendFormat"]: t["expr"] for t in panels.get(title, {}).get("targets", [])}
                    if series is None:
                        assert sub.name not in exprs
                    else:
                        assert exprs[sub.name] == series.aggregate(op)  # what its alert reads
                decisions = [t["expr"] for t in panels["Retried, dead-lettered, duplicates skipped"]["targets"]]
                assert [e.split("(rate(")[1].split("{")[0] for e in decisions] == [
                    "edakit_messages_retried_total", "edakit_messages_dead_lettered_total",
                    "edakit_messages_duplicates_skipped_total"]  # the runtime's counters, as test_counters reads them
                followers = [t["expr"] for t in panels["Event-store relay and projection lag"]["targets"]]
                assert followers == ["max by (target, relay) (edakit_event_store_relay_lag_seconds)",
                                     "max by (target, projection) (edakit_event_store_projection_lag_seconds)"]
                error = panels["Handler error rate"]["targets"][0]["expr"]
                assert re.search(rf'messaging_consumer_group_name=~"[^"]*{re.escape(_regex([what.consumer]))}', error)
    assert len(uids) == len([f for f in files])


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(st.characters(codec="ascii", exclude_categories=["Cc"]), min_size=1, max_size=12),
                min_size=1, max_size=4))
def test_regex_matches_exactly_the_names(names: list[str]) -> None:
    """The PromQL regex of consumer groups, unquoted as Prometheus reads the string, matches each name and only them
    (RE2 and Python agree on these escapes)."""
    pattern = re.compile(_regex(names).replace("\\\\", "\\"))
    for name in names:
        assert pattern.fullmatch(name)
    for other in ("x" + names[0], names[0] + "x", names[0][:-1] or "@@"):
        assert bool(pattern.fullmatch(other)) == (other in names)
