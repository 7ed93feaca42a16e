"""The benchmark harness on toy figures (no servers): rounds, interleaving, budgets, the JSON and the table."""

from __future__ import annotations

import ast
import json
import statistics
from contextlib import contextmanager
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from benchmarks import harness
from benchmarks.__main__ import main
from benchmarks.harness import BenchError, Figure, Group, Sides, format_table, measure, run, select, write


class FakeClock:
    """Seconds that advance only when a side 'runs', so budgets are tested without sleeping."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def toy(kit_seconds: list[float], base_seconds: list[float], calls: list[str], clock: FakeClock | None = None,
        round_cost: float = 0.0) -> Sides:
    """Sides returning the given seconds in turn, recording the order they were called in."""
    kit_iter, base_iter = iter(kit_seconds), iter(base_seconds)

    def kit() -> float:
        calls.append("kit")
        if clock is not None:
            clock.now += round_cost / 2
        return next(kit_iter)

    def base() -> float:
        calls.append("base")
        if clock is not None:
            clock.now += round_cost / 2
        return next(base_iter)

    return Sides(kit=kit, baseline=base, items=100)


def figure(**overrides) -> Figure:
    return Figure(**{"name": "toy_ratio", "baseline": "a toy loop", "prepare": lambda _: None, "warmup": False,
                     **overrides})


def test_rounds_interleave_and_the_median_min_max_are_of_the_per_round_ratios():
    calls: list[str] = []
    kit, base = [2.0, 1.0, 4.0, 1.0, 2.0], [1.0, 1.0, 1.0, 2.0, 1.0]
    result = measure(figure(budget=0), toy(kit, base, calls))
    assert calls == ["base", "kit", "kit", "base", "base", "kit", "kit", "base", "base", "kit"]
    ratios = [b / k for k, b in zip(kit, base)]  # speed: kit rate / baseline rate
    entry = result.entry()
    assert (entry["median"], entry["min"], entry["max"], entry["rounds"]) == (
        statistics.median(ratios), min(ratios), max(ratios), 5)
    assert entry["kit_per_s"] == 100 / statistics.median(kit)
    assert entry["baseline_per_s"] == 100 / statistics.median(base)
    assert entry["baseline"] == "a toy loop" and entry["unit"] == "ratio"


def test_a_cost_figure_divides_the_other_way_and_its_target_is_an_upper_bound():
    result = measure(figure(kind="cost", target=("<=", 1.1), budget=0), toy([1.2] * 5, [1.0] * 5, []))
    assert result.median == pytest.approx(1.2)
    assert result.entry()["target"] == "<= 1.1" and result.entry()["met"] is False


def test_a_value_figure_reports_what_its_side_returns():
    values = iter([3.0, 1.0, 2.0, 5.0, 4.0])
    result = measure(figure(kind="value", unit="s", budget=0), Sides(kit=lambda: next(values)))
    entry = result.entry()
    assert (entry["median"], entry["min"], entry["max"]) == (3.0, 1.0, 5.0)
    assert "kit_per_s" not in entry


def test_rounds_continue_while_the_budget_lasts_and_stop_at_max_rounds(monkeypatch):
    clock = FakeClock()
    calls: list[str] = []
    # each round costs 1 s: a 7.5 s budget fits rounds until the next would pass it
    result = measure(figure(budget=7.5, max_rounds=20), toy([1.0] * 20, [1.0] * 20, calls, clock, 1.0), clock=clock)
    assert len(result.values) == 7
    clock = FakeClock()
    capped = measure(figure(budget=1000, max_rounds=9), toy([1.0] * 20, [1.0] * 20, [], clock, 1.0), clock=clock)
    assert len(capped.values) == 9


def test_a_figure_over_its_budget_still_runs_five_rounds():
    clock = FakeClock()
    result = measure(figure(budget=0.1), toy([1.0] * 9, [1.0] * 9, [], clock, 60.0), clock=clock)
    assert len(result.values) == 5


def test_warmup_runs_each_side_once_untimed():
    calls: list[str] = []
    result = measure(figure(warmup=True, budget=0), toy([9.0] + [1.0] * 5, [9.0] + [1.0] * 5, calls))
    assert calls[:2] == ["kit", "base"] and len(calls) == 12
    assert result.values == [1.0] * 5


@pytest.mark.parametrize("bad, message", [
    ({"min_rounds": 3}, "5 <= min_rounds"), ({"baseline": "two\nlines"}, "one-line"),
    ({"baseline": " "}, "one-line"), ({"kind": "fast"}, "kind 'fast'"), ({"target": ("==", 1.0)}, "operator"),
])
def test_a_figure_without_a_baseline_definition_or_five_rounds_is_refused(bad, message):
    with pytest.raises(BenchError, match=message):
        figure(**bad)


def test_a_speed_figure_needs_a_baseline_side():
    with pytest.raises(BenchError, match="needs a baseline side"):
        measure(figure(), Sides(kit=lambda: 1.0))


GROUPS = [Group("alpha", [figure(name="a_ratio"), figure(name="b_ratio")]), Group("beta", [figure(name="c_ratio")])]


def test_only_selects_figures_or_whole_groups_and_names_what_exists_when_unknown():
    assert {g: [f.name for f in fs] for g, fs in select(GROUPS, ["b_ratio"]).items()} == {"alpha": ["b_ratio"]}
    assert [f.name for f in select(GROUPS, ["beta"])["beta"]] == ["c_ratio"]
    assert sum(len(fs) for fs in select(GROUPS).values()) == 3
    with pytest.raises(BenchError, match=r"no benchmark named nope \(figures and groups: a_ratio, alpha"):
        select(GROUPS, ["nope"])


def test_a_groups_context_is_entered_only_when_one_of_its_figures_runs():
    entered: list[str] = []

    @contextmanager
    def context(name: str):
        entered.append(name)
        yield name

    groups = [Group("alpha", [figure(name="a_ratio", prepare=lambda ctx: Sides(kit=lambda: 1.0, baseline=lambda: 2.0,
                                                                             close=lambda: entered.append("closed")))],
                    context=lambda: context("alpha")),
              Group("beta", [figure(name="c_ratio")], context=lambda: context("beta"))]
    results = list(run(groups, ["a_ratio"]))
    assert entered == ["alpha", "closed"]
    assert [r.figure.name for r in results] == ["a_ratio"] and results[0].median == 2.0


def test_duplicate_names_are_refused():
    with pytest.raises(BenchError, match="unique: a_ratio"):
        list(run([Group("alpha", [figure(name="a_ratio")]), Group("beta", [figure(name="a_ratio")])]))


def test_the_json_carries_each_figure_and_keeps_the_others_of_an_earlier_run(tmp_path):
    out = tmp_path / "bench.json"
    out.write_text(json.dumps({"old_flat_ratio": 0.5, "kept_ratio": {"median": 1.0, "min": 1.0, "max": 1.0,
                                                                    "baseline": "b", "unit": "ratio", "rounds": 5}}))
    result = measure(figure(target=(">=", 0.9), budget=0), toy([1.0] * 5, [1.0] * 5, []))
    data = write([result], out)
    assert json.loads(out.read_text()) == data
    assert set(data) == {"toy_ratio", "kept_ratio"}  # the old flat format is dropped, not mixed in
    assert {"median", "min", "max", "baseline", "unit"} <= set(data["toy_ratio"])
    assert data["toy_ratio"]["met"] is True and data["toy_ratio"]["target"] == ">= 0.9"


def test_the_table_shows_the_spread_and_the_baselines():
    entries = {"toy_ratio": {"median": 0.8, "min": 0.6, "max": 1.0, "baseline": "a toy loop", "unit": "ratio",
                             "rounds": 5, "target": ">= 0.9", "met": False}}
    table = format_table(entries)
    row = next(line for line in table.splitlines() if line.startswith("toy_ratio "))
    assert row.split() == ["toy_ratio", "0.800", "0.600", "1.000", "50%", ">=", "0.9", "MISS", "5"]
    assert "toy_ratio: ratio vs a toy loop" in table


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.floats(0.001, 1000), st.floats(0.001, 1000)), min_size=5, max_size=15),
       st.sampled_from(["speed", "cost"]))
def test_the_median_lies_within_min_and_max_and_each_ratio_is_its_rounds(pairs, kind):
    kit, base = [k for k, _ in pairs], [b for _, b in pairs]
    result = measure(figure(kind=kind, budget=0, max_rounds=15, min_rounds=len(pairs)), toy(kit, base, []))
    entry = result.entry()
    assert entry["min"] <= entry["median"] <= entry["max"]
    expected = [b / k if kind == "speed" else k / b for k, b in pairs]
    assert result.values == expected


def test_an_unknown_only_name_is_one_line_and_exit_2(capsys, tmp_path):
    assert main(["--only", "no_such_figure", "--out", str(tmp_path / "b.json")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("bench: ONLY: no benchmark named no_such_figure") and "\n" not in err
    assert not (tmp_path / "b.json").exists()


def test_every_registered_figure_names_its_baseline_and_has_a_unique_name():
    from benchmarks.registry import GROUPS as registered

    harness.check_unique(registered)
    names = [f.name for g in registered for f in g.figures]
    assert {"kafka_publish_ratio", "outbox_relay_ratio", "json_validation_ratio", "json_validation_vs_parse_ratio",
            "avro_validation_ratio", "idempotent_consumer_cost_ratio", "sns_filter_eval_ratio",
            "eventbridge_pattern_eval_ratio", "sqs_sns_encode_ratio", "sqs_sns_decode_ratio",
            "sqs_sns_publish_moto_ratio", "embedded_publish_ratio", "embedded_consume_ratio",
            "router_chain_cost_ratio", "instrumentation_overhead_ratio", "lag_scrape_seconds"} <= set(names)
    assert all(f.baseline and f.min_rounds >= 5 for g in registered for f in g.figures)


def test_no_module_of_the_library_imports_the_server_launchers(repo_root: Path):
    """Benchmarks live in benchmarks/, so services importing edakit never import edakit.devservers."""
    package = repo_root / "tools" / "edakit"
    importers = []
    for path in package.rglob("*.py"):
        if path.name == "devservers.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import) else
                     [f"{node.module}.{a.name}" if node.module else a.name for a in node.names]
                     if isinstance(node, ast.ImportFrom) else [])
            if any(n == "edakit.devservers" or n.startswith("edakit.devservers.") for n in names):
                importers.append(str(path.relative_to(repo_root)))
    assert importers == []
    assert sorted(str(p.relative_to(repo_root)) for p in package.rglob("bench*.py")) == []
