"""Claim-check settings from the spec's claim_check block: per-broker default thresholds below the documented limits,
the size attribute counted against the channel's attribute budget, and delete-after-processing refused for a fan-out."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from edakit.render import render_spec
from edakit.runtime.claimcheck import MESSAGE_LIMIT_BYTES, OffloadPolicy, default_threshold
from edakit.runtime.claimcheck.limits import ATTRIBUTE_ROOM, LIMITS
from edakit.spec.errors import SpecError
from edakit.runtime.claimcheck.settings import claim_check_settings
from edakit.runtime.settings import SettingsError
from edakit.spec import load_spec

ROOT = Path(__file__).resolve().parents[3]
SPEC = ROOT / "configs" / "order-claim-check.yaml"
TOPIC = "orders-claims-staging-order-documents"


def variant(tmp_path: Path, old: str, new: str) -> Path:
    text = SPEC.read_text()
    assert text.count(old) == 1, old
    path = tmp_path / "spec.yaml"
    path.write_text(text.replace(old, new))
    return path


def settings(path: Path):  # noqa: ANN201
    return claim_check_settings(load_spec(path, "staging", root=ROOT))


def test_defaults_every_channel_below_the_sns_limit_and_the_store_terraform_creates(tmp_path: Path) -> None:
    spec = load_spec(SPEC, "staging")
    found = claim_check_settings(spec)
    assert found.policies == {TOPIC: OffloadPolicy(180_224)} and not found.deletes(TOPIC)
    files = {p.name: p for p in render_spec(spec, tmp_path)}
    tfvars = json.loads(files["claim-check-store-aws-s3.auto.tfvars.json"].read_text())
    assert (found.store, found.name) == ("s3", tfvars["bucket"])


@pytest.mark.parametrize("broker", sorted(MESSAGE_LIMIT_BYTES))
def test_every_default_threshold_leaves_room_for_base64_and_attributes(broker: str) -> None:
    expansion = 4 / 3 if LIMITS[broker].base64 else 1
    assert default_threshold(broker) * expansion + ATTRIBUTE_ROOM <= MESSAGE_LIMIT_BYTES[broker]


def test_unknown_broker_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="no message size limit known for broker 'carrier-pigeon'"):
        default_threshold("carrier-pigeon")


def test_threshold_and_always_offload_from_the_spec(tmp_path: Path) -> None:
    found = settings(variant(tmp_path, "  payload_expiration_days: 30\n",
                             "  payload_expiration_days: 30\n  threshold_bytes: 4096\n  always_offload: true\n"))
    assert found.policies[TOPIC] == OffloadPolicy(4096, always=True)


def test_a_threshold_at_the_brokers_limit_is_refused(tmp_path: Path) -> None:
    path = variant(tmp_path, "  payload_expiration_days: 30\n",
                   "  payload_expiration_days: 30\n  threshold_bytes: 262144\n")
    with pytest.raises(SettingsError, match=r"claim_check.threshold_bytes: 262144 is not below the 262144-byte"):
        settings(path)


def test_an_unknown_channel_is_named(tmp_path: Path) -> None:
    path = variant(tmp_path, "  payload_expiration_days: 30\n", "  payload_expiration_days: 30\n  channels: [orders]\n")
    # The spec check refuses it where it is written, before any runtime setting is read.
    with pytest.raises(SpecError, match=r"claim_check.channels\[0\]: 'orders' is not a channel of this spec; "
                                        r"channels: order-documents"):
        settings(path)


def test_delete_after_processing_is_refused_for_a_fan_out(tmp_path: Path) -> None:
    path = variant(tmp_path, "  payload_expiration_days: 30\n",
                   "  payload_expiration_days: 30\n  delete_after_processing: true\n")
    with pytest.raises(SettingsError, match="fans out to archive, invoicing, which all read the same object"):
        settings(path)


def test_delete_after_processing_for_a_single_subscriber(tmp_path: Path) -> None:
    text = SPEC.read_text().replace("  payload_expiration_days: 30\n",
                                    "  payload_expiration_days: 30\n  delete_after_processing: true\n")
    archive = text.index("  archive:")
    path = tmp_path / "spec.yaml"
    path.write_text(text[:archive] + text[text.index("\nenvironments:") + 1:])
    assert settings(path).deletes(TOPIC)


def test_the_size_attribute_counts_against_the_raw_delivery_budget(tmp_path: Path) -> None:
    raw = variant(tmp_path, "    channel: order-documents\n\nenvironments",
                  "    channel: order-documents\n    sqs_sns:\n      raw_message_delivery: true\n\nenvironments")
    assert settings(raw).policies  # 9 attributes at most, and the size: 10, SQS's limit
    full = tmp_path / "full.yaml"
    full.write_text(raw.read_text().replace("    events: [OrderPlaced]\n",
                                            "    events: [OrderPlaced]\n    attributes:\n      headers: [tenant]\n"))
    with pytest.raises(SettingsError, match=r"channel 'order-documents' may carry 10 attributes, and an offloaded "
                                            r"message one more \(its size\); the budget is 10"):
        settings(full)


def test_a_spec_without_the_block_says_so(tmp_path: Path) -> None:
    text = SPEC.read_text()
    start, end = text.index("claim_check:\n"), text.index("events:\n")
    path = tmp_path / "spec.yaml"
    staging = "  staging:\n    claim_check:\n      payload_expiration_days: 15\n"
    path.write_text(text[:start] + text[end:].replace(staging, ""))
    with pytest.raises(SettingsError, match="no claim_check block"):
        claim_check_settings(load_spec(path, "prod", root=ROOT))
