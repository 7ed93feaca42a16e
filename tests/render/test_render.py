"""Rendered tfvars: byte-for-byte golden files for every spec and environment, deterministic, module-shaped."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import hcl2
import pytest

from edakit.render import (
    PROVIDER_SETTINGS_FILE,
    RENDERERS,
    provider_settings,
    render_all,
    render_spec,
    render_tfvars,
    tfvars_file,
)
from edakit.spec import SpecError, load_spec

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("EDAKIT_UPDATE_GOLDEN") == "1"  # regenerate after an intended change, then review the diff
SPECS = sorted((ROOT / "configs").glob("*.yaml"))
MODULES = ROOT / "terraform" / "modules"


def _variants() -> list[tuple[Path, str | None]]:
    return [(path, env) for path in SPECS for env in (None, *load_spec(path).environments)]


@pytest.mark.parametrize(("path", "env"), _variants(), ids=lambda v: getattr(v, "stem", v or "base"))
def test_rendered_files_match_golden(path: Path, env: str | None, tmp_path: Path) -> None:
    written = render_spec(load_spec(path, env), tmp_path)
    golden = GOLDEN / path.stem / (env or "base")
    if UPDATE:
        shutil.rmtree(golden, ignore_errors=True)
        golden.mkdir(parents=True)
        for file in written:
            shutil.copy(file, golden / file.name)
    assert sorted(f.name for f in written) == sorted(f.name for f in golden.glob("*.json"))
    for file in written:
        assert file.read_bytes() == (golden / file.name).read_bytes(), f"{file.name} differs from {golden}"


def test_the_fan_out_specs_render_their_modules() -> None:
    sns = render_tfvars(load_spec(ROOT / "configs/order-events-sns.yaml", "staging"))
    kafka = render_tfvars(load_spec(ROOT / "configs/order-events-kafka.yaml", "prod"))
    assert set(sns) == {"aws-sns-sqs-fanout"} and set(kafka) == {"kafka-topics"}
    fanout = sns["aws-sns-sqs-fanout"]
    assert fanout["name"] == "orders-sns-staging-order-placed"
    billing = fanout["subscribers"]["billing"]
    assert json.loads(billing["filter_policy"]) == {"total_amount": [{"numeric": [">", 0]}]}
    assert (billing["filter_policy_scope"], billing["max_receive_count"]) == ("MessageBody", 3)
    # Hours in the spec, seconds in AWS: the staging override of 24 h reaches the queue.
    assert billing["message_retention_seconds"] == 24 * 3600
    assert provider_settings(load_spec(ROOT / "configs/order-events-sns.yaml", "prod")) == {"region": "eu-central-1"}
    assert provider_settings(load_spec(ROOT / "configs/order-events-kafka.yaml", "staging")) == {
        "bootstrap_servers": ["kafka-staging.internal:9092"]}
    groups = kafka["kafka-topics"]["consumer_groups"]
    assert groups["orders-kafka-prod-email"]["retry_topic_count"] == 4  # 5 deliveries = topic + 4 retry topics
    assert groups["billing"]["topics"] == ["orders-kafka-prod-order-placed"]
    assert kafka["kafka-topics"]["topics"]["orders-kafka-prod-order-placed"]["retention_hours"] == 336


def _declared_variables(module_dir: Path) -> set[str]:
    with (module_dir / "variables.tf").open() as handle:
        return {name.strip("\"") for block in hcl2.load(handle)["variable"] for name in block}  # v8 keeps quotes


@pytest.mark.parametrize(("path", "env"), _variants(), ids=lambda v: getattr(v, "stem", v or "base"))
def test_module_files_hold_only_the_module_s_variables(path: Path, env: str | None) -> None:
    for module, variables in render_tfvars(load_spec(path, env)).items():
        assert set(variables) <= _declared_variables(MODULES / module), module


def test_every_module_has_a_renderer_and_a_spec_that_uses_it() -> None:
    assert set(RENDERERS) == {p.name for p in MODULES.iterdir() if (p / "variables.tf").is_file()}
    rendered = {module for path, env in _variants() for module in render_tfvars(load_spec(path, env))}
    # No shipped pattern root provisions the Azure Blob and GCS stores yet; specs below render them.
    assert set(RENDERERS) - rendered == {"claim-check-store-azure-blob", "claim-check-store-gcs"}


def test_rendering_is_deterministic_and_removes_stale_files(tmp_path: Path) -> None:
    spec = load_spec(ROOT / "configs/order-events-kafka.yaml", "staging")
    first = {p.name: p.read_bytes() for p in render_spec(spec, tmp_path / "a")}
    second = {p.name: p.read_bytes() for p in render_spec(spec, tmp_path / "b")}
    assert first == second and all(b.endswith(b"}\n") for b in first.values())
    stale = tmp_path / "a" / tfvars_file("aws-sns-sqs-fanout")
    stale.write_text("{}\n")
    assert (tmp_path / "a" / PROVIDER_SETTINGS_FILE).exists()
    other = tmp_path / "a" / "notes.json"
    other.write_text("{}\n")
    render_spec(spec, tmp_path / "a")
    assert not stale.exists() and other.exists()  # only files a renderer owns are removed


def test_render_all_renders_every_environment_of_every_spec(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "configs", tmp_path / "configs")
    shutil.copytree(ROOT / "schemas", tmp_path / "schemas")
    written = render_all(tmp_path)
    relative = {str(p.relative_to(tmp_path / "build")) for p in written}
    assert "orders-sns/prod/aws-sns-sqs-fanout.auto.tfvars.json" in relative
    assert "orders-kafka/staging/kafka-topics.auto.tfvars.json" in relative
    assert all(p.name.removesuffix(".auto.tfvars.json") in RENDERERS or p.name == PROVIDER_SETTINGS_FILE
               for p in written)
    broken = tmp_path / "configs" / "broken.yaml"
    broken.write_text("name: broken\nbroker: kafka\nkafka: {bootstrap_servers: []}\n")
    with pytest.raises(SpecError) as caught:
        render_all(tmp_path)
    assert [str(p) for p in caught.value.problems] == [
        f"{broken}:3:9 kafka.bootstrap_servers: []: expected host:port brokers: a list, or one comma-separated "
        'string such as "host1:9092,host2:9092"'
    ]


FIFO_SPEC = """
name: shop
broker: sqs-sns
sqs_sns: {region: us-east-1, kms_master_key_id: alias/shop-events}
events:
  OrderPlaced: {schema: schemas/order-events/v1/order-placed.avsc, version: 1}
channels:
  orders:
    events: [OrderPlaced]
    fifo: true
    sqs_sns: {content_based_deduplication: true}
subscribers:
  ledger:
    channel: orders
    dlq: {enabled: false}
"""


def test_fifo_channel_without_dlq_renders_fifo_topic_and_no_dlq(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("")
    shutil.copytree(ROOT / "schemas", tmp_path / "schemas")
    (tmp_path / "shop.yaml").write_text(FIFO_SPEC)
    fanout = render_tfvars(load_spec(tmp_path / "shop.yaml"))["aws-sns-sqs-fanout"]
    assert (fanout["fifo_topic"], fanout["content_based_deduplication"]) == (True, True)
    assert fanout["kms_master_key_id"] == "alias/shop-events"
    ledger = fanout["subscribers"]["ledger"]
    assert ledger["create_dlq"] is False
    assert "max_receive_count" not in ledger and "dlq_message_retention_seconds" not in ledger
