"""examples/demos/claim_check.py: what it prints, and that its own checks catch a broken claim check (the demo is
loaded in-process with a piece of the pattern broken, and must exit 1)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

DEMO = Path(__file__).resolve().parents[3] / "examples" / "demos" / "claim_check.py"


def load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("demo_claim_check", DEMO)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_demo_passes_and_says_what_happened(capsys: pytest.CaptureFixture[str]) -> None:
    assert load().main() == 0
    out = capsys.readouterr().out
    assert "ord-2 140 bytes: [\"software.amazon.payloadoffloading.PayloadS3Pointer\"" in out
    assert out.count("ord-2 2,097,189 bytes") == 2  # both groups
    assert "dead-lettered at attempt 1: PayloadMissing: claim-check object orders-claim-checks/" in out
    assert "the spec settings refuse it for the fan-out" in out and "store objects 2 -> 1" in out
    assert "claim-check: PASS" in out


def test_the_demo_fails_when_consumers_get_the_pointer(monkeypatch: pytest.MonkeyPatch,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    demo = load()
    monkeypatch.setattr(demo, "claim_check", lambda store, **options: lambda handler: handler)
    assert demo.main() == 1
    out = capsys.readouterr().out
    assert "FAIL: invoicing did not get both payloads back" in out and "claim-check: FAIL" in out


def test_the_demo_fails_when_nothing_is_offloaded(monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    demo = load()
    monkeypatch.setattr(demo, "default_threshold", lambda broker: 10 * 1024 * 1024)
    assert demo.main() == 1
    assert "FAIL: ord-2 did not travel as a pointer with its size" in capsys.readouterr().out
