"""spec -> AsyncAPI -> spec keeps every field of every environment's model, for every spec in configs/ and for
generated specs; a kit export edited where the kit would regenerate it differently is listed, not swallowed."""

from __future__ import annotations

import copy
import dataclasses
from pathlib import Path
from typing import Any

import pytest
import yaml
from asyncapi_paths import CONFIGS
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edakit.asyncapi.export import export_spec
from edakit.asyncapi.importer import ImportError_, import_document
from edakit.spec import load_environments


def models(path: Path, root: Path) -> list[dict[str, Any]]:
    out = []
    for spec in load_environments(path, root=root):
        data = dataclasses.asdict(spec)
        for key in ("file", "root", "locations"):
            data.pop(key)
        out.append(data)
    return out


def round_trip(path: Path, root: Path, work: Path) -> tuple[Path, list[str]]:
    """Export to YAML text, read it back, import, write the spec: what `edakit asyncapi export | import` does."""
    doc = yaml.safe_load(yaml.safe_dump(export_spec(path, out_dir=work, root=root), sort_keys=False))
    result = import_document(doc, doc_dir=work, root=root)
    target = work / f"{path.stem}.imported.yaml"
    target.write_text(yaml.safe_dump(result.spec, sort_keys=False), encoding="utf-8")
    return target, [str(u) for u in result.unmapped]


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.stem)
def test_every_config_round_trips_to_the_same_spec_in_every_environment(path, repo_root, tmp_path):
    imported, unmapped = round_trip(path, repo_root, tmp_path)
    assert unmapped == []
    assert models(imported, repo_root) == models(path, repo_root)


def test_an_edited_binding_and_an_added_field_in_a_kit_export_are_listed(repo_root, tmp_path):
    doc = yaml.safe_load(yaml.safe_dump(export_spec(repo_root / "configs/order-events-kafka.yaml", out_dir=tmp_path),
                                        sort_keys=False))
    doc["channels"]["order-placed"]["bindings"]["kafka"]["partitions"] = 48
    doc["channels"]["order-placed"]["x-owner"] = "team-orders"
    doc["operations"]["receive-billing"]["bindings"]["kafka"]["groupId"]["enum"] = ["other"]
    result = import_document(doc, doc_dir=tmp_path, root=repo_root)
    assert [u.pointer for u in result.unmapped] == [
        "/channels/order-placed/bindings/kafka/partitions", "/channels/order-placed/x-owner",
        "/operations/receive-billing/bindings/kafka/groupId/enum"]
    assert "(12)" in result.unmapped[0].why  # what the spec gives


def test_a_document_that_is_not_asyncapi_2_6_or_3_0_is_refused():
    for doc, text in (([], "mapping"), ({"asyncapi": "1.2.0"}, "2.6.x or 3.0.x"), ({"openapi": "3.1.0"}, "no version")):
        with pytest.raises(ImportError_, match=text):
            import_document(doc, doc_dir=Path("."), root=Path("."))


# Generated specs ------------------------------------------------------------------------------------------------

names = st.from_regex(r"[a-z][a-z0-9]{0,6}", fullmatch=True)
SCHEMA = "schemas/order-events/v1/order-placed.avsc"


@st.composite
def specs(draw) -> dict[str, Any]:
    broker = draw(st.sampled_from(["kafka", "sqs-sns"]))
    spec: dict[str, Any] = {"name": "gen-" + draw(names), "broker": broker}
    if broker == "kafka":
        spec["kafka"] = {"bootstrap_servers": ["k1:9092"], "default_partitions": draw(st.integers(1, 12))}
    else:
        spec["sqs_sns"] = {"region": "eu-west-1", "dlq_max_receive_count": draw(st.integers(2, 9)),
                           "dlq_retention_hours": 336, "message_retention_hours": draw(st.integers(24, 96))}
    spec["consumer"] = {"idempotency_window_hours": 336}
    spec["events"] = {"OrderPlaced": {"schema": SCHEMA, "version": draw(st.integers(1, 3))}}
    # a spec has one SNS topic (the fan-out module takes one); Kafka specs have several topics
    channel_names = draw(st.lists(names, min_size=1, max_size=3 if broker == "kafka" else 1, unique=True))
    spec["channels"] = {}
    for name in channel_names:
        channel: dict[str, Any] = {"events": ["OrderPlaced"]}
        if draw(st.booleans()):
            channel["description"] = draw(st.text(st.characters(codec="ascii", categories=["L", "N", "Zs"]),
                                                  min_size=1, max_size=20)).strip() or "d"
        if broker == "kafka" and draw(st.booleans()):
            channel["kafka"] = {"partitions": draw(st.integers(1, 24))}
        if broker == "sqs-sns":  # the attribute the generated filters read
            channel["attributes"] = {"native": {"event_type": "type"}}
        spec["channels"][name] = channel
    spec["subscribers"] = {}
    # at least one subscriber per channel: an SNS topic nobody subscribes to is refused by the spec checks
    for i, name in enumerate(draw(st.lists(names, min_size=len(channel_names), max_size=4, unique=True))):
        sub: dict[str, Any] = {"channel": channel_names[i % len(channel_names)],
                               "parallelism": draw(st.integers(1, 4))}
        if draw(st.booleans()):
            sub["dlq"] = {"max_receive_count": draw(st.integers(2, 6))}
        if draw(st.booleans()):
            sub["retry"] = {"min_backoff_seconds": draw(st.integers(1, 20)), "max_backoff_seconds": 600}
        if broker == "sqs-sns" and draw(st.booleans()):
            sub["filter"] = {"policy": {"event_type": draw(st.lists(names, min_size=1, max_size=2, unique=True))}}
            sub["sqs_sns"] = {"visibility_timeout_seconds": draw(st.integers(30, 300))}
        if broker == "kafka" and draw(st.booleans()):
            sub["kafka"] = {"consumer_group": "g-" + name}
        if draw(st.booleans()):
            sub["alerts"] = {"lag_messages": draw(st.integers(1, 10_000))}
        spec["subscribers"][name] = sub
    if draw(st.booleans()):
        override: dict[str, Any] = ({"kafka": {"default_partitions": draw(st.integers(1, 12))}} if broker == "kafka"
                                    else {"sqs_sns": {"message_retention_hours": draw(st.integers(24, 96))}})
        if spec["subscribers"] and draw(st.booleans()):
            first = next(iter(spec["subscribers"]))
            override["subscribers"] = {first: {"parallelism": draw(st.integers(1, 8))}}
        spec["environments"] = {"staging": override, "prod": {}}
    return spec


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(spec=specs())
def test_generated_specs_round_trip_to_the_same_model(spec, repo_root, tmp_path_factory):
    work = tmp_path_factory.mktemp("gen")
    path = work / "spec.yaml"
    path.write_text(yaml.safe_dump(copy.deepcopy(spec), sort_keys=False), encoding="utf-8")
    imported, unmapped = round_trip(path, repo_root, work)
    assert unmapped == []
    assert models(imported, repo_root) == models(path, repo_root)
