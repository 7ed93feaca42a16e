"""`python -m benchmarks`: run the figures (all, or --only names/groups), print the table, write build/bench.json."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from benchmarks.harness import BenchError, check_unique, format_table, run, select, write


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--only", action="append", default=[],
                        help="figure or group names, comma-separated (make bench ONLY=<name>)")
    parser.add_argument("--out", type=Path, default=Path("build/bench.json"))
    parser.add_argument("--list", action="store_true", help="print each figure with its group and baseline")
    args = parser.parse_args(argv)
    from benchmarks.registry import GROUPS  # imports the clients and launchers only when running

    only = [name for value in args.only for name in value.split(",") if name.strip()]
    try:
        check_unique(GROUPS)
        chosen = select(GROUPS, only)
        if args.list:
            for group, figures in chosen.items():
                for figure in figures:
                    print(f"{group:14} {figure.name:44} {figure.baseline}")
            return 0
        results = list(run(GROUPS, only, progress=lambda line: print(line, file=sys.stderr, flush=True)))
    except BenchError as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 2
    entries = write(results, args.out)
    print(format_table({r.figure.name: entries[r.figure.name] for r in results}))
    print(f"\nwritten to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
