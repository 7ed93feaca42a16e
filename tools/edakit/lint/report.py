"""Findings as a table for people, JSON for machines, and SARIF 2.1.0 for code-scanning UIs."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from edakit import __version__
from edakit.lint.core import RULES, Finding

SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"


def format_table(findings: Sequence[Finding]) -> str:
    active = [f for f in findings if f.suppressed is None]
    rows = [(str(f.location), f.severity.value, f"{f.rule_id} {RULES[f.rule_id].name}", f.message) for f in active]
    widths = [max((len(row[i]) for row in rows), default=0) for i in range(3)]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row[:3], widths, strict=True)) + "  " + row[3]
             for row in rows]
    suppressed = len(findings) - len(active)
    lines.append(f"{len(active)} finding(s)" + (f", {suppressed} suppressed" if suppressed else ""))
    return "\n".join(lines)


def format_json(findings: Sequence[Finding]) -> str:
    return json.dumps([f.to_dict() for f in findings], indent=2)


def sarif_log(findings: Sequence[Finding]) -> dict[str, Any]:
    rule_ids = list(RULES)
    rules = [
        {
            "id": r.id,
            "name": r.name,
            "shortDescription": {"text": r.rationale},
            "defaultConfiguration": {"level": r.severity.value},
        }
        for r in RULES.values()
    ]
    results = []
    for f in findings:
        result: dict[str, Any] = {
            "ruleId": f.rule_id,
            "ruleIndex": rule_ids.index(f.rule_id),
            "level": f.severity.value,
            "message": {"text": f.message},
            "locations": [{
                "physicalLocation": {
                    "artifactLocation": {"uri": f.location.file},
                    "region": {"startLine": f.location.line, "startColumn": f.location.column},
                },
            }],
        }
        if f.suppressed is not None:
            result["suppressions"] = [{"kind": "inSource", "justification": f.suppressed}]
        results.append(result)
    driver = {"name": "edakit-lint", "version": __version__, "rules": rules}
    return {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [{"tool": {"driver": driver}, "results": results}]}


def format_sarif(findings: Sequence[Finding]) -> str:
    return json.dumps(sarif_log(findings), indent=2)


FORMATS = {"table": format_table, "json": format_json, "sarif": format_sarif}
