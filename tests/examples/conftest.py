"""`make demo`'s run, once per session: the tests of each demo read their demo's output from it instead of running
the demo again (the demos are sleep-bound, so four at once take about as long as the slowest)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def make_demo() -> dict[str, Any]:
    """The runner's JSON report over examples/demos/, run from the repository root as `make demo` runs it, plus its
    exit code under "returncode"."""
    done = subprocess.run([sys.executable, "-m", "edakit.demos", "--format", "json", "--jobs", "4", "--timeout", "120"],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.stdout.startswith("{"), done.stdout + done.stderr
    return {**json.loads(done.stdout), "returncode": done.returncode}


@pytest.fixture(scope="session")
def demo_output(make_demo: dict[str, Any]):
    """demo_output("x.py") -> that demo's output in the runner's run; fails the test if it did not pass."""

    def output(demo: str) -> str:
        [run] = [r for r in make_demo["runs"] if r["demo"] == demo]
        assert run["passed"], run["output"]
        return run["output"]

    return output
