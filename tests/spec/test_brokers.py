"""Event Grid, Pub/Sub, EventBridge, claim-check and saga blocks: each problem located where it is written."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from edakit.spec import load_spec

Write = Callable[..., str]
Problems = Callable[..., list[str]]

GRID = """
name: shop
broker: event-grid
event_grid: {resource_group_name: rg-shop, location: westeurope, dead_letter_storage: {storage_account_name: shopdl}}
events:
  OrderPlaced: {schema: schemas/shop/v1/order-placed.avsc, version: 1}
channels:
  orders: {events: [OrderPlaced]}
subscribers:
  billing:
    channel: orders
    event_grid: {destination: {type: webhook, webhook_url: "https://billing.example.com/events", secret_header_name: X-Secret}}
"""

PUBSUB = """
name: shop
broker: pubsub
pubsub: {project_id: shop-platform}
events:
  OrderPlaced: {schema: schemas/shop/v1/order-placed.avsc, version: 1}
channels:
  orders:
    {events: [OrderPlaced], attributes: {native: {event_type: type}},
     pubsub: {schema_encoding: JSON}}
subscribers:
  billing:
    channel: orders
    filter: {policy: 'attributes.event_type = "OrderPlaced"'}
"""

BUS = """
name: shop
broker: eventbridge
eventbridge: {region: eu-west-1}
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


def test_valid_specs_of_every_broker_load(write_spec: Write) -> None:
    for text in (GRID, PUBSUB, BUS):
        spec = load_spec(write_spec(text))
        (sub,) = spec.subscribers.values()
        assert sub.dlq.enabled and sub.retry.max_event_age_seconds == 86400  # one retry and DLQ idea everywhere
    assert load_spec(write_spec(BUS)).subscribers["review"].eventbridge is not None


def test_event_grid_destination_and_delivery_attempts(write_spec: Write, problems: Problems) -> None:
    text = GRID.replace("type: webhook, webhook_url:", "type: storage_queue, webhook_url:")
    text += "    dlq: {max_receive_count: 31, retention_hours: 48}\n    filter: {policy: 'x', scope: MessageBody}\n"
    assert problems(write_spec(text)) == [
        "configs/shop.yaml:11:18 subscribers.billing.event_grid.destination: destination type storage_queue needs "
        "`queue_name`",
        "configs/shop.yaml:11:18 subscribers.billing.event_grid.destination: destination type storage_queue needs "
        "`resource_id`",
        "configs/shop.yaml:11:53 subscribers.billing.event_grid.destination.webhook_url: destination type "
        "storage_queue takes no `webhook_url`",
        "configs/shop.yaml:11:104 subscribers.billing.event_grid.destination.secret_header_name: destination type "
        "storage_queue takes no `secret_header_name` (webhooks only)",
        "configs/shop.yaml:12:11 subscribers.billing.dlq.max_receive_count: dlq.max_receive_count 31 is outside "
        "1-30, the delivery attempts event-grid allows before dead-lettering",
        "configs/shop.yaml:12:34 subscribers.billing.dlq.retention_hours: event-grid dead-letter retention is not "
        "set per subscriber; remove it",
        "configs/shop.yaml:13:14 subscribers.billing.filter.policy: an Event Grid filter is a mapping such as "
        "{includedEventTypes: [OrderPlaced]}",
        "configs/shop.yaml:13:27 subscribers.billing.filter.scope: `scope` applies to SNS filter policies only; "
        "remove it",
    ]


def test_event_grid_subscribers_need_a_destination_and_keep_their_dlq(write_spec: Write, problems: Problems) -> None:
    text = GRID.replace(
        '    event_grid: {destination: {type: webhook, webhook_url: "https://billing.example.com/events", '
        'secret_header_name: X-Secret}}\n',
        "    dlq: {enabled: false}\n",
    )
    assert problems(write_spec(text)) == [
        "configs/shop.yaml:9:3 subscribers.billing: an event-grid subscriber needs `event_grid.destination` "
        "(where Event Grid delivers)",
        "configs/shop.yaml:11:11 subscribers.billing.dlq.enabled: the event-grid topic always dead-letters "
        "undeliverable events to its Blob container",
    ]


@pytest.mark.parametrize(("destination", "expected"), [
    ("{type: webhook, webhook_url: 'https://b.example.com/e'}",
     "11:18 subscribers.billing.event_grid.destination: a webhook needs `active_directory_tenant_id` + "
     "`active_directory_app_id_or_uri` (an Entra ID token) and/or `secret_header_name` (a secret header), so that it "
     "can refuse deliveries that are not Event Grid's; `allow_unauthenticated_webhook: true` accepts anyone"),
    ("{type: webhook, webhook_url: 'https://b.example.com/e', active_directory_tenant_id: "
     "72f988bf-86f1-41af-91ab-2d7cd011db47, secret_header_name: X-Secret}",
     "11:18 subscribers.billing.event_grid.destination: `active_directory_tenant_id` and "
     "`active_directory_app_id_or_uri` go together (the Entra ID tenant and application Event Grid requests the "
     "token for)"),
    ("{type: webhook, webhook_url: 'https://b.example.com/e', secret_header_name: aeg-secret}",
     "11:87 subscribers.billing.event_grid.destination.secret_header_name: secret_header_name 'aeg-secret': aeg-* "
     "headers are Event Grid's own, and Authorization carries the Entra ID token"),
])
def test_an_event_grid_webhook_must_authenticate_event_grid(write_spec: Write, problems: Problems, destination: str,
                                                            expected: str) -> None:
    text = GRID.replace(GRID.splitlines()[11], f"    event_grid: {{destination: {destination}}}")
    assert problems(write_spec(text)) == [f"configs/shop.yaml:{expected}"]
    for accepted in ("active_directory_tenant_id: 72f988bf-86f1-41af-91ab-2d7cd011db47, "
                     "active_directory_app_id_or_uri: 'api://billing'", "allow_unauthenticated_webhook: true"):
        destination = load_spec(write_spec(GRID.replace("secret_header_name: X-Secret", accepted))).subscribers[
            "billing"].event_grid
        assert destination is not None and destination.secret_header_name is None


def test_pubsub_schema_filter_and_attempts(write_spec: Write, problems: Problems) -> None:
    text = PUBSUB.replace("{events: [OrderPlaced],", "{events: [OrderPlaced, OrderShipped],")
    text = text.replace("  OrderPlaced: {", "  OrderShipped: {schema: schemas/shop/v1/order-shipped.avsc, version: 1}\n"
                                             "  OrderPlaced: {")
    text = text.replace("filter: {policy: 'attributes.event_type = \"OrderPlaced\"'}",
                        "filter: {policy: {event_type: [OrderPlaced]}}\n    dlq: {max_receive_count: 4}")
    assert problems(write_spec(text)) == [
        "configs/shop.yaml:10:15 channels.orders.pubsub.schema_encoding: a Pub/Sub topic schema comes from the "
        "channel's event Avro file: the channel needs exactly one event with an .avsc schema",
        "configs/shop.yaml:14:14 subscribers.billing.filter.policy: a Pub/Sub filter is an expression string such "
        "as 'attributes.event_type = \"OrderPlaced\"'",
        "configs/shop.yaml:15:11 subscribers.billing.dlq.max_receive_count: dlq.max_receive_count 4 is outside "
        "5-100, the delivery attempts pubsub allows before dead-lettering",
    ]


def test_eventbridge_rules_need_a_pattern_a_target_and_one_region(write_spec: Write, problems: Problems) -> None:
    text = BUS.replace("    filter: {policy: {detail-type: [OrderPlaced]}}\n", "")
    text = text.replace('queue_arn: "arn:aws:sqs:eu-west-1:123456789012:review"',
                        'queue_arn: "arn:aws:sqs:eu-west-1:123456789012:review.fifo"')
    text += "saga: {definition: configs/sagas/missing.yaml, region: us-east-1}\n"
    found = problems(write_spec(text))
    assert found[:2] + found[3:] == [
        "configs/shop.yaml:9:3 subscribers.review: an eventbridge subscriber (a rule) needs `filter.policy`, its "
        "event pattern",
        "configs/shop.yaml:11:5 subscribers.review.eventbridge: a FIFO queue target needs `message_group_id`",
        "configs/shop.yaml:12:48 saga.region: region us-east-1 differs from eventbridge.region eu-west-1: use one "
        "AWS region",
    ]
    assert found[2].startswith(
        "configs/shop.yaml:12:8 saga.definition: saga definition 'configs/sagas/missing.yaml' not found (looked for ")


def test_claim_check_store_lives_with_its_cloud_and_outlives_messages(write_spec: Write, problems: Problems) -> None:
    sns = """
name: shop
broker: sqs-sns
sqs_sns: {region: eu-west-1, dlq_retention_hours: 336}
claim_check: {store: s3, payload_expiration_days: 7}
events:
  OrderPlaced: {schema: schemas/shop/v1/order-placed.avsc, version: 1}
channels:
  orders: {events: [OrderPlaced]}
subscribers:
  billing: {channel: orders}
"""
    assert problems(write_spec(sns)) == [
        "configs/shop.yaml:4:26 claim_check.payload_expiration_days: payloads expire after 7 days but a message can "
        "wait 336 h in a queue or DLQ of this spec: set payload_expiration_days to at least 14",
    ]
    assert problems(write_spec(GRID + "claim_check: {store: azure-blob}\n")) == [
        "configs/shop.yaml:12:1 claim_check: an azure-blob store needs `name`: a storage account name of 3-24 "
        "lowercase letters and digits",
    ]
    assert problems(write_spec(PUBSUB + "claim_check: {store: gcs}\n")) == [
        "configs/shop.yaml:14:15 claim_check.store: a gcs store takes its project and location from `pubsub`",
    ]


def test_names_the_clouds_would_reject_are_reported_at_the_spec(write_spec: Write, problems: Problems) -> None:
    channel = "orders-of-the-whole-shop-and-warehouse"
    long_bus = BUS.replace("  orders: {events", f"  {channel}: {{events").replace("channel: orders", f"channel: {channel}")
    assert problems(write_spec(long_bus)) == [
        f"configs/shop.yaml:7:3 channels.{channel}: event bus name 'shop-{channel}' is 43 characters; EventBridge "
        "allows 40: shorten the spec or channel name",
    ]
    grid = GRID.replace("  billing:\n    channel", "  bi:\n    channel")
    assert problems(write_spec(grid)) == [
        "configs/shop.yaml:9:3 subscribers.bi: an Event Grid event subscription name has 3-64 characters; 'bi' has 2",
    ]


def test_pubsub_labels_and_push_limits(write_spec: Write, problems: Problems) -> None:
    text = PUBSUB.replace("broker: pubsub\n", "broker: pubsub\ntags: {Team: Orders}\n")
    text += ("    pubsub: {enable_exactly_once_delivery: true, push: {endpoint: 'https://billing.example.com/push', "
             "oidc_service_account_email: pusher@shop.iam.gserviceaccount.com}}\n")
    assert problems(write_spec(text)) == [
        "configs/shop.yaml:3:8 tags.Team: tag 'Team: Orders' cannot be a Google Cloud label: keys start with a "
        "lowercase letter, keys and values use lowercase letters, digits, _ and - (at most 63)",
        "configs/shop.yaml:15:14 subscribers.billing.pubsub.enable_exactly_once_delivery: exactly-once delivery "
        "works only on pull subscriptions: remove `push` or this setting",
    ]
