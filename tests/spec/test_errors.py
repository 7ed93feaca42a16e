"""Each kind of bad input gives located problems, all of them in one run, with the exact file:line:column."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from edakit.spec import load_spec

SNS = """
name: shop
broker: sqs-sns
sqs_sns:
  region: eu-west-1
events:
  OrderPlaced: {schema: schemas/shop/v1/order-placed.avsc, version: 1}
channels:
  orders:
    events: [OrderPlaced]
subscribers:
  billing:
    channel: orders
    dlq:
      max_receive_count: 3
"""

KAFKA = """
name: shop
broker: kafka
kafka:
  bootstrap_servers: ["localhost:9092"]
  default_replication_factor: 3
  min_insync_replicas: 2
events:
  OrderPlaced: {schema: schemas/shop/v1/order-placed.avsc, version: 1}
channels:
  orders:
    events: [OrderPlaced]
subscribers:
  billing:
    channel: orders
"""

Problems = Callable[..., list[str]]
Write = Callable[..., str]


def test_the_valid_bases_load(write_spec: Write) -> None:
    assert load_spec(write_spec(SNS)).subscribers["billing"].dlq.max_receive_count == 3
    assert load_spec(write_spec(KAFKA)).channels["orders"].kafka is not None
    # JSON Schema counts 2.0 as an integer; the model holds it as one.
    parallel = load_spec(write_spec(KAFKA + "    parallelism: 2.0\n")).subscribers["billing"].parallelism
    assert parallel == 2 and isinstance(parallel, int)


def test_out_of_range_value_is_reported_at_its_key(write_spec: Write, problems: Problems) -> None:
    path = write_spec(SNS.replace("max_receive_count: 3", "max_receive_count: 0"))
    assert problems(path) == [
        "configs/shop.yaml:14:7 subscribers.billing.dlq.max_receive_count: 0 is less than the minimum of 1"
    ]


def test_every_problem_is_reported_in_one_run(write_spec: Write, problems: Problems) -> None:
    text = (
        SNS.replace("region: eu-west-1", "regoin: eu-west-1")
        .replace("max_receive_count: 3", "max_receive_count: 1001")
        .replace("broker: sqs-sns", "broker: sqs")
        .replace("    channel: orders", "    channel: orders\n    parallelism: many")
    )
    assert problems(write_spec(text)) == [
        "configs/shop.yaml:2:1 broker: \"sqs\" is not allowed; did you mean 'sqs-sns'?",
        "configs/shop.yaml:3:1 sqs_sns: missing required key 'region'",
        "configs/shop.yaml:4:3 sqs_sns.regoin: unknown key 'regoin'; did you mean 'region'?",
        "configs/shop.yaml:13:5 subscribers.billing.parallelism: expected integer, got string \"many\"",
        "configs/shop.yaml:15:7 subscribers.billing.dlq.max_receive_count: 1001 is greater than the maximum of 1000",
    ]


def test_unknown_key_without_a_close_match_lists_the_allowed_keys(write_spec: Write, problems: Problems) -> None:
    text = SNS.replace("    dlq:\n", "    dlq:\n      zzz: 1\n")
    assert problems(write_spec(text)) == [
        "configs/shop.yaml:14:7 subscribers.billing.dlq.zzz: unknown key 'zzz'; "
        "expected one of: enabled, max_receive_count, retention_hours"
    ]


def test_invalid_names_are_reported_at_the_name(write_spec: Write, problems: Problems) -> None:
    text = SNS.replace("  billing:", "  Billing_Team:").replace("OrderPlaced:", "order_placed:")
    assert problems(write_spec(text)) == [
        "configs/shop.yaml:6:3 events.order_placed: invalid name 'order_placed': names must match ^[A-Z][A-Za-z0-9]*$",
        # The channel still names the event as it was: a reference problem, reported in the same run.
        "configs/shop.yaml:9:14 channels.orders.events[0]: unknown event 'OrderPlaced'; did you mean 'order_placed'?",
        "configs/shop.yaml:11:3 subscribers.Billing_Team: invalid name 'Billing_Team': "
        "names must match ^[a-z][a-z0-9]*(-[a-z0-9]+)*$",
    ]


def test_missing_required_keys(write_spec: Write, problems: Problems) -> None:
    text = SNS.replace("name: shop\n", "").replace("    channel: orders\n", "")
    assert problems(write_spec(text)) == [
        "configs/shop.yaml:1:1 (root): missing required key 'name'",
        "configs/shop.yaml:10:3 subscribers.billing: missing required key 'channel'",
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("name: shop\nbroker: [kafka\n", "configs/shop.yaml:3:1 (root): invalid YAML: while parsing a flow sequence, "
         "expected ',' or ']', but got '<stream end>'"),
        ("name: shop\n  broker: kafka\n", "configs/shop.yaml:2:9 (root): invalid YAML: mapping values are not "
         "allowed here"),
        ("", "configs/shop.yaml:1:1 (root): the spec is empty; expected a mapping with at least `name`"),
        ("null\n", "configs/shop.yaml:1:1 (root): expected object, got null"),
        ("- name: shop\n", "configs/shop.yaml:1:1 (root): expected object, got array [{\"name\": \"shop\"}]"),
        ("name: shop\nbroker: kafka\n---\nname: other\n", "configs/shop.yaml:3:1 (root): invalid YAML: expected a "
         "single document in the stream, but found another document"),
    ],
)
def test_yaml_syntax_and_shape_errors_have_positions(
    write_spec: Write, problems: Problems, text: str, expected: str
) -> None:
    assert problems(write_spec(text)) == [expected]


def test_duplicate_keys_are_errors(write_spec: Write, problems: Problems) -> None:
    text = SNS + "  billing:\n    channel: orders\n"
    assert problems(write_spec(text)) == [
        "configs/shop.yaml:15:3 subscribers.billing: duplicate key (first defined on line 11)"
    ]


def test_yaml_oddities_are_problems_not_crashes(write_spec: Write, problems: Problems) -> None:
    text = SNS.replace("name: shop", "name: !Ref shop").replace("  orders:", "  orders:\n    ? [a]\n    : 1")
    assert problems(write_spec(text)) == [
        "configs/shop.yaml:1:1 name: unsupported YAML value: could not determine a constructor for the tag '!Ref'",
        "configs/shop.yaml:9:7 channels.orders: keys must be plain strings",
    ]
    recursive = write_spec("name: shop\nbroker: kafka\ntags: &t\n  self: *t\n")
    assert problems(recursive) == [
        "configs/shop.yaml:4:3 tags.self: expected string, got null",
        "configs/shop.yaml:4:3 tags.self: recursive YAML alias; expected plain data",
    ]


def test_dangling_references_suggest_the_closest_name(write_spec: Write, problems: Problems) -> None:
    text = SNS.replace("events: [OrderPlaced]", "events: [OrderPlacd]").replace("channel: orders", "channel: order")
    assert problems(write_spec(text)) == [
        "configs/shop.yaml:8:3 channels.orders: an sqs-sns channel needs at least one subscriber: SNS drops messages "
        "nobody subscribed to",
        "configs/shop.yaml:9:14 channels.orders.events[0]: unknown event 'OrderPlacd'; did you mean 'OrderPlaced'?",
        "configs/shop.yaml:12:5 subscribers.billing.channel: unknown channel 'order'; did you mean 'orders'?",
    ]


def test_missing_schema_file(write_spec: Write, problems: Problems, repo) -> None:
    text = SNS.replace("v1/order-placed.avsc", "v2/order-placed.avsc")
    assert problems(write_spec(text)) == [
        f"configs/shop.yaml:6:17 events.OrderPlaced.schema: schema file 'schemas/shop/v2/order-placed.avsc' "
        f"not found (looked for {repo.resolve() / 'schemas/shop/v2/order-placed.avsc'})"
    ]


def test_dlq_must_outlive_its_source(write_spec: Write, problems: Problems) -> None:
    sns = SNS.replace("max_receive_count: 3", "max_receive_count: 3\n      retention_hours: 48")
    assert problems(write_spec(sns)) == [
        "configs/shop.yaml:15:7 subscribers.billing.dlq.retention_hours: the DLQ keeps messages 48 h, less than "
        "its queue's message_retention_hours (96 h); set dlq.retention_hours to at least 96"
    ]
    kafka = KAFKA + "    dlq: {retention_hours: 100}\n"
    assert problems(write_spec(kafka)) == [
        "configs/shop.yaml:15:11 subscribers.billing.dlq.retention_hours: the DLQ keeps messages 100 h, less than "
        "topic 'shop-orders' retention_hours (168 h); set dlq.retention_hours to at least 168"
    ]


def test_fifo_rules(write_spec: Write, problems: Problems) -> None:
    dedup = "    events: [OrderPlaced]\n    sqs_sns: {content_based_deduplication: true}"
    sns = SNS.replace("    events: [OrderPlaced]", dedup)
    assert problems(write_spec(sns)) == [
        "configs/shop.yaml:10:15 channels.orders.sqs_sns.content_based_deduplication: content-based deduplication "
        "needs a FIFO topic: set `fifo: true` or remove it"
    ]
    kafka = KAFKA.replace("    events: [OrderPlaced]", "    events: [OrderPlaced]\n    fifo: true")
    assert problems(write_spec(kafka)) == [
        "configs/shop.yaml:12:5 channels.orders.fifo: fifo applies to sqs-sns channels (SNS FIFO topic and FIFO "
        "queues); kafka orders messages by key/partition instead"
    ]
    long_name = SNS.replace("  billing:", "  " + "b" * 40 + ":").replace("  orders:", "  " + "o" * 40 + ":")
    long_name = long_name.replace("channel: orders", "channel: " + "o" * 40)
    long_name = long_name.replace("events: [OrderPlaced]", "events: [OrderPlaced]\n    fifo: true")
    assert problems(write_spec(long_name)) == [
        f"configs/shop.yaml:12:3 subscribers.{'b' * 40}: queue name 'shop-{'o' * 40}-{'b' * 40}-dlq.fifo' is 95 "
        "characters; SQS allows 80: shorten the spec, channel or subscriber name"
    ]


def test_broker_blocks_must_match_the_channel_broker(write_spec: Write, problems: Problems) -> None:
    blocks = "    kafka: {consumer_group: billing}\n    filter: {policy: 'attributes.x = \"1\"'}\n    dlq:\n"
    text = SNS.replace("    dlq:\n", blocks)
    assert problems(write_spec(text)) == [
        "configs/shop.yaml:13:5 subscribers.billing.kafka: `kafka` settings apply to kafka subscribers; channel "
        "'orders' uses sqs-sns",
        "configs/shop.yaml:14:14 subscribers.billing.filter.policy: an SNS filter policy is a mapping such as "
        "{event_type: [OrderPlaced]}, not a string",
    ]
    kafka = KAFKA + "    filter: {policy: {event_type: [OrderPlaced]}}\n    dlq: {enabled: false}\n"
    assert problems(write_spec(kafka)) == [
        "configs/shop.yaml:15:5 subscribers.billing.filter: Kafka has no broker-side filtering: every consumer group "
        "reads the whole topic; remove `filter`",
        "configs/shop.yaml:16:11 subscribers.billing.dlq.enabled: kafka subscribers always get a DLQ topic: "
        "without one, a failing message blocks its partition",
    ]


def test_brokers_need_their_settings(write_spec: Write, problems: Problems) -> None:
    grid = "    events: [OrderPlaced]\n  grid:\n    events: [OrderPlaced]\n    broker: event-grid"
    text = SNS.replace("sqs_sns:\n  region: eu-west-1\n", "").replace("    events: [OrderPlaced]", grid)
    assert problems(write_spec(text)) == [
        "configs/shop.yaml:2:1 broker: channel uses sqs-sns but the spec has no top-level `sqs_sns` block",
        "configs/shop.yaml:10:5 channels.grid.broker: channel uses event-grid but the spec has no top-level "
        "`event_grid` block",
    ]


def test_kafka_replication_rules(write_spec: Write, problems: Problems) -> None:
    text = KAFKA.replace("    events: [OrderPlaced]", "    events: [OrderPlaced]\n    kafka: {replication_factor: 1}")
    text += "  audit:\n    channel: orders\n    kafka: {consumer_group: shop-billing}\n"
    assert problems(write_spec(text)) == [
        "configs/shop.yaml:12:13 channels.orders.kafka.replication_factor: min_insync_replicas 2 exceeds the "
        "replication factor 1 of channel 'orders': producers with acks=all could never write",
        "configs/shop.yaml:18:13 subscribers.audit.kafka.consumer_group: consumer group 'shop-billing' is already "
        "used by subscriber 'billing'; each subscriber needs its own group to receive every message",
    ]


def test_one_sqs_sns_channel_per_spec_and_it_needs_subscribers(write_spec: Write, problems: Problems) -> None:
    text = SNS.replace("subscribers:", "  more:\n    events: [OrderPlaced]\nsubscribers:")
    assert problems(write_spec(text)) == [
        "configs/shop.yaml:10:3 channels.more: a spec may have one sqs-sns channel (it renders "
        "aws-sns-sqs-fanout.auto.tfvars.json); 'orders' is already one: move this channel to its own spec file",
        "configs/shop.yaml:10:3 channels.more: an sqs-sns channel needs at least one subscriber: SNS drops messages "
        "nobody subscribed to",
    ]


def test_queue_and_retry_consistency(write_spec: Write, problems: Problems) -> None:
    text = SNS + "    retry: {min_backoff_seconds: 60, max_backoff_seconds: 30}\n"
    text += "    sqs_sns: {message_retention_hours: 1, age_of_oldest_message_alarm_seconds: 3600}\n"
    assert problems(write_spec(text)) == [
        "configs/shop.yaml:15:13 subscribers.billing.retry.min_backoff_seconds: min_backoff_seconds (60) exceeds "
        "max_backoff_seconds (30)",
        "configs/shop.yaml:16:43 subscribers.billing.sqs_sns.age_of_oldest_message_alarm_seconds: "
        "age_of_oldest_message_alarm_seconds (3600) must be below the queue's retention (3600 s): older messages "
        "are already deleted",
    ]


def test_unreadable_file(problems: Problems, repo) -> None:
    assert problems("configs/missing.yaml")[0].startswith("configs/missing.yaml:1:1 (root): cannot read the spec:")
