"""End to end: the kit's own SNS/SQS specs (and the EventBridge spec), provisioned on moto from the PLAN JSON the offline Terraform harness makes
for their rendered tfvars, and every example event published through the kit's own SqsSnsBroker publisher, reach
exactly the subscribers the example's `expect` and `edakit routes` name; plainly, and with headers up to the
attribute budget. One header more is refused by the publisher (and routes predicts nobody), never re-encoded.

EventBridge: the bus, rules (event patterns) and SQS targets from the plan; the examples are external (the kit has no
EventBridge publisher), put with PutEvents.

Pub/Sub: Debian's pstest has no subscription filters, so test_pubsub_routes_evaluator_only_pstest_has_no_filters
checks the kit's encoder and evaluator only (never patched into the emulator)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import boto3
import pytest

from edakit.brokers import AttributeContractError, contract
from edakit.devservers import moto_server
from edakit.render import render_spec
from edakit.routing.routes import ExampleEvent, PublishRefused, broker_message, examples_dir, filter_reasons, load_examples, route
from edakit.runtime.adapters.sqs_sns import SqsSnsBroker, SqsSubscriber
from edakit.runtime.settings import PublisherSettings, publisher_settings
from edakit.spec import load_spec
from edakit.spec.model import Spec
from edakit.tfharness import Harness

ROOT = Path(__file__).resolve().parents[2]
MODULE = "aws-sns-sqs-fanout"
# Every spec in configs/ on sqs-sns whose render holds the fan-out module (the saga spec renders none).
SNS_SPECS = sorted(p.stem for p in (ROOT / "configs").glob("*.yaml")
                   if "broker: sqs-sns" in p.read_text() and p.stem != "order-saga")
REGION = "eu-west-1"

pytestmark = pytest.mark.slow


def _planned(harness: Harness, module: Path, tfvars: Path) -> dict[str, Any]:
    assert harness.init(module).ok
    result = harness.plan(module, [tfvars])
    assert result.ok, [d.format() for d in result.diagnostics]
    return result.data


def _config_resources(plan: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {r["address"]: r for r in plan["configuration"]["root_module"].get("resources", [])}


def _endpoint_queue(plan: dict[str, Any], subscription: dict[str, Any]) -> str:
    """The planned queue address a subscription's endpoint refers to, from the plan's configuration: Terraform
    lists `aws_sqs_queue.this[each.key].arn` as the references `aws_sqs_queue.this` and `each.key`, so the instance
    is the one with the subscription's own key."""
    config = _config_resources(plan)[subscription["address"].split("[")[0]]
    references = config["expressions"]["endpoint"]["references"]
    [queue] = [r for r in references if r.startswith("aws_sqs_queue.")]
    queue = ".".join(queue.split(".")[:2])
    return f'{queue}[{json.dumps(subscription["index"])}]' if "each.key" in references else queue


class Fanout:
    """moto provisioned from a plan: the topic, each queue, each subscription with its planned attributes."""

    def __init__(self, endpoint: str, plan: dict[str, Any]) -> None:
        session = boto3.Session(aws_access_key_id="test", aws_secret_access_key="test", region_name=REGION)
        self.broker = SqsSnsBroker(session, endpoint_url=endpoint, publish_timeout=10)
        changes = {c["address"]: c for c in plan["resource_changes"] if c["change"]["actions"] == ["create"]}
        of_type = lambda kind: [c for c in changes.values() if c["type"] == kind]  # noqa: E731
        [topic] = of_type("aws_sns_topic")
        self.topic = topic["change"]["after"]["name"]
        arn = self.broker.topic_arn(self.topic)
        urls = {q["address"]: self.broker.sqs.create_queue(QueueName=q["change"]["after"]["name"])["QueueUrl"]
                for q in of_type("aws_sqs_queue")}
        self.queues: dict[str, SqsSubscriber] = {}  # subscriber (the subscription's for_each key) -> its queue
        for sub in of_type("aws_sns_topic_subscription"):
            after, url = sub["change"]["after"], urls[_endpoint_queue(plan, sub)]
            queue_arn = self.broker.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
            attributes = {"RawMessageDelivery": str(after["raw_message_delivery"]).lower()}
            if after.get("filter_policy"):
                attributes |= {"FilterPolicy": after["filter_policy"],
                               "FilterPolicyScope": after.get("filter_policy_scope") or "MessageAttributes"}
            self.broker.sns.subscribe(TopicArn=arn, Protocol="sqs", Attributes=attributes,
                                      Endpoint=queue_arn["Attributes"]["QueueArn"])
            self.queues[sub["index"]] = SqsSubscriber(self.broker, self.topic, url, dlq_url=None)

    def received(self) -> dict[str, set[str]]:
        """Message ids each subscriber's queue holds (decoded by the kit's consumer), draining the queues."""
        got: dict[str, set[str]] = {}
        for name, queue in self.queues.items():
            ids: set[str] = set()
            while deliveries := queue.receive(10, timeout=0):
                ids |= {d.message.id for d in deliveries}
                queue.ack_all(deliveries)
            got[name] = ids
        return got


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    with moto_server() as url:
        yield url


@pytest.fixture(scope="module")
def harness() -> Harness:
    return Harness(ROOT)


@pytest.fixture(scope="module")
def module_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    copy = tmp_path_factory.mktemp("tf") / MODULE
    shutil.copytree(ROOT / "terraform/modules" / MODULE, copy,
                    ignore=shutil.ignore_patterns(".terraform", ".terraform.lock.hcl", "*.tfstate*"))
    return copy


TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"  # a reserved header: counted in the budget


def _extra_headers(count: int) -> dict[str, str]:
    return {f"x{n}": f"v{n}" for n in range(count)}


def _receivers(spec: Spec, example: ExampleEvent, settings: PublisherSettings) -> set[str]:
    """Who `edakit routes` says receives the example under these publish contracts."""
    found = settings.contracts[spec.channels[next(iter(spec.channels))].resource_name]
    try:
        broker_message("sqs-sns", example, found)
    except PublishRefused:
        return set()
    receivers = set()
    for sub in spec.subscribers.values():
        reasons = (filter_reasons(spec.channels[sub.channel].broker, sub.filter, example, found)
                   if sub.filter is not None else [])
        if not reasons:
            receivers.add(sub.name)
    return receivers


@pytest.mark.parametrize("spec_name", SNS_SPECS)
def test_every_example_reaches_exactly_its_expected_subscribers_on_moto(
        spec_name: str, endpoint: str, harness: Harness, module_copy: Path, tmp_path: Path) -> None:
    spec = load_spec(ROOT / "configs" / f"{spec_name}.yaml", "staging")
    [tfvars] = [p for p in render_spec(spec, tmp_path) if p.name == f"{MODULE}.auto.tfvars.json"]
    fanout = Fanout(endpoint, _planned(harness, module_copy, tfvars))
    [channel] = spec.channels.values()
    assert fanout.topic == channel.resource_name  # the publisher's topic is the planned one
    examples = load_examples(examples_dir(spec)) or [ExampleEvent(
        file=f"{spec_name}-plain.json", event=channel.events[0], message_attributes={}, body={}, expect=None,
        positions={}, publisher="kit", key="k-1", payload={"order_id": "o-1"})]
    settings = publisher_settings(spec)
    base = settings.contracts[channel.resource_name]
    raw = any(s.queue is not None and s.queue.raw_message_delivery for s in spec.subscribers.values())
    assert base.budget == (10 if raw else None) and base.most_attributes() <= (base.budget or 10)
    # Variant "budget": the contract declares enough headers that a message with key, subject and all of them
    # carries exactly the budget; "over": one header more, which the publisher refuses. Without a raw-delivery
    # subscription SNS keeps every attribute in the envelope: 12 attributes are delivered, nothing is refused.
    room = (base.budget or 12) - base.most_attributes()
    full = PublisherSettings({channel.resource_name: replace(base, headers=base.headers | set(_extra_headers(room)))})
    over = PublisherSettings({channel.resource_name: replace(
        base, headers=base.headers | set(_extra_headers(room + 1)))})
    checked = 0
    for example in examples:
        predicted = {d.subscriber for d in route(spec, example) if d.receives}
        expected = set(example.expect) if example.expect is not None else set(spec.subscribers)
        assert predicted == expected, example.file
        if example.external:  # a foreign publisher: its raw attributes, through the SNS API itself
            message_id = f"external-{Path(example.file).stem}"
            fanout.broker.sns.publish(TopicArn=fanout.broker.topic_arn(fanout.topic), Message=example.message,
                                      MessageAttributes={**example.message_attributes, **{
                                          f"ce_{k}": {"DataType": "String", "StringValue": v} for k, v in {
                                              "specversion": "1.0", "id": message_id, "type": example.event,
                                              "source": "urn:external", "time": "2026-01-01T00:00:00Z"}.items()}})
            assert {n for n, ids in fanout.received().items() if message_id in ids} == expected, example.file
            checked += len(spec.subscribers)
            continue
        checked += len(spec.subscribers)
        plain = example.kit_message("urn:edakit:orders")
        fanout.broker.publisher(settings).publish(fanout.topic, [plain])
        assert {n for n, ids in fanout.received().items() if plain.id in ids} == expected, example.file
        at_budget = replace(example, subject="orders/1", key=example.key or "k-1", headers={  # traced, as the
            **example.headers, **_extra_headers(room), "traceparent": TRACEPARENT})  # outbox writes it in a span
        message = replace(at_budget.kit_message("urn:edakit:orders"), id=plain.id + "-budget")
        fanout.broker.publisher(full).publish(fanout.topic, [message])
        assert _receivers(spec, at_budget, full) == expected
        assert {n for n, ids in fanout.received().items() if message.id in ids} == expected, example.file
        beyond = replace(at_budget, headers={**at_budget.headers, **_extra_headers(room + 1)})
        checked += len(spec.subscribers)
        if base.budget is None:
            continue
        with pytest.raises(AttributeContractError, match=r"would carry 11 message attributes.*more than the 10"):
            fanout.broker.publisher(over).publish(fanout.topic, [replace(beyond.kit_message("urn:x"), id="over")])
        assert _receivers(spec, beyond, over) == set()  # routes: refused, nobody receives it
        assert not any(fanout.received().values())
    print(f"{spec_name}: {len(examples)} example(s), {checked} (example, variant, subscriber) deliveries checked")


def test_pubsub_routes_evaluator_only_pstest_has_no_filters() -> None:
    """pstest (Debian's Pub/Sub fake) has no subscription filters: this checks the kit's own Pub/Sub encoder and
    filter evaluator only, on configs/order-events-pubsub.yaml's examples, plainly and at the 100-attribute budget."""
    spec = load_spec(ROOT / "configs/order-events-pubsub.yaml", "staging")
    found = contract(spec, "order-placed")
    assert found is not None and found.budget == 100
    room = found.budget - found.most_attributes()
    full = replace(found, headers=found.headers | set(_extra_headers(room)))
    over = replace(found, headers=found.headers | set(_extra_headers(room + 1)))
    settings = {"full": PublisherSettings({found.topic: full}), "over": PublisherSettings({found.topic: over})}
    for example in load_examples(examples_dir(spec)):
        predicted = {d.subscriber for d in route(spec, example) if d.receives}
        assert predicted == set(example.expect or ()), example.file
        if example.external:
            continue
        at_budget = replace(example, subject="orders/1", headers={**example.headers, **_extra_headers(room),
                                                                  "traceparent": TRACEPARENT})
        assert _pubsub_receivers(spec, at_budget, settings["full"]) == predicted
        beyond = replace(at_budget, headers={**at_budget.headers, **_extra_headers(room + 1)})
        assert _pubsub_receivers(spec, beyond, settings["over"]) == set()


def _pubsub_receivers(spec: Spec, example: ExampleEvent, settings: PublisherSettings) -> set[str]:
    found = next(iter(settings.contracts.values()))
    try:
        broker_message("pubsub", example, found)
    except PublishRefused:
        return set()
    return {sub.name for sub in spec.subscribers.values()
            if sub.filter is None or not filter_reasons("pubsub", sub.filter, example, found)}


def test_eventbridge_examples_reach_exactly_the_planned_rules_targets_on_moto(
        endpoint: str, harness: Harness, tmp_path_factory: pytest.TempPathFactory, tmp_path: Path) -> None:
    module = tmp_path_factory.mktemp("tf") / "aws-eventbridge-routing"
    shutil.copytree(ROOT / "terraform/modules/aws-eventbridge-routing", module,
                    ignore=shutil.ignore_patterns(".terraform", ".terraform.lock.hcl", "*.tfstate*"))
    spec = load_spec(ROOT / "configs/order-routing-eventbridge.yaml", "staging")
    [tfvars] = [p for p in render_spec(spec, tmp_path) if p.name == "aws-eventbridge-routing.auto.tfvars.json"]
    plan = _planned(harness, module, tfvars)
    created = [c for c in plan["resource_changes"] if c["change"]["actions"] == ["create"]]
    after = lambda kind: [c["change"]["after"] for c in created if c["type"] == kind]  # noqa: E731
    session = boto3.Session(aws_access_key_id="test", aws_secret_access_key="test", region_name=REGION)
    events, sqs = (session.client(name, endpoint_url=endpoint) for name in ("events", "sqs"))
    [bus] = after("aws_cloudwatch_event_bus")
    events.create_event_bus(Name=bus["name"])
    for rule in after("aws_cloudwatch_event_rule"):
        events.put_rule(Name=rule["name"], EventBusName=rule["event_bus_name"], EventPattern=rule["event_pattern"])
    queues: dict[str, str] = {}  # rule (the subscriber) -> its target queue's URL
    for target in after("aws_cloudwatch_event_target"):
        # The target queues are the subscribers' own (spec: eventbridge.queue_arn), in moto's default account.
        queues[target["rule"]] = sqs.create_queue(QueueName=target["arn"].rsplit(":", 1)[1])["QueueUrl"]
        events.put_targets(Rule=target["rule"], EventBusName=target["event_bus_name"],
                           Targets=[{"Id": target["target_id"], "Arn": target["arn"]}])
    assert set(queues) == set(spec.subscribers)
    examples = load_examples(examples_dir(spec))
    for example in examples:
        predicted = {d.subscriber for d in route(spec, example) if d.receives}
        assert example.external and predicted == set(example.expect or ()), example.file
        body = example.body
        [result] = events.put_events(Entries=[{
            "EventBusName": bus["name"], "Source": body["source"], "DetailType": body["detail-type"],
            "Detail": json.dumps(body["detail"])}])["Entries"]
        assert "EventId" in result
        got = set()
        for name, url in queues.items():
            messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages", [])
            for message in messages:
                assert json.loads(message["Body"])["detail"] == body["detail"]
                sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
            if messages:
                got.add(name)
        assert got == predicted, example.file
    print(f"orders-routing: {len(examples)} example(s) x {len(queues)} targets checked")
