"""Inline suppressions: which lines they cover, the required reason, and what they do to findings."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from edakit.lint import blocking, lint_paths
from edakit.lint.suppressions import parse_suppressions

FIXTURES = Path(__file__).parent / "fixtures"
RULE_ID = st.from_regex(r"EDA[0-9]{3}", fullmatch=True)
REASON = st.text(st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp")), min_size=1).filter(str.strip)


@given(st.lists(RULE_ID, min_size=1, max_size=4), REASON, st.booleans())
def test_comment_round_trip(rule_ids: list[str], reason: str, trailing: bool) -> None:
    comment = f"# edakit: ignore[{', '.join(rule_ids)}] reason: {reason}"
    text = f"a: 1\nkey: value  {comment}\n" if trailing else f"a: 1\n  {comment}\nkey: value\n"
    (suppression,) = parse_suppressions(text)
    assert suppression.rule_ids == tuple(rule_ids)
    assert suppression.reason == reason.strip()
    assert suppression.line == 2
    assert suppression.covers == (2 if trailing else 3)


@given(st.lists(RULE_ID, min_size=1, max_size=3), st.sampled_from(["", " ", " because it is fine", " reason:"]))
def test_a_suppression_without_reason_has_none(rule_ids: list[str], rest: str) -> None:
    (suppression,) = parse_suppressions(f"# edakit: ignore[{','.join(rule_ids)}]{rest}\nkey: 1\n")
    assert suppression.reason is None


def test_plain_comments_are_not_suppressions() -> None:
    assert parse_suppressions("# edakit ignores nothing here\nkey: 1  # ignore[EDA001] reason: x\n") == []


def test_suppression_marks_the_finding_with_its_reason() -> None:
    findings = lint_paths([FIXTURES / "EDA000" / "pass" / "spec.yaml"])
    (finding,) = findings
    assert finding.rule_id == "EDA004"
    assert finding.suppressed == "the e-mail sender times out after 5 s; 20 s is plenty"
    assert blocking(findings) == []


def test_suppression_covers_only_its_rule_and_line(tmp_repo: Path) -> None:
    text = (FIXTURES / "EDA000" / "pass" / "spec.yaml").read_text(encoding="utf-8")
    other_rule = tmp_repo / "other-rule.yaml"
    other_rule.write_text(text.replace("ignore[EDA004]", "ignore[EDA002]"), encoding="utf-8")
    assert [(f.rule_id, f.suppressed) for f in lint_paths([other_rule])] == [("EDA004", None)]
    too_far = tmp_repo / "too-far.yaml"
    too_far.write_text(text.replace("    sqs_sns:\n      # edakit", "    # edakit").replace(
        "plenty\n      visibility", "plenty\n    sqs_sns:\n      visibility"), encoding="utf-8")
    assert [(f.rule_id, f.suppressed) for f in lint_paths([too_far])] == [("EDA004", None)]


def test_a_suppression_without_reason_suppresses_nothing() -> None:
    findings = lint_paths([FIXTURES / "EDA000" / "fail" / "spec.yaml"])
    assert [f.rule_id for f in blocking(findings)] == ["EDA000"]
