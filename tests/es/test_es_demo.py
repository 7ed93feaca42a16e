"""examples/demos/cqrs_orders.py runs the seed's CQRS sketch end to end, and fails loudly when a check fails."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

DEMO = Path(__file__).resolve().parents[2] / "examples/demos/cqrs_orders.py"


def _load_demo(monkeypatch):  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("cqrs_orders_demo", DEMO)
    demo = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "cqrs_orders_demo", demo)  # its event classes are dataclasses of that module
    spec.loader.exec_module(demo)
    return demo


def test_the_demo_runs_every_step_and_passes(tmp_path: Path, monkeypatch, capsys) -> None:
    """In-process (its `__main__` is `sys.exit(main())`): a subprocess would add an interpreter start."""
    assert _load_demo(monkeypatch).main(["--db-dir", str(tmp_path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    steps = [line for line in lines if line[:2] in {f"{n}." for n in range(1, 7)}]
    assert [s.split(" ", 1)[0] for s in steps] == ["1.", "2.", "3.", "4.", "5.", "6."]
    assert "   ok: each event projected once, each duplicate skipped" in lines
    assert "   read by today's application: shipping_address=None sales_channel='web'" in lines
    assert lines[-1] == "all checks passed"
    assert {p.name for p in tmp_path.iterdir()} >= {"events.db", "broker.db", "query.db"}


def test_a_failed_check_exits_1_naming_it(tmp_path: Path, monkeypatch, capsys) -> None:
    demo = _load_demo(monkeypatch)
    monkeypatch.setattr(demo, "order_rows", lambda conn, status=None: [])  # a read model that lost everything
    assert demo.main(["--db-dir", str(tmp_path)]) == 1
    assert capsys.readouterr().err == "FAILED: paid orders: bob's\n"
