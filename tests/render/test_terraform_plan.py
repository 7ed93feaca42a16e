"""The renderer and the modules agree: every rendered file is accepted by `terraform plan` through the offline
harness, and the plan creates what the spec says."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from edakit.render import PROVIDER_SETTINGS_FILE, render_spec
from edakit.spec import load_spec
from edakit.tfharness import Harness

ROOT = Path(__file__).resolve().parents[2]
FANOUT_MODULE = "modules/aws-sns-sqs-fanout"
AWS_PATTERN = "patterns/fan-out/aws-sns-sqs"
# The Mongey/kafka provider needs bootstrap_servers, which only a root module's provider block has.
KAFKA_PATTERN = "patterns/fan-out/kafka"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def harness() -> Harness:
    return Harness(ROOT)


@pytest.fixture(scope="module")
def terraform(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A private copy of the modules and patterns used: other runs' init and plan files cannot interfere."""
    copy = tmp_path_factory.mktemp("terraform")
    ignore = shutil.ignore_patterns(".terraform", ".terraform.lock.hcl", "*.tfstate*")
    for part in (FANOUT_MODULE, "modules/kafka-topics", AWS_PATTERN, KAFKA_PATTERN):
        shutil.copytree(ROOT / "terraform" / part, copy / part, ignore=ignore)
    return copy


def _plan(harness: Harness, directory: Path, files: list[Path], env: str | None = None) -> dict[str, dict[str, Any]]:
    init = harness.init(directory)
    assert init.ok, [d.format() for d in init.diagnostics]
    result = harness.plan(directory, files, {"environment": env} if env else None)
    # Warnings count too: an undeclared variable in a var file is only a warning to Terraform.
    assert result.ok and not result.diagnostics, [d.format() for d in result.diagnostics]
    return {c["address"]: c["change"]["after"] for c in result.data["resource_changes"]}


@pytest.mark.parametrize("env", ["staging", "prod"])
def test_fan_out_module_plans_the_rendered_sns_sqs_file(
    harness: Harness, terraform: Path, env: str, tmp_path: Path
) -> None:
    spec = load_spec(ROOT / "configs/order-events-sns.yaml", env)
    files = {p.name: p for p in render_spec(spec, tmp_path)}
    planned = _plan(harness, terraform / FANOUT_MODULE, [files["aws-sns-sqs-fanout.auto.tfvars.json"]])
    topic = f"orders-sns-{env}-order-placed"
    assert planned["aws_sns_topic.this"]["name"] == topic
    for sub in spec.subscribers.values():
        assert sub.queue is not None
        queue = planned[f'aws_sqs_queue.this["{sub.name}"]']
        assert (queue["name"], queue["message_retention_seconds"]) == (
            f"{topic}-{sub.name}", sub.queue.message_retention_hours * 3600)
        assert planned[f'aws_sqs_queue.dlq["{sub.name}"]']["name"] == f"{topic}-{sub.name}-dlq"
        subscription = planned[f'aws_sns_topic_subscription.this["{sub.name}"]']
        policy = subscription["filter_policy"]
        assert (json.loads(policy) if policy else None) == (sub.filter.policy if sub.filter else None)
        assert subscription["raw_message_delivery"] is sub.queue.raw_message_delivery
    if env == "prod":  # the pattern root takes the same file plus the rendered provider settings
        _plan(harness, terraform / AWS_PATTERN, [files["aws-sns-sqs-fanout.auto.tfvars.json"],
                                     files[PROVIDER_SETTINGS_FILE]], env)


@pytest.mark.parametrize("env", ["staging", "prod"])
def test_kafka_pattern_plans_the_rendered_topics_file(
    harness: Harness, terraform: Path, env: str, tmp_path: Path
) -> None:
    spec = load_spec(ROOT / "configs/order-events-kafka.yaml", env)
    planned = _plan(harness, terraform / KAFKA_PATTERN, render_spec(spec, tmp_path), env)
    topics = {after["name"]: after for address, after in planned.items() if ".kafka_topic." in address}
    source = f"orders-kafka-{env}-order-placed"
    expected = {source}
    for sub in spec.subscribers.values():
        retries = {f"{source}.{sub.consumer_group}.retry.{n}" for n in range(1, sub.dlq.max_receive_count)}
        expected |= retries | {f"{source}.{sub.consumer_group}.dlq"}
        dlq = topics[f"{source}.{sub.consumer_group}.dlq"]
        assert dlq["config"]["retention.ms"] == str(sub.dlq.retention_hours * 3_600_000)
    assert set(topics) == expected
    channel = spec.channels["order-placed"].kafka
    assert channel is not None
    assert (topics[source]["partitions"], topics[source]["replication_factor"]) == (
        channel.partitions, channel.replication_factor)
