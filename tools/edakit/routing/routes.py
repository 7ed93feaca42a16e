"""Routes in the spec: which subscribers receive each example event, and for the others the key that failed.

Example events live in `examples/events/<spec name>/*.json`, one event per file:

    {
      "event": "OrderPlaced",                       # an event of the spec; the channels carrying it are routed
      "description": "optional, for people",
      "message_attributes": {"event_type": {"DataType": "String", "StringValue": "OrderPlaced"}},
      "body": {"order_id": "o-1", "total_amount": 25.0},
      "expect": ["email", "billing", "audit"]       # optional: the subscribers that must receive it, no others
    }

`message_attributes` use the SNS Publish API form; Pub/Sub filters see each attribute's StringValue. `body` is the
message body (SNS MessageBody policies) and, for Event Grid and EventBridge, the event itself. Kafka has no
broker-side filters:
every consumer group of a channel receives all of it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edakit.redact import shorten  # names from an example file are quoted by their start
from edakit.routing.errors import InvalidFilterError
from edakit.routing.eventbridge import explain_event_pattern
from edakit.routing.eventgrid import explain_eventgrid
from edakit.routing.pubsub import explain_pubsub
from edakit.routing.sns import explain_sns
from edakit.spec.errors import KeyPath, Problem, SpecError, format_path
from edakit.spec.limits import MAX_EXAMPLE_EVENT_BYTES
from edakit.spec.model import Filter, Spec, Subscriber
from edakit.spec.source import Document, read_document

EXAMPLE_KEYS = ("event", "description", "message_attributes", "body", "expect")


@dataclass(frozen=True)
class ExampleEvent:
    file: str
    event: str
    message_attributes: Mapping[str, Mapping[str, Any]]
    body: Any
    expect: tuple[str, ...] | None
    positions: Mapping[KeyPath, tuple[int, int]]

    def problem(self, path: KeyPath, message: str) -> Problem:
        for end in range(len(path), -1, -1):
            if path[:end] in self.positions:
                return Problem(self.file, *self.positions[path[:end]], format_path(path[:end]), message)
        return Problem(self.file, 1, 1, "(root)", message)

    @property
    def message(self) -> str:
        """The body as SNS delivers it: text, JSON-encoded unless it already is a string."""
        return self.body if isinstance(self.body, str) else json.dumps(self.body)


@dataclass(frozen=True)
class Delivery:
    subscriber: str
    reasons: tuple[str, ...]  # empty: the subscriber receives the event

    @property
    def receives(self) -> bool:
        return not self.reasons


def examples_dir(spec: Spec) -> Path:
    return spec.root / "examples" / "events" / spec.name


def load_example(path: str | Path) -> ExampleEvent:
    """Read one example event file (at most edakit.spec.limits.MAX_EXAMPLE_EVENT_BYTES, nested at most MAX_DEPTH
    levels); raises SpecError naming the file, line and key of every problem."""
    file = str(path)
    document, problems = read_document(path, what="example event", max_bytes=MAX_EXAMPLE_EVENT_BYTES)
    if document.data is not None:
        problems += _shape_problems(document)
    if problems:
        raise SpecError(problems)
    data = document.data
    expect = data.get("expect")
    return ExampleEvent(
        file=file,
        event=data["event"],
        message_attributes=data.get("message_attributes", {}),
        body=data.get("body", {}),
        expect=None if expect is None else tuple(expect),
        positions=document.positions,
    )


def _shape_problems(doc: Document) -> list[Problem]:
    data = doc.data
    if not isinstance(data, dict):
        return [doc.problem((), "expected an object with `event`, `message_attributes`, `body` and `expect`")]
    problems = [doc.problem((key,), f"unknown key; expected one of {', '.join(EXAMPLE_KEYS)}")
                for key in data if key not in EXAMPLE_KEYS]
    if not isinstance(data.get("event"), str):
        problems.append(doc.problem(("event",), "expected `event`: the name of an event of the spec"))
    attributes = data.get("message_attributes", {})
    if not isinstance(attributes, dict):
        problems.append(doc.problem(("message_attributes",), "expected {name: {DataType, StringValue}}"))
    else:
        for name, attribute in attributes.items():
            if not (isinstance(attribute, dict) and isinstance(attribute.get("DataType"), str)
                    and isinstance(attribute.get("StringValue"), str)):
                problems.append(doc.problem(("message_attributes", name),
                                            'expected {"DataType": "String", "StringValue": "..."}'))
    expect = data.get("expect")
    if expect is not None and not (isinstance(expect, list) and all(isinstance(s, str) for s in expect)):
        problems.append(doc.problem(("expect",), "expected a list of subscriber names"))
    return problems


def load_examples(directory: str | Path) -> list[ExampleEvent]:
    """Every `*.json` example in `directory` (none if it does not exist); one SpecError for all bad files."""
    examples, problems = [], []
    for path in sorted(Path(directory).glob("*.json")):
        try:
            examples.append(load_example(path))
        except SpecError as exc:
            problems += exc.problems
    if problems:
        raise SpecError(problems)
    return examples


def filter_reasons(broker: str, subscription_filter: Filter, example: ExampleEvent) -> list[str]:
    """Why the broker would not deliver `example` through this filter; empty when it would."""
    if broker == "sqs-sns":
        return explain_sns(subscription_filter.policy, scope=subscription_filter.scope,  # type: ignore[arg-type]
                           message_attributes=dict(example.message_attributes), message=example.message)
    if broker == "pubsub":
        attributes = {name: a["StringValue"] for name, a in example.message_attributes.items()}
        return explain_pubsub(str(subscription_filter.policy), attributes)
    if broker == "event-grid":
        event = example.body if isinstance(example.body, dict) else {}
        return explain_eventgrid(dict(subscription_filter.policy), event)  # type: ignore[arg-type]
    if broker == "eventbridge":
        event = example.body if isinstance(example.body, dict) else {}
        return explain_event_pattern(dict(subscription_filter.policy), event)  # type: ignore[arg-type]
    raise InvalidFilterError(f"{broker} has no broker-side filters")


def route(spec: Spec, example: ExampleEvent) -> list[Delivery]:
    """One Delivery per subscriber of the spec, in spec order."""
    carrying = {name for name, channel in spec.channels.items() if example.event in channel.events}
    return [Delivery(sub.name, tuple(_reasons(spec, sub, carrying, example))) for sub in spec.subscribers.values()]


def _reasons(spec: Spec, sub: Subscriber, carrying: set[str], example: ExampleEvent) -> list[str]:
    if sub.channel not in carrying:
        return [f"reads channel '{sub.channel}', which does not carry {shorten(example.event)}"]
    if sub.filter is None:
        return []
    return filter_reasons(spec.channels[sub.channel].broker, sub.filter, example)


def check_expected(spec: Spec, events_dir: str | Path | None = None) -> list[Problem]:
    """Problems where an example's declared recipients disagree with routing (or name unknown events or
    subscribers). Reads `examples_dir(spec)` unless `events_dir` is given; raises SpecError for unreadable files."""
    problems = []
    for example in load_examples(events_dir if events_dir is not None else examples_dir(spec)):
        problems += example_problems(spec, example)
    return problems


def example_problems(spec: Spec, example: ExampleEvent) -> list[Problem]:
    if example.event not in spec.events:
        return [example.problem(("event",), f"'{shorten(example.event)}' is not an event of spec '{spec.name}' "
                                            f"(events: {', '.join(spec.events) or 'none'})")]
    problems = [example.problem(("expect", i), f"'{shorten(name)}' is not a subscriber of spec '{spec.name}'")
                for i, name in enumerate(example.expect or ()) if name not in spec.subscribers]
    if example.expect is None or problems:
        return problems
    try:
        deliveries = route(spec, example)
    except InvalidFilterError as exc:
        return [example.problem((), f"cannot route: {exc}")]
    expected = set(example.expect)
    for delivery in deliveries:
        if delivery.receives and delivery.subscriber not in expected:
            problems.append(example.problem(("expect",), f"'{delivery.subscriber}' receives {example.event} "
                                                         "but is not expected to"))
        elif not delivery.receives and delivery.subscriber in expected:
            problems.append(example.problem(("expect",), f"'{delivery.subscriber}' is expected but does not receive "
                                                         f"it: {'; '.join(delivery.reasons)}"))
    return problems
