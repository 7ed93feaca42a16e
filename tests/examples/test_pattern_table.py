"""terraform/patterns/README.md has one row per pattern of `make demo`, in its order, naming the demo it runs."""

from __future__ import annotations

import re
from pathlib import Path

from edakit import demos

ROOT = Path(__file__).resolve().parents[2]


def test_the_pattern_table_names_each_pattern_and_its_demo():
    text = (ROOT / "terraform/patterns/README.md").read_text()
    header = "| pattern | root | spec | demo (`examples/demos/`) |\n|---|---|---|---|\n"
    assert header in text
    rows = [line.split(" | ") for line in text.split(header, 1)[1].splitlines() if line.startswith("| ")]
    assert [row[0].removeprefix("| ") for row in rows] == [p.name for p in demos.PATTERNS]
    for row, pattern in zip(rows, demos.PATTERNS, strict=True):
        assert re.match(rf"`{re.escape(pattern.demo)}`", row[3]), row
        landed = (ROOT / "examples/demos" / pattern.demo).is_file()
        assert landed or f"(issue {pattern.issue})" in row[3], row  # a missing demo says where it is tracked
