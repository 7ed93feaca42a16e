"""The repository's own specs load in every environment, and the spec schema is what editors expect."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from edakit.spec import SCHEMA_PATH, load_spec, spec_schema
from edakit.spec.schema import defaults

ROOT = Path(__file__).resolve().parents[2]
SPECS = sorted((ROOT / "configs").glob("*.yaml"))


def test_the_kit_ships_the_legacy_config_and_both_fan_out_specs() -> None:
    assert {p.name for p in SPECS} >= {"event-config.yaml", "order-events-sns.yaml", "order-events-kafka.yaml"}


@pytest.mark.parametrize("path", SPECS, ids=lambda p: p.name)
def test_every_spec_loads_in_every_environment(path: Path) -> None:
    base = load_spec(path)
    for env in base.environments:
        assert load_spec(path, env).environment == env
    for event in base.events.values():
        assert event.schema_path.is_file() and event.schema_path.is_relative_to(ROOT)


def test_legacy_config_keeps_the_settings_users_know() -> None:
    spec = load_spec(ROOT / "configs" / "event-config.yaml")
    assert spec.broker == "kafka" and spec.kafka is not None and spec.sqs_sns is not None
    assert spec.kafka.bootstrap_servers == ("localhost:9092",)
    assert (spec.sqs_sns.dlq_max_receive_count, spec.sqs_sns.queue_defaults.visibility_timeout_seconds) == (5, 30)
    assert spec.consumer.enable_auto_commit is False and spec.consumer.idempotency_window_hours == 24


def test_order_events_fan_out_to_email_billing_and_audit_on_both_brokers() -> None:
    for name, broker in (("order-events-sns.yaml", "sqs-sns"), ("order-events-kafka.yaml", "kafka")):
        spec = load_spec(ROOT / "configs" / name, "staging")
        (channel,) = spec.channels.values()
        assert (channel.broker, channel.events) == (broker, ("OrderPlaced",))
        assert {s.name for s in spec.subscribers_of(channel.name)} == {"email", "billing", "audit"}


def _objects(node: Any, where: str = "#") -> list[tuple[str, dict[str, Any]]]:
    found = []
    if isinstance(node, dict):
        if node.get("type") == "object":
            found.append((where, node))
        for key, value in node.items():
            found += _objects(value, f"{where}/{key}")
    return found


def test_schema_is_draft_2020_12_and_closed_everywhere() -> None:
    schema = json.loads(SCHEMA_PATH.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    for where, node in _objects(schema):
        if where.startswith("#/$defs/environment/"):
            continue  # override blocks are partial; the merged spec is checked against the closed definitions
        # Open maps of named entries say what each entry is; every other object is closed.
        closed = node.get("additionalProperties") is False or isinstance(node.get("additionalProperties"), dict)
        assert closed, f"{where} allows unknown keys"


def test_defaults_come_from_the_schema() -> None:
    assert defaults("kafka_settings") == {
        "default_replication_factor": 3, "default_partitions": 3, "retention_hours": 168, "min_insync_replicas": 2
    }
    assert defaults("sqs_sns_settings")["visibility_timeout_seconds"] == 30  # through a $ref
    assert defaults("channel", "kafka") == {"cleanup_policy": "delete", "producers": []}
    assert spec_schema() is spec_schema()
