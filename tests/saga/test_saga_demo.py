"""examples/demos/saga_order_fulfilment.py passes, and fails (exit 1) when what it checks is not what happened."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest


def load_demo(repo_root: Path):
    spec = importlib.util.spec_from_file_location("saga_demo", repo_root / "examples/demos/saga_order_fulfilment.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_demo_runs_both_sagas_and_passes(repo_root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert load_demo(repo_root).main() == 0
    out = capsys.readouterr().out
    assert "[ord-2] compensate ProcessPayment (attempt 1)" in out
    assert out.index("17.50 refunded for ord-2") < out.index("ord-2 cancelled, stock released")
    assert "saga orchestration: PASS" in out


def test_demo_exits_1_when_its_own_check_fails(repo_root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    demo = load_demo(repo_root)
    demo.EXPECTED_TRACES = {**demo.EXPECTED_TRACES, "ord-1": []}
    assert demo.main() == 1
    assert "FAIL: step traces" in capsys.readouterr().out
