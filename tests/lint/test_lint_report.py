"""Output formats: the table, JSON and SARIF 2.1.0 (checked against the structure the standard requires)."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema

from edakit.lint import RULES, format_json, format_sarif, format_table, lint_paths

FIXTURES = Path(__file__).parent / "fixtures"

# The parts of the SARIF 2.1.0 schema (OASIS sarif-schema-2.1.0.json) a result log of ours uses: required
# properties, enums and minimums as the standard states them.
_MESSAGE = {"type": "object", "required": ["text"], "properties": {"text": {"type": "string"}}}
SARIF_SUBSET = {
    "type": "object",
    "required": ["version", "runs"],
    "properties": {
        "$schema": {"type": "string", "format": "uri"},
        "version": {"const": "2.1.0"},
        "runs": {"type": "array", "items": {
            "type": "object",
            "required": ["tool"],
            "properties": {
                "tool": {"type": "object", "required": ["driver"], "properties": {"driver": {
                    "type": "object",
                    "required": ["name"],
                    "properties": {
                        "name": {"type": "string"},
                        "version": {"type": "string"},
                        "rules": {"type": "array", "uniqueItems": True, "items": {
                            "type": "object",
                            "required": ["id"],
                            "properties": {
                                "id": {"type": "string"},
                                "name": {"type": "string"},
                                "shortDescription": _MESSAGE,
                                "defaultConfiguration": {"type": "object", "properties": {
                                    "level": {"enum": ["none", "note", "warning", "error"]}}},
                            },
                        }},
                    },
                }}},
                "results": {"type": "array", "items": {
                    "type": "object",
                    "required": ["message"],
                    "properties": {
                        "ruleId": {"type": "string"},
                        "ruleIndex": {"type": "integer", "minimum": -1},
                        "level": {"enum": ["none", "note", "warning", "error"]},
                        "message": _MESSAGE,
                        "locations": {"type": "array", "items": {"type": "object", "properties": {
                            "physicalLocation": {"type": "object", "properties": {
                                "artifactLocation": {"type": "object", "properties": {"uri": {"type": "string"}}},
                                "region": {"type": "object", "properties": {
                                    "startLine": {"type": "integer", "minimum": 1},
                                    "startColumn": {"type": "integer", "minimum": 1},
                                }},
                            }},
                        }}},
                        "suppressions": {"type": "array", "items": {
                            "type": "object",
                            "required": ["kind"],
                            "properties": {"kind": {"enum": ["inSource", "external"]},
                                           "justification": {"type": "string"}},
                        }},
                    },
                }},
            },
        }},
    },
}


def some_findings() -> list:
    return lint_paths([FIXTURES / "EDA000" / "pass" / "spec.yaml", FIXTURES / "EDA008" / "fail" / "spec.yaml",
                       FIXTURES / "EDA016" / "fail-no-examples" / "spec.yaml"])


def test_sarif_is_structurally_valid_and_consistent() -> None:
    findings = some_findings()
    log = json.loads(format_sarif(findings))
    jsonschema.validate(log, SARIF_SUBSET)
    (run,) = log["runs"]
    rules = run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == list(RULES)
    assert len(run["results"]) == len(findings)
    for result, finding in zip(run["results"], findings, strict=True):
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"] == finding.rule_id
        region = result["locations"][0]["physicalLocation"]["region"]
        assert (region["startLine"], region["startColumn"]) == (finding.location.line, finding.location.column)
        assert ("suppressions" in result) == (finding.suppressed is not None)


def test_json_lists_every_finding_with_its_place() -> None:
    findings = some_findings()
    rows = json.loads(format_json(findings))
    assert [(r["rule"], r["file"], r["line"], r["column"], r["suppressed"]) for r in rows] == [
        (f.rule_id, f.location.file, f.location.line, f.location.column, f.suppressed) for f in findings]


def test_table_shows_active_findings_and_counts_suppressed() -> None:
    findings = some_findings()
    table = format_table(findings)
    active = [f for f in findings if f.suppressed is None]
    for finding in active:
        assert f"{finding.location}" in table and finding.message in table
    assert table.splitlines()[-1] == f"{len(active)} finding(s), {len(findings) - len(active)} suppressed"
