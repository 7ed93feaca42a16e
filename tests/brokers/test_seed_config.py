"""The seed's configs/event-config.yaml keys, as the seed writes them (bootstrap_servers a comma-separated string),
load, and each one drives what its name says: Terraform inputs, runtime consumer settings, the adapter's
connection."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from edakit.render import render_spec
from edakit.runtime.adapters.kafka import KafkaBroker
from edakit.runtime.adapters.sqs_sns import SqsSnsBroker
from edakit.runtime.settings import SettingsError, broker_settings, consumer_settings, spec_broker
from edakit.spec import SpecError, load_spec

ORDERS = {"events": {"OrderPlaced": {"schema": "schemas/order-events/v1/order-placed.avsc", "version": 1}},
          "channels": {"orders": {"events": ["OrderPlaced"]}},
          "subscribers": {"billing": {"channel": "orders"}}}


def seed(tmp_path: Path, repo_root: Path, bootstrap: str, **changes: object) -> Path:
    """The seed config as committed, with a comma-separated bootstrap_servers and the fan-out it serves."""
    (tmp_path / "schemas").symlink_to(repo_root / "schemas")
    data = yaml.safe_load((repo_root / "configs" / "event-config.yaml").read_text(encoding="utf-8"))
    data["kafka"]["bootstrap_servers"] = bootstrap
    data |= {**ORDERS, **changes}
    path = tmp_path / "event-config.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def test_every_seed_key_lands_where_its_name_says(tmp_path: Path, repo_root: Path) -> None:
    spec = load_spec(seed(tmp_path, repo_root, "kafka-1:9092, kafka-2:9092"))
    out = tmp_path / "build"
    files = {p.name: json.loads(p.read_text()) for p in render_spec(spec, out)}
    topics = files["kafka-topics.auto.tfvars.json"]
    assert files["provider.auto.tfvars.json"]["bootstrap_servers"] == ["kafka-1:9092", "kafka-2:9092"]
    assert (topics["default_replication_factor"], topics["default_partitions"], topics["default_retention_hours"],
            topics["default_min_insync_replicas"]) == (1, 3, 168, 1)
    [topic] = topics["topics"].values()
    assert (topic["replication_factor"], topic["partitions"], topic["retention_hours"]) == (1, 3, 168)
    settings = consumer_settings(spec, "billing")
    assert (settings.max_messages, settings.lease_seconds, settings.idempotency_window_hours) == (500, 30, 24)
    connection = broker_settings(spec)
    assert connection.bootstrap_servers == "kafka-1:9092,kafka-2:9092"
    assert connection.schema_registry_url == "http://localhost:8081" and connection.region == "us-east-1"
    assert isinstance(spec_broker(spec), KafkaBroker)


def test_the_sqs_sns_keys_drive_the_queues(tmp_path: Path, repo_root: Path) -> None:
    spec = load_spec(seed(tmp_path, repo_root, "localhost:9092", broker="sqs-sns"))
    files = {p.name: json.loads(p.read_text()) for p in render_spec(spec, tmp_path / "build")}
    billing = files["aws-sns-sqs-fanout.auto.tfvars.json"]["subscribers"]["billing"]
    assert (billing["visibility_timeout_seconds"], billing["max_receive_count"]) == (30, 5)
    assert files["provider.auto.tfvars.json"] == {"region": "us-east-1"}
    assert consumer_settings(spec, "billing").retry.max_attempts == 5
    broker = spec_broker(spec)
    assert isinstance(broker, SqsSnsBroker) and broker.sqs.meta.region_name == "us-east-1"


def test_bootstrap_servers_reach_the_kafka_adapter(tmp_path: Path, repo_root: Path, tansu_bootstrap: str) -> None:
    spec = load_spec(seed(tmp_path, repo_root, f"{tansu_bootstrap} , {tansu_bootstrap}"))
    broker = spec_broker(spec)
    assert broker.bootstrap_servers == f"{tansu_bootstrap},{tansu_bootstrap}"
    broker.check_reachable(5)  # the cluster the seed names answers through the adapter


@pytest.mark.parametrize(("value", "expected"), [
    ("localhost", "kafka.bootstrap_servers: \"localhost\": expected host:port brokers"),
    ("a:1,,b:2", "expected host:port brokers: a list, or one comma-separated string"),
    ("a:1;b:2", "expected host:port brokers"),
])
def test_a_bad_bootstrap_string_is_one_located_problem(tmp_path: Path, repo_root: Path, value: str,
                                                       expected: str) -> None:
    with pytest.raises(SpecError) as error:
        load_spec(seed(tmp_path, repo_root, value))
    [problem] = error.value.problems
    assert expected in str(problem) and problem.line > 0


def test_a_broker_without_its_block_is_a_settings_error(tmp_path: Path, repo_root: Path) -> None:
    spec = load_spec(seed(tmp_path, repo_root, "localhost:9092", channels={}, subscribers={}, broker="pubsub"))
    with pytest.raises(SettingsError, match="broker: pubsub needs the top-level `pubsub` block"):
        spec_broker(spec)
