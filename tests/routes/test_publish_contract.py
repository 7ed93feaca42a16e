"""The publish contract from the spec (edakit.brokers): what the kit's publishers set, what filters may read, and the
attribute budget, checked at load (spec error), in lint (EDA030) and at publish time (refused, not re-encoded)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from edakit.brokers import AttributeContract, AttributeContractError, NativeAttribute, contract
from edakit.brokers.sqs_sns import policy_attributes
from edakit.cli import main
from edakit.runtime.adapters import pubsub as pubsub_adapter
from edakit.runtime.adapters import sqs_sns as sns_adapter
from edakit.runtime.message import Message
from edakit.runtime.settings import publisher_settings
from edakit.spec import SpecError, load_spec

SNS_SPEC = """\
name: shop
broker: sqs-sns
sqs_sns: {region: eu-west-1}
events:
  OrderPlaced: {schema: schemas/order-events/v1/order-placed.avsc, version: 1}
channels:
  orders:
    events: [OrderPlaced]
    attributes: {native: {event_type: type}}
subscribers:
  email:
    channel: orders
    filter: {policy: {event_type: [OrderPlaced], $or: [{region: [eu]}, {ce_type: [OrderPlaced]}]}}
"""


def _problems(tmp_repo: Path, text: str) -> list[str]:
    path = tmp_repo / "configs" / "shop.yaml"
    path.parent.mkdir(exist_ok=True)
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SpecError) as caught:
        load_spec(path)
    return [p.message for p in caught.value.problems]


def test_a_filter_on_an_attribute_the_channel_never_carries_is_a_spec_error(tmp_repo: Path) -> None:
    [message] = _problems(tmp_repo, SNS_SPEC)
    assert message.startswith("filter of subscriber 'email' reads message attribute 'region', which channel "
                              "'orders' never carries")
    pubsub = SNS_SPEC.replace("broker: sqs-sns\nsqs_sns: {region: eu-west-1}", "broker: pubsub\npubsub: "
                              "{project_id: shop-platform}").replace(
        "{policy: {event_type: [OrderPlaced], $or: [{region: [eu]}, {ce_type: [OrderPlaced]}]}}",
        """{policy: 'attributes.event_type = "OrderPlaced" AND hasPrefix(attributes.ce-type, "Order") """
        """AND NOT attributes:payable'}""")
    [message] = _problems(tmp_repo, pubsub)
    assert "reads message attribute 'payable'" in message
    undeclared = SNS_SPEC.replace("native: {event_type: type}", "native: {event_type: header.kind}").replace(
        ", $or: [{region: [eu]}, {ce_type: [OrderPlaced]}]", "")
    [message] = _problems(tmp_repo, undeclared)
    assert "takes its value from header 'kind', which channels.orders.attributes.headers does not declare" in message


@settings(max_examples=60, deadline=None)
@given(st.recursive(st.dictionaries(st.from_regex(r"[a-z_]{1,8}", fullmatch=True), st.just(["v"]), min_size=1,
                                    max_size=3),
                    lambda inner: st.builds(lambda branches, rest: {**rest, "$or": branches},
                                            st.lists(inner, min_size=2, max_size=3),
                                            st.dictionaries(st.from_regex(r"[a-z]{1,4}", fullmatch=True),
                                                            st.just(["w"]), max_size=2)), max_leaves=6))
def test_an_sns_policy_reads_its_keys_and_those_of_every_or_branch(policy: dict) -> None:
    def keys(node: dict) -> set[str]:  # the oracle: walk the policy by hand
        found = {k for k in node if k != "$or"}
        for branch in node.get("$or", []):
            found |= keys(branch)
        return found

    assert policy_attributes(policy, "MessageAttributes") == keys(policy)
    assert policy_attributes(policy, "MessageBody") == set()


def _message(headers: dict[str, str], key: str | None = "k", subject: str | None = "s") -> Message:
    return Message(id="m-1", type="OrderPlaced", source="urn:shop", payload=b'{"total_amount": 5}',
                   time=datetime(2026, 1, 1, tzinfo=UTC), key=key, subject=subject, headers=headers)


@settings(max_examples=80, deadline=None)
@given(headers=st.integers(0, 6), native=st.integers(0, 3), budget=st.one_of(st.none(), st.integers(8, 14)),
       key=st.booleans(), subject=st.booleans())
def test_the_sns_encoder_sets_exactly_the_contract_and_refuses_past_the_budget(
        headers: int, native: int, budget: int | None, key: bool, subject: bool) -> None:
    names = {f"h{n}": f"v{n}" for n in range(headers)}
    sources = ["type", "key", "payload.total_amount"][:native]
    found = AttributeContract("orders", "ce_", frozenset(names), tuple(NativeAttribute(f"n_{s.split('.')[0]}", s)
                                                                        for s in sources), budget)
    message = _message(names, "k" if key else None, "s" if subject else None)
    native_set = native - (not key and native >= 2)  # a native attribute from an unset key is not sent
    expected = 6 + key + subject + headers + native_set  # 5 context attributes + content-type + optional ones
    if budget is not None and expected > budget:
        with pytest.raises(AttributeContractError, match=f"would carry {expected} message attributes"):
            sns_adapter.encode(message, contract=found, topic="orders")
        return
    body, attributes = sns_adapter.encode(message, contract=found, topic="orders")
    assert body == message.payload.decode() and len(attributes) == expected
    assert set(attributes) <= found.names()
    if native >= 3:
        assert attributes["n_payload"] == {"DataType": "Number", "StringValue": "5"}
    assert found.most_attributes() == 9 + headers + native  # traceparent is reserved: counted, declared or not


def test_publishers_refuse_an_undeclared_header_and_pubsub_s_100_attribute_limit() -> None:
    found = AttributeContract("orders", "ce-", frozenset({"traceparent"}), (), 100)
    with pytest.raises(AttributeContractError, match=r"sets header\(s\) vendor, which the spec does not declare"):
        pubsub_adapter.encode(_message({"vendor": "x"}), None, found)
    many = {f"h{n}": "v" for n in range(93)}  # 8 + 93 = 101
    with pytest.raises(AttributeContractError, match="would carry 101 message attributes"):
        pubsub_adapter.encode(_message(many), None, replace_headers(found, many))
    # Without the spec's settings the SNS publisher still refuses what a raw SQS subscription would discard.
    with pytest.raises(AttributeContractError, match="more than the 10"):
        sns_adapter.encode(_message({f"h{n}": "v" for n in range(3)}))


def replace_headers(found: AttributeContract, headers: dict[str, str]) -> AttributeContract:
    return AttributeContract(found.topic, found.prefix, frozenset(headers), found.native, found.budget)


def test_publisher_settings_come_from_the_spec(repo_root: Path) -> None:
    spec = load_spec(repo_root / "configs/order-events-sns.yaml", "prod")
    [(topic, found)] = publisher_settings(spec).contracts.items()
    assert topic == "orders-sns-prod-order-placed" and found.budget == 10  # e-mail's queue has raw delivery
    assert found.native == (NativeAttribute("event_type", "type"),) and found.most_attributes() == 10
    pubsub = contract(load_spec(repo_root / "configs/order-events-pubsub.yaml", "prod"), "order-placed")
    assert pubsub is not None and pubsub.prefix == "ce-" and pubsub.headers == {"payable"}
    assert pubsub.native_values(_message({"payable": "true"})) == {"event_type": "OrderPlaced", "payable": "true"}


def test_routes_json_prints_who_receives_each_example(repo_root: Path) -> None:
    result = CliRunner().invoke(main, ["routes", str(repo_root / "configs/order-events-sns.yaml"), "--format",
                                       "json"])
    assert result.exit_code == 0, result.output
    report = {Path(entry["file"]).name: entry for entry in json.loads(result.output)}
    for name, entry in report.items():
        expect = json.loads((repo_root / "examples/events/orders-sns" / name).read_text())["expect"]
        assert sorted(entry["receivers"]) == sorted(expect)
    assert report["order-placed-untyped.json"]["publisher"] == "external"
    assert report["order-placed-paid.json"]["publisher"] == "kit"
