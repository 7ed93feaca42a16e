"""The runtime README's fault table names tests that exist: each `file::test` it cites is a test function there."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).parents[2]


def test_every_test_the_fault_table_names_exists() -> None:
    readme = (ROOT / "tools/edakit/runtime/README.md").read_text(encoding="utf-8")
    table = readme.split("## Faults: what the kit guarantees", 1)[1].split("\n## ", 1)[0]
    cited = re.findall(r"`([\w/]+\.py)(?:::(\w+))?`", table)
    assert len(cited) >= 15
    for file, test in cited:
        source = (ROOT / "tests/runtime" / file).read_text(encoding="utf-8")
        assert "def test_" in source, file
        if test:
            assert f"def {test}(" in source, f"{file}::{test}"
