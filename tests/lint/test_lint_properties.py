"""Rule thresholds as properties: a finding appears exactly when the documented bound is crossed."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from hypothesis import example, given, settings
from hypothesis import strategies as st

from edakit.lint import RULES, Target, lint_target
from edakit.spec import load_spec

FIXTURES = Path(__file__).parent / "fixtures"
SPEC = load_spec(FIXTURES / "EDA004" / "pass" / "spec.yaml")  # one sqs-sns subscriber, 'email'


def rule_ids(target: Target, rule_id: str) -> list[str]:
    return [f.rule_id for f in lint_target(target) if f.rule_id == rule_id]


def fanout(**queue: int) -> Target:
    return Target(file="t.auto.tfvars.json", env=None, spec=None,
                  tfvars={"aws-sns-sqs-fanout": {"name": "t", "subscribers": {"email": queue}}})


@given(st.integers(1, 1000))
def test_max_receive_count_bounds(count: int) -> None:
    assert bool(rule_ids(fanout(max_receive_count=count), "EDA002")) == (not 2 <= count <= 30)


@given(st.integers(0, 100))
def test_kafka_deliveries_are_one_plus_retry_topics(retries: int) -> None:
    target = Target(file="k.auto.tfvars.json", env="staging", spec=None, tfvars={"kafka-topics": {
        "topics": {"t": {}}, "consumer_groups": {"g": {"topics": ["t"], "retry_topic_count": retries}}}})
    assert bool(rule_ids(target, "EDA002")) == (not 2 <= retries + 1 <= 30)
    assert rule_ids(target, "EDA010") == []  # staging
    assert bool(rule_ids(dataclasses.replace(target, env="prod"), "EDA010")) == (retries == 0)


@given(st.integers(60, 1209600), st.integers(60, 1209600))
def test_dlq_retention(source: int, dlq: int) -> None:
    target = fanout(message_retention_seconds=source, dlq_message_retention_seconds=dlq)
    assert bool(rule_ids(target, "EDA003")) == (dlq < source)


@given(st.integers(0, 43200), st.integers(1, 3600))
def test_visibility_timeout_is_six_times_processing(visibility: int, processing: int) -> None:
    spec = dataclasses.replace(SPEC, consumer=dataclasses.replace(SPEC.consumer, processing_timeout_seconds=processing))
    target = Target(file=SPEC.file, env=None, spec=spec, tfvars={"aws-sns-sqs-fanout": {
        "subscribers": {"email": {"visibility_timeout_seconds": visibility}}}})
    assert bool(rule_ids(target, "EDA004")) == (visibility < 6 * processing)
    assert bool(rule_ids(dataclasses.replace(target, spec=None), "EDA004")) is False  # no spec: nothing to compare


@given(st.integers(1, 5), st.integers(1, 5), st.sampled_from(["prod", "staging", None]))
def test_kafka_prod_durability(replication: int, insync: int, env: str | None) -> None:
    target = Target(file="k.auto.tfvars.json", env=env, spec=None, tfvars={"kafka-topics": {
        "default_replication_factor": replication, "topics": {"t": {"min_insync_replicas": insync}}}})
    assert bool(rule_ids(target, "EDA008")) == (env == "prod" and replication < 3)
    assert bool(rule_ids(target, "EDA009")) == (env == "prod" and insync < 2)


def test_tfvars_findings_point_at_the_nearest_written_key() -> None:
    target = dataclasses.replace(fanout(max_receive_count=0), positions={
        (): (1, 1), ("subscribers",): (3, 3), ("subscribers", "email"): (4, 5)})
    (finding,) = [f for f in lint_target(target) if f.rule_id == "EDA002"]
    assert (finding.location.file, finding.location.line, finding.location.column) == ("t.auto.tfvars.json", 4, 5)
    assert set(RULES) >= {f.rule_id for f in lint_target(target)}


JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 100) | st.text(max_size=8),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=6), children, max_size=3),
    max_leaves=10,
)
ENTRY_KEYS = st.sampled_from([
    "create_dlq", "max_receive_count", "message_retention_seconds", "dlq_message_retention_seconds",
    "visibility_timeout_seconds", "filter_policy", "filter_policy_scope", "retry_topic_count", "topics",
    "dlq_retention_hours", "dead_letter_policy", "filter", "retry_policy", "advanced_filters", "subject_filter",
    "included_event_types", "replication_factor", "min_insync_replicas", "partitions", "retention_hours",
])
NESTED = st.dictionaries(st.sampled_from(["enabled", "max_delivery_attempts", "create", "type", "operator", "key",
                                          "value", "values", "storage_account_name", "subject_begins_with"]),
                         JSON, max_size=3)
ENTRY = st.dictionaries(ENTRY_KEYS, JSON | NESTED | st.lists(NESTED | JSON, max_size=2), max_size=5)
MODULE_VARS = st.fixed_dictionaries({}, optional={
    "subscribers": st.dictionaries(st.text(max_size=4), ENTRY | JSON, max_size=2),
    "subscriptions": st.dictionaries(st.text(max_size=4), ENTRY | JSON, max_size=2),
    "event_subscriptions": st.dictionaries(st.text(max_size=4), ENTRY | JSON, max_size=2),
    "consumer_groups": st.dictionaries(st.text(max_size=4), ENTRY | JSON, max_size=2),
    "topics": st.dictionaries(st.text(max_size=4), ENTRY | JSON, max_size=2),
    "dead_letter_storage": JSON, "identity": JSON, "kms_master_key_id": JSON, "project_id": JSON,
    "fifo_topic": JSON, "content_based_deduplication": JSON, "default_replication_factor": JSON,
})


@settings(max_examples=150)
@given(st.sampled_from(["aws-sns-sqs-fanout", "kafka-topics", "gcp-pubsub", "azure-eventgrid"]), MODULE_VARS,
       st.sampled_from(["prod", None]))
@example("kafka-topics", {"consumer_groups": {"": {"topics": [{}]}}}, "prod")  # a group's topic that is no name
def test_malformed_tfvars_give_findings_not_crashes(module: str, variables: dict, env: str | None) -> None:
    target = Target(file="m.auto.tfvars.json", env=env, spec=None, tfvars={module: variables})
    for finding in lint_target(target):
        assert finding.rule_id in RULES and finding.message
