"""The renderer and the modules agree: every rendered file is accepted by `terraform plan` through the offline
harness, and the plan creates what the spec says."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from edakit.render import PROVIDER_SETTINGS_FILE, render_spec, render_tfvars
from edakit.spec import load_spec
from edakit.tfharness import Harness

ROOT = Path(__file__).resolve().parents[2]
FANOUT_MODULE = "modules/aws-sns-sqs-fanout"
AWS_PATTERN = "patterns/fan-out/aws-sns-sqs"
# The Mongey/kafka provider needs bootstrap_servers, which only a root module's provider block has.
KAFKA_PATTERN = "patterns/fan-out/kafka"
# Spec -> the pattern root its render is planned with (as `make validate` does: every file of the environment).
PATTERNS = {
    "order-events-eventgrid": "patterns/fan-out/azure-eventgrid",
    "order-events-pubsub": "patterns/fan-out/gcp-pubsub",
    "order-routing-eventbridge": "patterns/content-based-routing/aws-eventbridge",
    "order-claim-check": "patterns/claim-check/aws-s3-sns-sqs",
    "order-saga": "patterns/saga/aws-stepfunctions",
    "order-workers": "patterns/competing-consumers/aws-sqs",
    "order-redrive": "patterns/dlq-redrive/aws-sqs",
}
STORE_MODULES = ("modules/claim-check-store-azure-blob", "modules/claim-check-store-gcs")

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def harness() -> Harness:
    return Harness(ROOT)


@pytest.fixture(scope="module")
def terraform(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A private copy of the modules and patterns used: other runs' init and plan files cannot interfere."""
    copy = tmp_path_factory.mktemp("terraform")
    ignore = shutil.ignore_patterns(".terraform", ".terraform.lock.hcl", "*.tfstate*")
    modules = [p.relative_to(ROOT / "terraform") for p in (ROOT / "terraform/modules").iterdir()]
    for part in (*modules, AWS_PATTERN, KAFKA_PATTERN, *PATTERNS.values()):
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
        assert planned[f'aws_sqs_queue.dead_letter["{sub.name}"]']["name"] == f"{topic}-{sub.name}-dlq"
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


def _resources(planned: dict[str, dict[str, Any]], resource_type: str) -> dict[str, dict[str, Any]]:
    """Planned resources of one type, by address, whichever module they sit in."""
    return {address: after for address, after in planned.items()
            if address.split(".")[-2].split("[")[0] == resource_type}


@pytest.mark.parametrize("spec_file", sorted(PATTERNS))
def test_every_pattern_root_plans_its_spec_s_staging_render(
    harness: Harness, terraform: Path, spec_file: str, tmp_path: Path
) -> None:
    spec = load_spec(ROOT / "configs" / f"{spec_file}.yaml", "staging")
    planned = _plan(harness, terraform / PATTERNS[spec_file], render_spec(spec, tmp_path), "staging")
    channel = next(iter(spec.channels.values()), None)
    if spec_file == "order-events-eventgrid":
        subscriptions = _resources(planned, "azurerm_eventgrid_event_subscription")
        assert {s["name"] for s in subscriptions.values()} == set(spec.subscribers)
        billing = next(s for s in subscriptions.values() if s["name"] == "billing")
        assert billing["retry_policy"] == [{"max_delivery_attempts": 10, "event_time_to_live": 60}]
        assert billing["advanced_filter"][0]["number_greater_than"][0]["key"] == "data.total_amount"
        email = next(s for s in subscriptions.values() if s["name"] == "email")
        assert email["webhook_endpoint"][0]["active_directory_app_id_or_uri"] == "api://orders-email-webhook"
        (topic,) = _resources(planned, "azurerm_eventgrid_topic").values()
        assert topic["public_network_access_enabled"] is False
    elif spec_file == "order-events-pubsub":
        subscriptions = {s["name"]: s for s in _resources(planned, "google_pubsub_subscription").values()}
        billing = subscriptions[f"{channel.resource_name}-billing"]  # type: ignore[union-attr]
        assert billing["dead_letter_policy"][0]["max_delivery_attempts"] == 10
        assert billing["filter"] == spec.subscribers["billing"].filter.policy  # type: ignore[union-attr]
        assert f"{channel.resource_name}-billing-dlq" in subscriptions  # dead letters need a subscription too
    elif spec_file == "order-routing-eventbridge":
        rules = {r["name"]: r for r in _resources(planned, "aws_cloudwatch_event_rule").values()}
        assert set(rules) == set(spec.subscribers)
        pattern = spec.subscribers["fraud-review"].filter
        assert pattern is not None and json.loads(rules["fraud-review"]["event_pattern"]) == pattern.policy
    elif spec_file == "order-claim-check":
        (bucket,) = _resources(planned, "aws_s3_bucket").values()
        assert bucket["bucket"] == "orders-claims-staging-claim-checks"
    elif spec_file == "order-saga":
        (machine,) = _resources(planned, "aws_sfn_state_machine").values()
        definition = json.loads(machine["definition"])  # the saga has a deadline: its clock state comes first
        assert definition["StartAt"] == "SagaClock" and definition["States"]["SagaClock"]["Next"] == "DeadlineCreateOrder"
    else:  # the SQS patterns: one queue and one DLQ per subscriber
        assert channel is not None
        queues = {q["name"] for q in _resources(planned, "aws_sqs_queue").values()}
        for sub in spec.subscribers:
            assert {f"{channel.resource_name}-{sub}", f"{channel.resource_name}-{sub}-dlq"} <= queues


@pytest.mark.parametrize(("kind", "module", "provider"), [
    ("azure-blob", STORE_MODULES[0], {"azurerm": {"features": {}}}),
    ("gcs", STORE_MODULES[1], {"google": {}}),
])
def test_claim_check_store_modules_plan_their_renders(
    harness: Harness, terraform: Path, kind: str, module: str, provider: dict[str, Any], tmp_path: Path
) -> None:
    """No pattern root calls these stores yet: a root holding only the provider and the module call plans them."""
    from test_render_brokers import store_spec  # the same test specs the render tests use

    spec = load_spec(store_spec(tmp_path, kind))
    variables = render_tfvars(spec)[module.removeprefix("modules/")]
    wrapper = terraform / "wrappers" / kind
    wrapper.mkdir(parents=True)
    call = {"source": f"../../{module}", **variables}
    (wrapper / "main.tf.json").write_text(json.dumps({"provider": provider, "module": {"store": call}}))
    planned = _plan(harness, wrapper, [])
    assert spec.claim_check is not None
    names = {after.get("name") for after in planned.values()}
    assert spec.claim_check.name in names  # the account or bucket the spec names
