"""Differential test: the kit's SNS evaluator must predict exactly which SQS subscriptions moto's SNS delivers to.

One topic, four SQS subscriptions (two per FilterPolicyScope). Each example sets generated filter policies on all
four, publishes generated messages (attributes and a JSON body each), and compares deliveries with predictions.

Generation stays inside the part of the language where moto follows the AWS docs; its deviations (moto 5.2):
- exact/anything-but on a Number attribute compares the string form, so string values are never numeric-looking;
- a missing key returns "no match" before later conditions run, so `exists` is never mixed with other conditions;
- prefix/suffix/anything-but on String.Array are not supported, so String.Array gets exact strings and exists only;
- equals-ignore-case lowercases only the message value, so the policy value is lowercase;
- single-value anything-but crashes on numbers, so anything-but always takes a list;
- in MessageBody scope a missing parent object fails the whole policy and arrays of strings crash numeric rules,
  so nested keys never use {"exists": false}, and body values are scalars of one type per key;
- `$or` only works in MessageAttributes scope.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edakit.devservers import moto_server
from edakit.routing import sns_filter_matches

pytestmark = pytest.mark.slow

WORDS = ["red", "Red", "green", "grey", "blue"]
NUMBERS = [-2, 0, 1, 2, 2.5, 7]
PREFIXES = ["r", "R", "gr", "bl"]
SUFFIXES = ["ed", "ey", "ue"]
SCOPES = ["MessageAttributes", "MessageAttributes", "MessageBody", "MessageBody"]

words = st.lists(st.sampled_from(WORDS), min_size=1, max_size=2, unique=True)
numbers = st.lists(st.sampled_from(NUMBERS), min_size=1, max_size=2, unique=True)
exists = st.builds(lambda b: [{"exists": b}], st.booleans())


@st.composite
def numeric_condition(draw: st.DrawFn) -> dict[str, Any]:
    low, high = sorted(draw(st.lists(st.sampled_from(NUMBERS), min_size=2, max_size=2, unique=True)))
    return draw(st.sampled_from([
        {"numeric": [draw(st.sampled_from(["=", "<", "<=", ">", ">="])), low]},
        {"numeric": [">", low, "<=", high]},
        {"numeric": [">=", low, "<", high]},
    ]))


string_condition = st.one_of(
    st.sampled_from(WORDS),
    st.builds(lambda p: {"prefix": p}, st.sampled_from(PREFIXES)),
    st.builds(lambda s: {"suffix": s}, st.sampled_from(SUFFIXES)),
    st.builds(lambda w: {"equals-ignore-case": w.lower()}, st.sampled_from(WORDS)),
    st.builds(lambda ws: {"anything-but": ws}, words),
    st.builds(lambda p: {"anything-but": {"prefix": p}}, st.sampled_from(PREFIXES)),
)
number_condition = st.one_of(
    st.sampled_from(NUMBERS), numeric_condition(), st.builds(lambda ns: {"anything-but": ns}, numbers))
array_condition = st.one_of(
    st.sampled_from(WORDS), st.builds(lambda w: {"equals-ignore-case": w.lower()}, st.sampled_from(WORDS)))


def conditions(condition: st.SearchStrategy[Any], *, allow_exists: bool = True) -> st.SearchStrategy[list[Any]]:
    listed = st.lists(condition, min_size=1, max_size=2)
    return st.one_of(listed, exists) if allow_exists else listed


attribute_rules = {"s1": conditions(string_condition), "s2": conditions(string_condition),
                   "n1": conditions(number_condition), "l1": conditions(array_condition)}
body_rules = {"s1": conditions(string_condition), "s2": conditions(string_condition),
              "n1": conditions(number_condition)}


@st.composite
def flat_policy(draw: st.DrawFn, rules: dict[str, st.SearchStrategy[list[Any]]], max_keys: int) -> dict[str, Any]:
    keys = draw(st.lists(st.sampled_from(sorted(rules)), min_size=1, max_size=max_keys, unique=True))
    return {k: draw(rules[k]) for k in keys}


@st.composite
def attribute_policy(draw: st.DrawFn) -> dict[str, Any]:
    policy = draw(flat_policy(attribute_rules, 2))
    if draw(st.booleans()):
        policy["$or"] = draw(st.lists(flat_policy(attribute_rules, 1), min_size=2, max_size=2))
    return policy


@st.composite
def body_policy(draw: st.DrawFn) -> dict[str, Any]:
    policy = draw(flat_policy(body_rules, 2))
    if draw(st.booleans()):
        policy["o"] = {"s3": draw(st.one_of(conditions(string_condition, allow_exists=False),
                                            st.just([{"exists": True}])))}
    return policy


def optional(value: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(st.none(), value)


@st.composite
def message(draw: st.DrawFn) -> tuple[dict[str, Any], str]:
    candidates = {
        "s1": optional(st.sampled_from(WORDS).map(lambda w: {"DataType": "String", "StringValue": w})),
        "s2": optional(st.sampled_from(WORDS).map(lambda w: {"DataType": "String", "StringValue": w})),
        "n1": optional(st.sampled_from(NUMBERS).map(lambda n: {"DataType": "Number", "StringValue": str(n)})),
        "l1": optional(st.lists(st.sampled_from(WORDS), max_size=3).map(
            lambda ws: {"DataType": "String.Array", "StringValue": json.dumps(ws)})),
    }
    attributes = {k: v for k, v in ((k, draw(s)) for k, s in candidates.items()) if v is not None}
    body_values = {"s1": optional(st.sampled_from(WORDS)), "s2": optional(st.sampled_from(WORDS)),
                   "n1": optional(st.sampled_from(NUMBERS)),
                   "o": optional(st.fixed_dictionaries({}, optional={"s3": st.sampled_from(WORDS)}))}
    body = {k: v for k, v in ((k, draw(s)) for k, s in body_values.items()) if v is not None}
    return attributes, json.dumps(body)


class MotoTopic:
    """A moto SNS topic with one SQS queue subscribed per entry of SCOPES."""

    def __init__(self, endpoint: str) -> None:
        session = boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing",
                                        region_name="us-east-1")
        self.sns = session.client("sns", endpoint_url=endpoint)
        self.sqs = session.client("sqs", endpoint_url=endpoint)
        self.topic_arn = self.sns.create_topic(Name="routing-differential")["TopicArn"]
        self.queue_urls: list[str] = []
        self.subscription_arns: list[str] = []
        for i, scope in enumerate(SCOPES):
            url = self.sqs.create_queue(QueueName=f"routing-differential-{i}")["QueueUrl"]
            arn = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
            subscription = self.sns.subscribe(TopicArn=self.topic_arn, Protocol="sqs", Endpoint=arn,
                                              Attributes={"FilterPolicyScope": scope}, ReturnSubscriptionArn=True)
            self.queue_urls.append(url)
            self.subscription_arns.append(subscription["SubscriptionArn"])

    def set_policies(self, policies: list[dict[str, Any]]) -> None:
        for arn, policy in zip(self.subscription_arns, policies, strict=True):
            self.sns.set_subscription_attributes(SubscriptionArn=arn, AttributeName="FilterPolicy",
                                                 AttributeValue=json.dumps(policy))

    def publish(self, attributes: dict[str, Any], body: str) -> str:
        return self.sns.publish(TopicArn=self.topic_arn, Message=body, MessageAttributes=attributes)["MessageId"]

    def drain(self, queue_url: str) -> set[str]:
        """MessageIds of everything waiting in the queue, deleting as it goes."""
        ids: set[str] = set()
        while True:
            received = self.sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0)
            batch = received.get("Messages", [])
            if not batch:
                return ids
            ids |= {json.loads(m["Body"])["MessageId"] for m in batch}
            self.sqs.delete_message_batch(QueueUrl=queue_url, Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(batch)])


@pytest.fixture(scope="module")
def moto_topic() -> Iterator[MotoTopic]:
    with moto_server() as endpoint:
        yield MotoTopic(endpoint)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(policies=st.tuples(attribute_policy(), attribute_policy(), body_policy(), body_policy()),
       messages=st.lists(message(), min_size=1, max_size=3))
def test_evaluator_predicts_moto_deliveries(moto_topic: MotoTopic, policies: tuple[dict[str, Any], ...],
                                            messages: list[tuple[dict[str, Any], str]]) -> None:
    moto_topic.set_policies(list(policies))
    predicted: list[set[str]] = [set() for _ in SCOPES]
    for attributes, body in messages:
        message_id = moto_topic.publish(attributes, body)
        for i, (scope, policy) in enumerate(zip(SCOPES, policies, strict=True)):
            if sns_filter_matches(policy, scope=scope, message_attributes=attributes, message=body):
                predicted[i].add(message_id)
    delivered = [moto_topic.drain(url) for url in moto_topic.queue_urls]
    assert delivered == predicted


def test_differential_generation_reaches_both_outcomes(moto_topic: MotoTopic) -> None:
    """Guards the generator: a fixed policy both delivers and filters, so equality above is not vacuous."""
    moto_topic.set_policies([{"s1": [{"prefix": "gr"}]}, {"n1": [{"numeric": [">", 1]}]},
                             {"s1": ["red"]}, {"o": {"s3": ["blue"]}}])
    kept = moto_topic.publish({"s1": {"DataType": "String", "StringValue": "green"},
                               "n1": {"DataType": "Number", "StringValue": "0"}},
                              json.dumps({"s1": "red", "o": {"s3": "grey"}}))
    delivered = [moto_topic.drain(url) for url in moto_topic.queue_urls]
    assert delivered == [{kept}, set(), {kept}, set()]
