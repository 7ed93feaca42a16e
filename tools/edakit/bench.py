"""`make bench`: run every benchmark, print a table, write build/bench.json (a flat object of plain numbers).

Each benchmark measures the kit against a baseline in the same process and reports the ratio; speed is never a
pass/fail test. Benchmarks live beside the code they measure and return a flat dict.
"""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path

# "module:function" -> a callable returning {key: number}; ratios end in `_ratio`.
BENCHMARKS: list[str] = [
    "edakit.schemas.bench:run",
    "edakit.runtime.bench:run",
    "edakit.observability.bench:run",
]


def run_all(out: Path = Path("build/bench.json")) -> dict[str, float]:
    results: dict[str, float] = {}
    for target in BENCHMARKS:
        module_name, attr = target.split(":")
        fn = getattr(importlib.import_module(module_name), attr)
        print(f"running {target} ...", file=sys.stderr, flush=True)
        results.update(fn())
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")
    return results


def format_table(results: dict[str, float]) -> str:
    width = max((len(k) for k in results), default=10)
    lines = [f"{'metric':<{width}}  value", f"{'-' * width}  {'-' * 14}"]
    for key in sorted(results, key=lambda k: (not k.endswith("_ratio"), k)):
        value = results[key]
        lines.append(f"{key:<{width}}  {value:>14,.3f}" if isinstance(value, float) else f"{key:<{width}}  {value:>14}")
    return "\n".join(lines)


def main() -> None:
    results = run_all()
    print(format_table(results))
    print("\nwritten to build/bench.json")


if __name__ == "__main__":
    main()
