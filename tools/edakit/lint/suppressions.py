"""Inline suppressions in a spec: `# edakit: ignore[EDA002,EDA010] reason: why this is right here`.

A whole-line comment covers the next line; a trailing comment covers its own line. The reason is required: a
suppression without one (or naming an unknown rule) is itself a finding, EDA000, which cannot be suppressed.
Comments are found by their text, so the marker must not appear inside a YAML string value.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace

from edakit.lint.core import RULES, Finding, Severity, Suppression, Target, rule
from edakit.spec.model import Location

_COMMENT = re.compile(r"#\s*edakit:\s*ignore\[(?P<ids>[^\]]*)\](?P<rest>.*)$")
_REASON = re.compile(r"^\s*reason:\s*(?P<reason>\S.*?)\s*$")
SUPPRESSION_RULE = "EDA000"


def parse_suppressions(text: str) -> list[Suppression]:
    found = []
    for number, line in enumerate(text.splitlines(), start=1):
        match = _COMMENT.search(line)
        if match is None:
            continue
        reason = _REASON.match(match["rest"])
        whole_line = not line[: match.start()].strip()
        found.append(Suppression(
            line=number,
            column=match.start() + 1,
            covers=number + 1 if whole_line else number,
            rule_ids=tuple(part.strip() for part in match["ids"].split(",") if part.strip()),
            reason=reason["reason"] if reason else None,
        ))
    return found


def apply_suppressions(findings: list[Finding], suppressions: list[Suppression]) -> list[Finding]:
    """Mark each finding a valid suppression covers with that suppression's reason."""
    reasons = {(s.covers, rule_id): s.reason for s in suppressions if s.reason for rule_id in s.rule_ids}
    return [
        replace(f, suppressed=reasons[(f.location.line, f.rule_id)])
        if f.rule_id != SUPPRESSION_RULE and (f.location.line, f.rule_id) in reasons else f
        for f in findings
    ]


@rule(SUPPRESSION_RULE, "suppression-reason", Severity.ERROR,
      "A suppression must say why the rule does not apply here, so a reviewer can judge it.")
def suppression_reason(target: Target) -> Iterator[tuple[Location, str]]:
    for suppression in target.suppressions:
        where = Location(target.file, suppression.line, suppression.column)
        if not suppression.rule_ids:
            yield where, "suppression names no rule; write `# edakit: ignore[EDA0NN] reason: ...`"
        for rule_id in suppression.rule_ids:
            if rule_id == SUPPRESSION_RULE:
                yield where, f"{SUPPRESSION_RULE} cannot be suppressed: give the suppression its reason instead"
            elif rule_id not in RULES:
                yield where, f"suppression names unknown rule '{rule_id}'"
        if suppression.reason is None:
            yield where, "suppression without a reason; add `reason: <why the rule does not apply here>`"
