"""The one benchmark harness: every figure is a kit side and a baseline side timed in interleaved rounds.

A figure names its baseline in one line, runs at least `min_rounds` rounds (each round times both sides, the order
alternating, so load from other processes hits both alike), keeps adding rounds while its own `budget` lasts, and
reports the median of the per-round ratios with their min and max: a spread, not a best-of-N that flatters.

Sides return the seconds of their timed part, so a side can do untimed set-up per round (refill a table) first.
- "speed" figures: kit rate / baseline rate (baseline seconds / kit seconds), higher is better;
- "cost" figures: kit seconds / baseline seconds, lower is better;
- "value" figures: what the kit side returns (no baseline), e.g. the seconds of one lag scrape.
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

Kind = Literal["speed", "cost", "value"]
KINDS = ("speed", "cost", "value")
OPERATORS: dict[str, Callable[[float, float], bool]] = {">=": float.__ge__, "<=": float.__le__}


class BenchError(ValueError):
    """A benchmark selection or definition that cannot run (one line, for the command's exit 2)."""


@dataclass(frozen=True)
class Sides:
    """One figure, ready to run: `kit` and `baseline` each run one round and return its timed seconds (for a
    "value" figure, `kit` returns the value and `baseline` is None); `items` is the work per round (messages,
    rows, payloads), for the per-second rates next to the ratio."""

    kit: Callable[[], float]
    baseline: Callable[[], float] | None = None
    items: int = 0
    close: Callable[[], None] = lambda: None


@dataclass(frozen=True)
class Figure:
    """`prepare(context)` builds the sides from the group's context (servers, files); `target` is (">=" or "<=",
    value); `budget` the seconds its rounds may take beyond `min_rounds`."""

    name: str
    baseline: str
    prepare: Callable[[Any], Sides]
    kind: Kind = "speed"
    unit: str = "ratio"
    target: tuple[str, float] | None = None
    budget: float = 20.0
    min_rounds: int = 5
    max_rounds: int = 21
    warmup: bool = True

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise BenchError(f"figure {self.name}: kind {self.kind!r}, expected one of {', '.join(KINDS)}")
        if not self.baseline.strip() or "\n" in self.baseline:
            raise BenchError(f"figure {self.name}: the baseline must be a one-line definition")
        if self.min_rounds < 5 or self.max_rounds < self.min_rounds:
            raise BenchError(f"figure {self.name}: expected 5 <= min_rounds <= max_rounds, got {self.min_rounds} and "
                             f"{self.max_rounds}")
        if self.target is not None and self.target[0] not in OPERATORS:
            raise BenchError(f"figure {self.name}: target operator {self.target[0]!r}, expected >= or <=")


@dataclass(frozen=True)
class Group:
    """Figures that share a set-up (servers, files): `context()` is entered once, only if one of them is selected."""

    name: str
    figures: Sequence[Figure]
    context: Callable[[], AbstractContextManager[Any]] = nullcontext


@dataclass
class Result:
    figure: Figure
    values: list[float] = field(default_factory=list)  # per round: the ratio, or the value
    kit_seconds: list[float] = field(default_factory=list)
    baseline_seconds: list[float] = field(default_factory=list)
    items: int = 0

    @property
    def median(self) -> float:
        return statistics.median(self.values)

    @property
    def met(self) -> bool | None:
        if self.figure.target is None:
            return None
        operator, bound = self.figure.target
        return OPERATORS[operator](float(self.median), float(bound))

    def entry(self) -> dict[str, Any]:
        """What build/bench.json carries for the figure."""
        fig = self.figure
        entry: dict[str, Any] = {"median": self.median, "min": min(self.values), "max": max(self.values),
                                 "baseline": fig.baseline, "unit": fig.unit, "rounds": len(self.values)}
        if fig.target is not None:
            entry["target"] = f"{fig.target[0]} {fig.target[1]:g}"
            entry["met"] = self.met
        if self.items and fig.kind != "value":
            entry["kit_per_s"] = self.items / statistics.median(self.kit_seconds)
            entry["baseline_per_s"] = self.items / statistics.median(self.baseline_seconds)
        return entry


def _ratio(kind: Kind, kit: float, baseline: float) -> float:
    return baseline / kit if kind == "speed" else kit / baseline


def measure(figure: Figure, sides: Sides, clock: Callable[[], float] = time.monotonic) -> Result:
    """Run the rounds: both sides per round, the order alternating; at least min_rounds, more while the budget
    lasts (a round is started only if the average round so far still fits), never more than max_rounds."""
    result = Result(figure, items=sides.items)
    if figure.kind != "value" and sides.baseline is None:
        raise BenchError(f"figure {figure.name}: a {figure.kind} figure needs a baseline side")
    if figure.warmup:
        sides.kit()
        if sides.baseline is not None:
            sides.baseline()
    started = clock()
    while True:
        rounds = len(result.values)
        spent = clock() - started
        if rounds >= figure.max_rounds:
            break
        if rounds >= figure.min_rounds and spent + spent / rounds > figure.budget:
            break
        if figure.kind == "value":
            result.values.append(float(sides.kit()))
            continue
        assert sides.baseline is not None
        if rounds % 2 == 0:
            base, kit = sides.baseline(), sides.kit()
        else:
            kit, base = sides.kit(), sides.baseline()
        result.kit_seconds.append(kit)
        result.baseline_seconds.append(base)
        result.values.append(_ratio(figure.kind, kit, base))
    return result


def select(groups: Sequence[Group], only: Iterable[str] = ()) -> dict[str, list[Figure]]:
    """Group name -> the figures to run; `only` names figures or groups (all when empty). An unknown name is a
    BenchError naming what exists."""
    wanted = {name.strip() for name in only if name.strip()}
    known = {g.name for g in groups} | {f.name for g in groups for f in g.figures}
    if unknown := sorted(wanted - known):
        raise BenchError(f"ONLY: no benchmark named {', '.join(unknown)} (figures and groups: "
                         f"{', '.join(sorted(known))})")
    chosen: dict[str, list[Figure]] = {}
    for group in groups:
        figures = [f for f in group.figures if not wanted or group.name in wanted or f.name in wanted]
        if figures:
            chosen[group.name] = figures
    return chosen


def check_unique(groups: Sequence[Group]) -> None:
    names = [f.name for g in groups for f in g.figures] + [g.name for g in groups]
    if duplicates := sorted({n for n in names if names.count(n) > 1}):
        raise BenchError(f"benchmark names must be unique: {', '.join(duplicates)}")


def run(groups: Sequence[Group], only: Iterable[str] = (),
        progress: Callable[[str], None] = lambda line: None) -> Iterator[Result]:
    """Each selected group's context once, its selected figures in order."""
    check_unique(groups)
    by_name = {g.name: g for g in groups}
    for group_name, figures in select(groups, only).items():
        progress(f"{group_name}: starting")
        with by_name[group_name].context() as context:
            for figure in figures:
                began = time.monotonic()
                sides = figure.prepare(context)
                try:
                    result = measure(figure, sides)
                finally:
                    sides.close()
                progress(f"{figure.name}: {result.median:.3f} ({len(result.values)} rounds, "
                         f"{time.monotonic() - began:.1f} s)")
                yield result


def write(results: Sequence[Result], out: Path, merge: bool = True) -> dict[str, Any]:
    """{name: entry}; with `merge`, figures not run this time keep their last entry (a `make bench ONLY=...`)."""
    data: dict[str, Any] = {}
    if merge and out.exists():
        try:
            previous = json.loads(out.read_text())
        except ValueError:
            previous = {}
        # only entries in this harness's form survive (a file from the old flat format is replaced)
        data = {k: v for k, v in previous.items() if isinstance(v, dict) and "median" in v} if isinstance(
            previous, dict) else {}
    data.update({r.figure.name: r.entry() for r in results})
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    return data


def _number(value: float) -> str:
    return f"{value:,.3f}" if abs(value) < 1000 else f"{value:,.0f}"


def format_table(entries: Mapping[str, Mapping[str, Any]]) -> str:
    """Median, min-max and the spread (max-min over the median) of each figure, its target, then the baselines."""
    width = max((len(k) for k in entries), default=6)
    header = f"{'figure':<{width}}  {'median':>10}  {'min':>10}  {'max':>10}  {'spread':>7}  {'target':>8}  rounds"
    lines = [header, "-" * len(header)]
    for name in sorted(entries):
        e = entries[name]
        spread = (e["max"] - e["min"]) / abs(e["median"]) if e["median"] else 0.0
        target = e.get("target", "")
        if "met" in e:
            target = f"{target} {'ok' if e['met'] else 'MISS'}"
        lines.append(f"{name:<{width}}  {_number(e['median']):>10}  {_number(e['min']):>10}  {_number(e['max']):>10}"
                     f"  {spread:>6.0%}  {target:>8}  {e['rounds']}")
    lines.append("")
    lines.extend(f"{name}: {entries[name]['unit']} vs {entries[name]['baseline']}" for name in sorted(entries))
    return "\n".join(lines)
