"""`environments.<env>` deep-merges onto the base: maps merge, everything else replaces, typos are located."""

from __future__ import annotations

from collections.abc import Callable

from edakit.spec import Location, load_spec

SPEC = """
name: shop
broker: kafka
tags: {team: shop, tier: "2"}
kafka:
  bootstrap_servers: ["kafka-1:9092", "kafka-2:9092"]
  retention_hours: 72
events:
  OrderPlaced: {schema: schemas/shop/v1/order-placed.avsc, version: 1}
channels:
  orders:
    events: [OrderPlaced]
    kafka: {partitions: 6, producers: ["User:shop"]}
subscribers:
  billing:
    channel: orders
    dlq: {max_receive_count: 4}
environments:
  staging:
    kafka:
      bootstrap_servers: ["staging:9092"]
      default_replication_factor: 1
      min_insync_replicas: 1
  prod:
    tags: {tier: "1"}
    kafka:
      retention_hours: 336
    channels:
      orders:
        kafka: {partitions: 24}
"""

Write = Callable[..., str]
Problems = Callable[..., list[str]]


def test_base_and_each_environment(write_spec: Write) -> None:
    path = write_spec(SPEC)
    base, staging, prod = load_spec(path), load_spec(path, "staging"), load_spec(path, "prod")
    assert base.environment is None and base.environments == ("staging", "prod")
    assert base.channels["orders"].resource_name == "shop-orders"
    assert staging.channels["orders"].resource_name == "shop-staging-orders"
    assert staging.subscribers["billing"].consumer_group == "shop-staging-billing"
    # Lists replace lists; settings not overridden keep the base value.
    assert staging.kafka is not None and staging.kafka.bootstrap_servers == ("staging:9092",)
    assert staging.kafka.retention_hours == 72
    assert staging.channels["orders"].kafka.replication_factor == 1  # type: ignore[union-attr]
    # Maps merge key by key, at every depth.
    assert prod.tags == {"team": "shop", "tier": "1"}
    topic = prod.channels["orders"].kafka
    assert topic is not None and (topic.partitions, topic.producers) == (24, ("User:shop",))
    assert (topic.retention_hours, prod.subscribers["billing"].dlq.retention_hours) == (336, 336)
    assert base.channels["orders"].kafka.partitions == 6  # type: ignore[union-attr]


def test_locations_follow_the_override(write_spec: Write) -> None:
    path = write_spec(SPEC)
    prod = load_spec(path, "prod")
    assert prod.location("channels", "orders", "kafka", "partitions") == Location(path, 29, 17)
    assert prod.location("channels", "orders", "events") == Location(path, 11, 5)
    assert load_spec(path).location("channels", "orders", "kafka", "partitions") == Location(path, 12, 13)


def test_an_override_may_set_a_setting_the_base_leaves_at_its_default(write_spec: Write) -> None:
    staging = load_spec(write_spec(SPEC), "staging")  # base never writes default_replication_factor
    assert staging.kafka is not None and staging.kafka.default_replication_factor == 1


def test_override_keys_must_exist_in_the_base(write_spec: Write, problems: Problems) -> None:
    text = SPEC + "  qa:\n    channels:\n      order:\n        kafka: {partitions: 2}\n    kafka: {retention_hour: 1}\n"
    assert problems(write_spec(text)) == [
        "configs/shop.yaml:32:7 environments.qa.channels.order: 'order' is not in the base spec, so it cannot be "
        "overridden; did you mean 'orders'?",
        "configs/shop.yaml:34:13 environments.qa.kafka.retention_hour: 'retention_hour' is not in the base spec, so "
        "it cannot be overridden; did you mean 'retention_hours'?",
    ]


def test_override_values_are_validated_where_they_are_written(write_spec: Write, problems: Problems) -> None:
    text = SPEC.replace("kafka: {partitions: 24}", "kafka: {partitions: 0}")
    assert problems(write_spec(text)) == [
        "configs/shop.yaml:29:17 environments.prod.channels.orders.kafka.partitions: 0 is less than the minimum of 1"
    ]
    # A cross-check that only fails after the merge is located in the override too.
    text = SPEC.replace("      retention_hours: 336", "      retention_hours: 336\n      min_insync_replicas: 4")
    assert problems(write_spec(text)) == [
        "configs/shop.yaml:27:7 environments.prod.kafka.min_insync_replicas: min_insync_replicas 4 exceeds the "
        "replication factor 3 of channel 'orders': producers with acks=all could never write"
    ]


def test_replacing_a_mapping_with_a_scalar_is_a_type_error(write_spec: Write, problems: Problems) -> None:
    text = SPEC.replace("    tags: {tier: \"1\"}", "    tags: none")
    assert problems(write_spec(text)) == [
        "configs/shop.yaml:24:5 environments.prod.tags: expected object, got string \"none\""
    ]


def test_unknown_environment(write_spec: Write, problems: Problems) -> None:
    path = write_spec(SPEC)
    assert problems(path, "production") == [
        "configs/shop.yaml:17:1 environments: no environment 'production' in the spec; expected one of: prod, staging"
    ]
    no_envs = write_spec(SPEC[: SPEC.index("environments:")], "plain.yaml")
    assert problems(no_envs, "prod") == ["configs/plain.yaml:1:1 (root): no environment 'prod' in the spec"]


def test_an_environment_cannot_rename_the_system_or_add_unknown_blocks(write_spec: Write, problems: Problems) -> None:
    text = SPEC + "  qa:\n    name: other\n    kafak: {}\n"
    assert problems(write_spec(text)) == [
        "configs/shop.yaml:31:5 environments.qa.name: unknown key 'name'; expected one of: alerts, broker, channels, claim_check, "
        "consumer, description, event_grid, eventbridge, events, kafka, pubsub, saga, sqs_sns, subscribers, tags",
        "configs/shop.yaml:32:5 environments.qa.kafak: unknown key 'kafak'; did you mean 'kafka'?",
    ]


def test_load_environments_gives_every_environment_from_one_read(repo_root) -> None:
    from edakit.spec import load_environments, load_spec

    path = repo_root / "configs" / "order-events-sns.yaml"
    specs = load_environments(path)
    assert [s.environment for s in specs] == ["staging", "prod"]
    assert specs == [load_spec(path, env) for env in ("staging", "prod")]
    legacy = load_environments(repo_root / "configs" / "event-config.yaml")
    assert [s.environment for s in legacy] == [None]
