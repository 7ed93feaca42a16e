"""SECURITY.md's claims point at real things: every file it names exists, every `allow_…` opt-out it names is a
variable of some module (or a key of the spec schema), and every test file it cites holds tests."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).parents[2]
TEXT = (ROOT / "SECURITY.md").read_text(encoding="utf-8")


def test_every_file_it_names_exists() -> None:
    named = set(re.findall(r"`((?:tests|tools|schemas|configs|scripts|requirements|terraform)/[^`*]+?)`", TEXT))
    assert len(named) >= 8
    assert [path for path in sorted(named) if not (ROOT / path.rstrip("/")).exists()] == []
    for path in named:
        if path.endswith(".py") and path.startswith("tests/"):
            assert "def test_" in (ROOT / path).read_text(encoding="utf-8"), path


def test_every_opt_out_it_names_exists() -> None:
    opt_outs = set(re.findall(r"`(?:push\.)?(allow_[a-z_]+)", TEXT))
    modules = "".join(p.read_text(encoding="utf-8") for p in (ROOT / "terraform" / "modules").glob("*/variables.tf"))
    spec_schema = (ROOT / "configs" / "edakit-spec.schema.json").read_text(encoding="utf-8")
    runtime = (ROOT / "tools" / "edakit" / "runtime" / "adapters" / "eventgrid.py").read_text(encoding="utf-8")
    assert len(opt_outs) >= 6
    missing = [name for name in sorted(opt_outs)
               if f'variable "{name}"' not in modules and f'"{name}"' not in spec_schema and f"{name}:" not in runtime
               and f"{name} " not in modules]
    assert missing == []
