"""Reference problems are reported in the same run as schema problems, once each, never as a crash."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from edakit.spec import SpecError, load_spec

SNS = """
name: shop
broker: sqs-sns
sqs_sns:
  region: eu-west-1
events:
  OrderPlaced: {schema: schemas/shop/v1/order-placed.avsc, version: 1}
channels:
  order-placed:
    events: [OrderPlaced]
subscribers:
  billing:
    channel: order-placed
    dlq:
      max_receive_count: 3
"""

Problems = Callable[..., list[str]]
Write = Callable[..., str]


def test_a_schema_problem_and_a_dangling_channel_in_one_run(write_spec: Write, problems: Problems) -> None:
    text = SNS.replace("max_receive_count: 3", "max_receive_count: 0").replace(
        "channel: order-placed", "channel: order-placd"
    )
    assert problems(write_spec(text)) == [
        "configs/shop.yaml:12:5 subscribers.billing.channel: unknown channel 'order-placd'; "
        "did you mean 'order-placed'?",
        "configs/shop.yaml:14:7 subscribers.billing.dlq.max_receive_count: 0 is less than the minimum of 1",
    ]


def test_every_reference_is_checked_despite_schema_problems(write_spec: Write, problems: Problems, repo) -> None:
    text = (
        SNS.replace("sqs_sns:\n  region: eu-west-1\n", "")
        .replace("version: 1", "version: 0")
        .replace("v1/order-placed.avsc", "v2/order-placed.avsc")
        .replace("events: [OrderPlaced]", "events: [OrderPlacd]")
        .replace("channel: order-placed", "channel: order-placd")
    )
    text += "saga: {definition: configs/sagas/missing.yaml, region: eu-west-1, log_retention_days: 2}\n"
    assert problems(write_spec(text)) == [
        "configs/shop.yaml:2:1 broker: channel uses sqs-sns but the spec has no top-level `sqs_sns` block",
        f"configs/shop.yaml:4:17 events.OrderPlaced.schema: schema file 'schemas/shop/v2/order-placed.avsc' not "
        f"found (looked for {repo.resolve() / 'schemas/shop/v2/order-placed.avsc'})",
        "configs/shop.yaml:4:60 events.OrderPlaced.version: 0 is less than the minimum of 1",
        "configs/shop.yaml:7:14 channels.order-placed.events[0]: unknown event 'OrderPlacd'; "
        "did you mean 'OrderPlaced'?",
        "configs/shop.yaml:10:5 subscribers.billing.channel: unknown channel 'order-placd'; "
        "did you mean 'order-placed'?",
        f"configs/shop.yaml:13:8 saga.definition: saga definition 'configs/sagas/missing.yaml' not found "
        f"(looked for {repo.resolve() / 'configs/sagas/missing.yaml'})",
        "configs/shop.yaml:13:67 saga.log_retention_days: 2 is not allowed; expected one of: 1, 1096, 120, 14, 150, "
        "180, 1827, 2192, 2557, 2922, 3, 30, 3288, 365, 3653, 400, 5, 545, 60, 7, 731, 90",
    ]


def test_malformed_shapes_are_reported_by_the_schema_alone(write_spec: Write, problems: Problems) -> None:
    # Each value a reference check would read has the wrong type: the schema's problem is the only one.
    cases = {
        "channel: order-placed": ("channel: [order-placed]", "12:5 subscribers.billing.channel: expected string"),
        "events: [OrderPlaced]": ("events: [[OrderPlaced]]", "9:14 channels.order-placed.events[0]: expected string"),
        "  order-placed:\n    events: [OrderPlaced]\n": ("  - order-placed\n", "7:1 channels: expected object"),
        "  billing:\n": ("  billing: 5\n  other:\n", "11:3 subscribers.billing: expected object"),
    }
    for old, (new, expected) in cases.items():
        found = problems(write_spec(SNS.replace(old, new)))
        assert [p for p in found if expected in p] == found and len(found) == 1, (new, found)


def test_a_rejected_reference_is_reported_once(write_spec: Write, problems: Problems) -> None:
    # The schema rejects the file name; that the file is missing too is not a second problem at the same key.
    text = SNS.replace("v1/order-placed.avsc", "v1/order-placed.txt")
    assert problems(write_spec(text)) == [
        "configs/shop.yaml:6:17 events.OrderPlaced.schema: 'schemas/shop/v1/order-placed.txt' does not match "
        "'\\\\.(avsc|json)$'"
    ]


def test_a_dangling_reference_in_the_base_and_every_environment_is_one_problem(write_spec: Write) -> None:
    text = SNS.replace("channel: order-placed", "channel: order-placd").replace("max_receive_count: 3", "zzz: 1")
    text += "environments:\n  staging: {tags: {team: x}}\n  prod:\n    subscribers:\n      billing: {channel: nope}\n"
    path = write_spec(text)
    for env in (None, "staging", "prod"):
        with pytest.raises(SpecError) as caught:
            load_spec(path, env)
        channel_problems = [str(p) for p in caught.value.problems if p.path.endswith("billing.channel")]
        assert channel_problems == [
            "configs/shop.yaml:12:5 subscribers.billing.channel: unknown channel 'order-placd'; "
            "did you mean 'order-placed'?",
            "configs/shop.yaml:19:17 environments.prod.subscribers.billing.channel: unknown channel 'nope'; "
            "expected one of: order-placed",
        ], env


@pytest.mark.parametrize(("schema", "why"), [
    ("/etc/edakit/order-placed.avsc", "is an absolute path; expected a path relative to the repository root, "
                                      "inside schemas/ of the repository"),
    ("schemas/../../outside/order-placed.avsc", "leads outside schemas/ of the repository; expected a file inside it"),
    ("configs/order-placed.avsc", "leads outside schemas/ of the repository; expected a file inside it"),
    ("schemas/shop/v1/escape.avsc", "leads outside schemas/ of the repository; expected a file inside it"),
])
def test_a_schema_file_outside_schemas_is_refused_even_when_it_exists(write_spec: Write, problems: Problems, repo,
                                                                       schema: str, why: str) -> None:
    # each target exists: the refusal is about where it is, so the spec cannot probe the runner's files
    outside = repo.parent / "outside"
    outside.mkdir(exist_ok=True)
    (outside / "order-placed.avsc").write_text('{"type": "record", "name": "X", "fields": []}\n')
    (repo / "configs" / "order-placed.avsc").write_text('{"type": "record", "name": "X", "fields": []}\n')
    (repo / "schemas" / "shop" / "v1" / "escape.avsc").symlink_to(outside / "order-placed.avsc")
    text = SNS.replace("schemas/shop/v1/order-placed.avsc", schema)
    assert problems(write_spec(text)) == [
        f"configs/shop.yaml:6:17 events.OrderPlaced.schema: schema file '{schema}' {why}"]


def test_a_saga_definition_outside_the_repository_is_refused(write_spec: Write, problems: Problems, repo) -> None:
    (repo.parent / "saga.yaml").write_text("saga: x\n")
    text = SNS + "saga: {definition: ../saga.yaml, region: eu-west-1, log_retention_days: 3}\n"
    assert problems(write_spec(text)) == [
        "configs/shop.yaml:15:8 saga.definition: saga definition '../saga.yaml' leads outside the repository; "
        "expected a file inside it"]
