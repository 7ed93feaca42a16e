"""Every lint rule against its failing and passing fixtures (tests/lint/fixtures/<rule>/<fail|pass>[-variant]/)."""

from __future__ import annotations

from pathlib import Path

import pytest

from edakit.lint import RULES, Finding, lint_paths
from edakit.lint.run import MODULES
from edakit.render import render_spec
from edakit.spec import load_spec

FIXTURES = Path(__file__).parent / "fixtures"
CASES = sorted(p for p in FIXTURES.glob("EDA*/*") if p.is_dir())

# For each failing fixture: the text its finding's file:line:col must point at.
POINTS_AT = {
    "EDA000/fail": "# edakit: ignore[EDA004]",
    "EDA000/fail-unknown-rule": "# edakit: ignore[EDA999]",
    "EDA001/fail": '"create_dlq"',
    "EDA002/fail": "max_receive_count: 1",
    "EDA002/fail-pubsub": '"max_delivery_attempts"',
    "EDA003/fail": '"dlq_message_retention_seconds"',
    "EDA003/fail-kafka": '"dlq_retention_hours"',
    "EDA004/fail": "visibility_timeout_seconds: 20",
    "EDA005/fail": '"content_based_deduplication"',
    "EDA006/fail": '"enabled"',
    "EDA006/fail-project": "{",  # a missing key is reported at the document
    "EDA007/fail": "{",
    "EDA007/fail-identity": '"identity"',
    "EDA007/fail-user-assigned": '"identity"',
    "EDA008/fail": "default_replication_factor: 2",
    "EDA009/fail": "min_insync_replicas: 1",
    "EDA010/fail": "max_receive_count: 1",
    "EDA011/fail": "parallelism: 8",
    "EDA011/fail-staging": "parallelism: 6",  # prod has 6 partitions; staging's 2 cannot keep 6 consumers busy
    "EDA011/fail-no-environment": "parallelism: 8",
    "EDA012/fail": "kafka:",
    "EDA013/fail": "enable_auto_commit: true",
    "EDA014/fail": '"kms_master_key_id"',  # the spec refuses an AWS managed key itself; a hand-written tfvars may not
    "EDA014/fail-empty-key": '"kms_master_key_id"',
    "EDA015/fail": "filter:",
    "EDA015/fail-pubsub": '"filter"',
    "EDA015/fail-eventgrid": '"email"',
    "EDA016/fail": "filter:",
    "EDA016/fail-no-examples": "filter:",
    "EDA017/fail": "PlaceOrder:",
    "EDA018/fail": "retention_hours: 336",
    "EDA018/fail-kafka": "retention_hours: 168",
    "EDA018/fail-archive": "archive_retention_days: 0",
    "EDA030/fail": "attributes:",
    "EDA030/fail-claim-check": "attributes:",
}


def lint_case(case: Path) -> list[Finding]:
    files = sorted(case.iterdir())
    # tfvars files carry no environment; lint them as prod so the prod-only rules apply
    env = "prod" if all(f.name.endswith(".tfvars.json") for f in files) else None
    return lint_paths(files, env, events_dir=FIXTURES / "events")


def case_id(case: Path) -> str:
    return f"{case.parent.name}/{case.name}"


def test_every_rule_has_a_failing_and_a_passing_fixture() -> None:
    kinds = {(case.parent.name, case.name.split("-")[0]) for case in CASES}
    missing = [(rule_id, kind) for rule_id in RULES for kind in ("fail", "pass") if (rule_id, kind) not in kinds]
    assert not missing
    assert {case.parent.name for case in CASES} == set(RULES)


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_fixture(case: Path) -> None:
    rule_id = case.parent.name
    active = [f for f in lint_case(case) if f.rule_id == rule_id and f.suppressed is None]
    if case.name.startswith("pass"):
        assert active == []
        return
    assert active, f"{rule_id} did not fire on {case_id(case)}"
    assert all(f.severity is RULES[rule_id].severity for f in active)
    finding = active[0]
    line = Path(finding.location.file).read_text(encoding="utf-8").splitlines()[finding.location.line - 1]
    assert line[finding.location.column - 1:].startswith(POINTS_AT[case_id(case)]), (finding, line)


def test_every_failing_fixture_has_an_expected_location() -> None:
    assert {case_id(c) for c in CASES if c.name.startswith("fail")} == set(POINTS_AT)


def test_rules_are_documented() -> None:
    for rule in RULES.values():
        assert rule.id.startswith("EDA") and len(rule.id) == 6
        assert rule.rationale.endswith(".") and "\n" not in rule.rationale
    assert len({r.name for r in RULES.values()}) == len(RULES)


def test_prod_rules_stay_quiet_outside_prod() -> None:
    spec = FIXTURES / "EDA008" / "fail" / "spec.yaml"
    assert [f for f in lint_paths([spec], "prod") if f.rule_id == "EDA008"]
    staging_rf_1 = FIXTURES / "EDA008" / "pass" / "spec.yaml"  # replication factor 1 in staging only
    assert [f for f in lint_paths([staging_rf_1], "staging") if f.rule_id.startswith("EDA0")] == []
    tfvars = FIXTURES / "EDA003" / "fail-kafka" / "kafka-topics.auto.tfvars.json"
    assert [f.rule_id for f in lint_paths([tfvars], "staging")] == ["EDA003"]


def test_shipped_configs_lint_clean(repo_root: Path) -> None:
    findings = lint_paths(sorted((repo_root / "configs").glob("*.yaml")))
    assert [f for f in findings if f.suppressed is None] == []


def test_rendered_tfvars_of_shipped_configs_lint_clean(repo_root: Path, tmp_path: Path) -> None:
    checked = 0
    for config in sorted((repo_root / "configs").glob("*.yaml")):
        base = load_spec(config)
        for env in base.environments or (None,):
            written = [path for path in render_spec(load_spec(config, env), tmp_path / config.stem / str(env))
                       if path.name.removesuffix(".auto.tfvars.json") in MODULES]
            assert [f for f in lint_paths(written, env) if f.suppressed is None] == []
            checked += len(written)
    assert checked >= 4
