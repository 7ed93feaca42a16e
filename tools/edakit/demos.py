"""`make demo`: run the demo of each of the kit's twelve patterns and print one verdict line per pattern.

    python -m edakit.demos [--demos-dir DIR] [--only PATTERN ...] [--jobs N] [--quiet] [--format text|json]

Each demo is a script in examples/demos/ that runs on the embedded SQLite broker (no servers, no network), prints
what happens as it happens and exits non-zero when its own checks fail. The runner runs each script once, in a fresh
working directory, with this interpreter; a pattern whose script is not there yet is reported as not landed with
the issue that tracks it. A script in the directory that no pattern names is run too, under its file name, so a new
demo is never skipped silently.

Exit codes: 0 every demo that exists passed, 1 a demo failed (or timed out), 2 bad options.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path


@dataclass(frozen=True)
class Pattern:
    name: str
    demo: str  # file name in the demos directory
    issue: int  # the issue that tracks the pattern until its demo lands


PATTERNS = (
    Pattern("fan-out", "order_fanout.py", 16),
    Pattern("competing consumers", "competing_consumers.py", 16),
    Pattern("content-based routing", "content_based_routing.py", 16),
    Pattern("claim-check", "claim_check.py", 16),
    Pattern("transactional outbox", "transactional_outbox.py", 16),
    Pattern("idempotent consumer", "idempotent_consumer.py", 16),
    Pattern("DLQ + retry + redrive", "dlq_retry_redrive.py", 16),
    Pattern("saga orchestration", "saga_order_fulfilment.py", 14),
    Pattern("saga choreography", "saga_choreography.py", 16),
    Pattern("event sourcing", "cqrs_orders.py", 15),
    Pattern("CQRS", "cqrs_orders.py", 15),  # one demo shows both: the event-sourced write side and its read model
    Pattern("request-reply", "request_reply.py", 16),
)
DEFAULT_DEMOS = Path("examples/demos")  # under the repository root, where `make demo` runs
TIMEOUT_SECONDS = 300.0
TAIL_LINES = 20  # of a failed demo's output, shown with its verdict in --quiet mode


@dataclass
class Run:
    """One demo script's run."""

    demo: str
    returncode: int | None  # None: killed at the timeout
    seconds: float
    output: str  # stdout and stderr, interleaved as written

    @property
    def passed(self) -> bool:
        return self.returncode == 0

    def why(self) -> str:
        if self.returncode is None:
            return f"timed out after {self.seconds:.0f} s"
        failures = [line.strip() for line in self.output.splitlines() if line.lstrip().startswith("FAIL")]
        last = failures[-1] if failures else next((line.strip() for line in reversed(self.output.splitlines())
                                                   if line.strip()), "no output")
        return f"exit {self.returncode}: {last}"


@dataclass(frozen=True)
class Verdict:
    pattern: str
    demo: str
    status: str  # "pass", "fail" or "not landed"
    detail: str

    def line(self, width: int) -> str:
        label = {"pass": "PASS", "fail": "FAIL", "not landed": "----"}[self.status]
        return f"{label}  {self.pattern:<{width}}  {self.detail}"


def planned(demos_dir: Path) -> list[tuple[str, str | None]]:
    """(pattern name, demo file or None when it has not landed), the twelve first, then unregistered scripts."""
    rows: list[tuple[str, str | None]] = [(p.name, p.demo if (demos_dir / p.demo).is_file() else None)
                                          for p in PATTERNS]
    known = {p.demo for p in PATTERNS}
    rows += [(path.name, path.name) for path in sorted(demos_dir.glob("*.py"))
             if path.name not in known and not path.name.startswith("_")]
    return rows


def run_demo(path: Path, timeout: float, echo: Callable[[str], None] | None = None) -> Run:
    """Run one script in a fresh directory; `echo` gets each output line as it is written (None: collect only)."""
    start = time.monotonic()
    lines: list[str] = []
    with tempfile.TemporaryDirectory(prefix="edakit-demo-") as cwd:
        process = subprocess.Popen([sys.executable, str(path)], cwd=cwd, stdin=subprocess.DEVNULL,
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1)
        assert process.stdout is not None
        timer = _Deadline(process, timeout)
        for line in process.stdout:
            lines.append(line)
            if echo is not None:
                echo(line.rstrip("\n"))
        process.wait()
        timer.cancel()
    return Run(path.name, None if timer.fired else process.returncode, time.monotonic() - start, "".join(lines))


class _Deadline:
    """Kills the process at the timeout; reading its output ends when it dies."""

    def __init__(self, process: subprocess.Popen[str], timeout: float) -> None:
        self.fired = False

        def kill() -> None:
            self.fired = True
            process.kill()

        self._timer = threading.Timer(timeout, kill)
        self._timer.daemon = True
        self._timer.start()

    def cancel(self) -> None:
        self._timer.cancel()


def verdicts(rows: Sequence[tuple[str, str | None]], runs: dict[str, Run], demos_dir: Path) -> list[Verdict]:
    issues = {p.name: p.issue for p in PATTERNS}
    result = []
    for pattern, demo in rows:
        if demo is None:
            expected = next(p.demo for p in PATTERNS if p.name == pattern)
            result.append(Verdict(pattern, expected, "not landed",
                                  f"not landed yet (issue {issues[pattern]}): no {demos_dir.name}/{expected}"))
            continue
        run = runs[demo]
        result.append(Verdict(pattern, demo, "pass" if run.passed else "fail",
                              f"{demo} ({run.seconds:.1f} s)" if run.passed else f"{demo}: {run.why()}"))
    return result


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m edakit.demos", description=__doc__.split("\n", 1)[0])
    parser.add_argument("--demos-dir", type=Path, default=DEFAULT_DEMOS, metavar="DIR",
                        help="directory of the demo scripts (default: %(default)s)")
    parser.add_argument("--only", action="append", default=[], metavar="PATTERN",
                        help="run only this pattern's demo (repeatable; a pattern name or a script's file name)")
    parser.add_argument("--jobs", type=int, default=1, metavar="N",
                        help="demos run at once (default 1: each demo's output streams as it runs)")
    parser.add_argument("--timeout", type=float, default=TIMEOUT_SECONDS, metavar="SECONDS",
                        help="a demo running longer fails (default: %(default)s)")
    parser.add_argument("--quiet", action="store_true", help="print the verdicts only (and a failed demo's output)")
    parser.add_argument("--format", choices=("text", "json"), default="text",
                        help="json: one object with every verdict and run, demo output included")
    args = parser.parse_args(argv)
    if not args.demos_dir.is_dir():
        parser.error(f"--demos-dir {args.demos_dir}: not a directory")
    args.demos_dir = args.demos_dir.resolve()  # each demo runs in a directory of its own
    if args.jobs < 1:
        parser.error(f"--jobs: expected at least 1, got {args.jobs}")
    if args.timeout <= 0:
        parser.error(f"--timeout: expected more than 0 seconds, got {args.timeout}")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    rows = planned(args.demos_dir)
    if args.only:
        names = {name for row in rows for name in row if name}
        if unknown := [o for o in args.only if o not in names]:
            known = ", ".join(repr(name) for name, _ in rows)
            print(f"error: --only {unknown[0]!r}: not a pattern or demo script; known: {known}", file=sys.stderr)
            return 2
        rows = [row for row in rows if row[0] in args.only or row[1] in args.only]
    demos = list(dict.fromkeys(demo for _, demo in rows if demo))
    text = args.format == "text"
    stream = text and not args.quiet and args.jobs == 1

    def one(demo: str) -> Run:
        patterns = ", ".join(name for name, d in rows if d == demo)
        if stream:
            print(f"\n=== {patterns}: {args.demos_dir.name}/{demo}", flush=True)
        run = run_demo(args.demos_dir / demo, args.timeout, (lambda line: print(f"  {line}", flush=True))
                       if stream else None)
        if text and not stream and (not args.quiet or not run.passed):
            shown = run.output.splitlines() if not args.quiet else run.output.splitlines()[-TAIL_LINES:]
            print(f"\n=== {patterns}: {args.demos_dir.name}/{demo}\n" + "\n".join(f"  {line}" for line in shown),
                  flush=True)
        return run

    with ThreadPoolExecutor(args.jobs) as pool:
        runs = dict(zip(demos, pool.map(one, demos), strict=True))
    result = verdicts(rows, runs, args.demos_dir)
    failed = any(v.status == "fail" for v in result)
    if text:
        width = max((len(v.pattern) for v in result), default=0)
        print(f"\n=== verdicts ({sum(v.status == 'pass' for v in result)} pass, "
              f"{sum(v.status == 'fail' for v in result)} fail, {sum(v.status == 'not landed' for v in result)} "
              "not landed)")
        for verdict in result:
            print(verdict.line(width))
    else:
        print(json.dumps({"verdicts": [asdict(v) for v in result],
                          "runs": [{**asdict(r), "passed": r.passed} for r in runs.values()]}, indent=2))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
