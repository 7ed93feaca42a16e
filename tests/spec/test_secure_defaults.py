"""Secure defaults in the spec: no empty KMS key read as "no encryption", push subscriptions authenticate unless
opted out, saga data stays out of execution logs unless opted in; and the spec refuses exactly what the modules do."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edakit.render import render_tfvars
from edakit.spec import load_spec, spec_schema

Write = Callable[..., str]
Problems = Callable[..., list[str]]

ROOT = Path(__file__).resolve().parents[2]

SNS = """
name: shop
broker: sqs-sns
sqs_sns: {region: eu-west-1, kms_master_key_id: KEY}
events:
  OrderPlaced: {schema: schemas/shop/v1/order-placed.avsc, version: 1}
channels:
  orders: {events: [OrderPlaced]}
subscribers:
  billing: {channel: orders}
"""

BUS = """
name: shop
broker: eventbridge
eventbridge: {region: eu-west-1, kms_key_identifier: KEY}
events:
  OrderPlaced: {schema: schemas/shop/v1/order-placed.avsc, version: 1}
channels:
  orders: {events: [OrderPlaced]}
subscribers:
  review:
    channel: orders
    filter: {policy: {detail-type: [OrderPlaced]}}
    eventbridge: {queue_arn: "arn:aws:sqs:eu-west-1:123456789012:review"}
"""

PUSH = """
name: shop
broker: pubsub
pubsub: {project_id: shop-platform}
events:
  OrderPlaced: {schema: schemas/shop/v1/order-placed.avsc, version: 1}
channels:
  orders: {events: [OrderPlaced]}
subscribers:
  email:
    channel: orders
    pubsub:
      push: {endpoint: "https://email.example.com/push"PUSH}
"""

KEY_REFERENCES = [
    "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
    "arn:aws:kms:eu-west-1:123456789012:alias/orders",
    "alias/orders",
    "1234abcd-12ab-34cd-56ef-1234567890ab",
    "mrk-1234abcd12ab34cd56ef1234567890ab",
]


def _module_key_regex(module: str, variable: str) -> str:
    """The key-reference regex of a module variable's validation, as Terraform reads it (HCL string escapes)."""
    text = (ROOT / "terraform" / "modules" / module / "variables.tf").read_text()
    block = text[text.index(f'variable "{variable}"'):]
    match = re.search(r'regex\("(\^\(arn:aws[^"]*)"', block)
    assert match is not None, f"{module}: {variable} has no key-reference validation"
    return match.group(1)


def _schema_key_pattern(*path: str) -> dict[str, object]:
    node = spec_schema()["$defs"]
    for key in path:
        node = node[key]
    return node


@pytest.mark.parametrize("value", ["''", "' '", "alias/aws/sns", "arn:aws:kms:eu-west-1:123456789012:alias/aws/sqs",
                                   "orders-key"])
def test_a_topic_key_that_is_no_customer_managed_key_is_refused(write_spec: Write, problems: Problems,
                                                                value: str) -> None:
    found = problems(write_spec(SNS.replace("KEY", value)))
    assert len(found) == 1 and found[0].startswith("configs/shop.yaml:3:") and "sqs_sns.kms_master_key_id" in found[0]
    assert "expected a customer managed KMS key" in found[0] and "unencrypted" in found[0]


@pytest.mark.parametrize("value", KEY_REFERENCES)
def test_every_form_of_key_reference_renders(write_spec: Write, value: str) -> None:
    fanout = render_tfvars(load_spec(write_spec(SNS.replace("KEY", json.dumps(value)))))["aws-sns-sqs-fanout"]
    assert fanout["kms_master_key_id"] == value
    bus = render_tfvars(load_spec(write_spec(BUS.replace("KEY", json.dumps(value)))))["aws-eventbridge-routing"]
    assert bus["kms_key_identifier"] == value


@pytest.mark.parametrize("value", ["''", "'  '", "alias/aws/events"])
def test_an_empty_or_aws_managed_bus_key_is_refused(write_spec: Write, problems: Problems, value: str) -> None:
    found = problems(write_spec(BUS.replace("KEY", value)))
    assert len(found) == 1 and "eventbridge.kms_key_identifier" in found[0]


def test_the_spec_and_the_modules_refuse_the_same_key_references() -> None:
    # One pattern: what the spec accepts the modules accept, so a spec that loads never plans an unencrypted topic.
    fanout = _module_key_regex("aws-sns-sqs-fanout", "kms_master_key_id")
    assert _schema_key_pattern("sqs_sns_settings", "properties", "kms_master_key_id")["pattern"] == fanout
    assert _schema_key_pattern("eventbridge_settings", "properties", "kms_key_identifier")["pattern"] == fanout
    assert _module_key_regex("aws-eventbridge-routing", "kms_key_identifier") == fanout
    assert _module_key_regex("aws-eventbridge-routing", "dead_letter_kms_key_id") == fanout


KEY_PATTERN = re.compile(_module_key_regex("aws-sns-sqs-fanout", "kms_master_key_id"))
_key_ids = st.uuids().map(str) | st.text("0123456789abcdef", min_size=32, max_size=32).map(lambda h: f"mrk-{h}")
_alias_names = st.from_regex(r"[A-Za-z0-9/_-]{1,40}", fullmatch=True).filter(lambda n: not n.startswith("aws/"))
_accounts = st.from_regex(r"[0-9]{12}", fullmatch=True)
_references = (
    _key_ids
    | _alias_names.map(lambda n: f"alias/{n}")
    | st.tuples(_accounts, _key_ids).map(lambda p: f"arn:aws:kms:eu-west-1:{p[0]}:key/{p[1]}")
    | st.tuples(_accounts, _alias_names).map(lambda p: f"arn:aws-us-gov:kms:us-gov-west-1:{p[0]}:alias/{p[1]}")
)


@settings(max_examples=300, deadline=None)
@given(reference=_references, blank=st.text(" \t\n\r", max_size=3), at=st.integers(min_value=0))
def test_key_references_are_accepted_and_blank_or_padded_ones_are_not(reference: str, blank: str, at: int) -> None:
    assert KEY_PATTERN.fullmatch(reference)
    assert not KEY_PATTERN.fullmatch(blank)  # "", " ", "\n": never "no key"
    if blank:
        cut = at % (len(reference) + 1)
        assert not KEY_PATTERN.fullmatch(reference[:cut] + blank + reference[cut:])


def test_a_push_subscription_needs_an_oidc_token(write_spec: Write, problems: Problems) -> None:
    assert problems(write_spec(PUSH.replace("PUSH", ""))) == [
        "configs/shop.yaml:12:7 subscribers.email.pubsub.push: missing required key 'oidc_service_account_email'",
    ]
    allowed = render_tfvars(load_spec(write_spec(PUSH.replace("PUSH", ", allow_without_oidc_token: true"))))
    pubsub = allowed["gcp-pubsub"]
    assert pubsub["allow_push_without_oidc_token"] is True
    assert pubsub["subscriptions"]["shop-orders-email"]["push"] == {"endpoint": "https://email.example.com/push"}
    token = ", oidc_service_account_email: email@shop-platform.iam.gserviceaccount.com"
    signed = render_tfvars(load_spec(write_spec(PUSH.replace("PUSH", token))))["gcp-pubsub"]
    assert "allow_push_without_oidc_token" not in signed
    # An explicit `false` is no opt-out.
    assert problems(write_spec(PUSH.replace("PUSH", ", allow_without_oidc_token: false")))[0].endswith(
        "missing required key 'oidc_service_account_email'")


def test_saga_data_reaches_the_logs_only_when_allowed() -> None:
    base, staging = (render_tfvars(load_spec(ROOT / "configs/order-saga.yaml", env))["aws-saga-stepfunctions"]
                     for env in (None, "staging"))
    assert base["allow_execution_data_logging"] is False  # the default: configs/order-saga.yaml sets it only for staging
    assert staging["allow_execution_data_logging"] is True
