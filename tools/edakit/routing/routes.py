"""Routes in the spec: which subscribers receive each example event, and for the others the key that failed.

Example events live in `examples/events/<spec name>/*.json`, one event per file. By default an example is what the
kit's own publisher sends, and routes derives the broker message from it with the runtime's own encoder (the
adapter's `encode` with the channel's publish contract, edakit.brokers), so the prediction is what the broker sees:

    {
      "event": "OrderPlaced",                       # an event of the spec (the message's type); its channels are routed
      "description": "optional, for people",
      "key": "ord-1", "subject": "optional", "headers": {"traceparent": "..."},   # optional Message fields
      "payload": {"order_id": "o-1", "total_amount": 25.0},                      # the message's JSON payload
      "expect": ["email", "billing", "audit"]       # optional: the subscribers that must receive it, no others
    }

An example standing for a foreign publisher says `"publisher": "external"` and gives the raw broker message:
`message_attributes` in the SNS Publish API form (Pub/Sub filters see each attribute's StringValue) and `body`, the
message body (SNS MessageBody policies) and, for Event Grid and EventBridge, the event itself. A kit example on Event
Grid becomes the CloudEvents JSON the runtime's Event Grid publisher sends; EventBridge examples are external (the
kit has no EventBridge publisher, so no encoder). Kafka has no broker-side filters: every
consumer group of a channel receives all of it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from edakit.brokers import AttributeContract, AttributeContractError, contract, profile
from edakit.redact import shorten  # names from an example file are quoted by their start
from edakit.routing.errors import InvalidFilterError
from edakit.spec.errors import KeyPath, Problem, SpecError, format_path
from edakit.spec.limits import MAX_EXAMPLE_EVENT_BYTES
from edakit.spec.model import Filter, Spec, Subscriber
from edakit.runtime.message import Message, MessageError, check_headers
from edakit.spec.source import Document, read_document

KIT_KEYS = ("event", "description", "publisher", "key", "subject", "headers", "payload", "expect")
EXTERNAL_KEYS = ("event", "description", "publisher", "message_attributes", "body", "expect")
EXAMPLE_KEYS = tuple(dict.fromkeys((*KIT_KEYS, *EXTERNAL_KEYS)))
PUBLISHERS = ("kit", "external")
EXAMPLE_TIME = datetime(2026, 1, 1, tzinfo=UTC)  # the derived message's time: examples are reproducible


@dataclass(frozen=True)
class ExampleEvent:
    file: str
    event: str
    message_attributes: Mapping[str, Mapping[str, Any]]
    body: Any
    expect: tuple[str, ...] | None
    positions: Mapping[KeyPath, tuple[int, int]]
    publisher: str = "external"  # kit: what the kit's publisher sends (key, subject, headers, payload)
    key: str | None = None
    subject: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    payload: Any = None

    @property
    def external(self) -> bool:
        return self.publisher == "external"

    def kit_message(self, source: str) -> Message:
        """The Message the kit's publisher would send for this example."""
        payload = self.payload if isinstance(self.payload, str) else json.dumps(self.payload, separators=(",", ":"))
        return Message(id=f"example-{Path(self.file).stem}", type=self.event, source=source,
                       payload=payload.encode(), time=EXAMPLE_TIME, key=self.key, subject=self.subject,
                       headers=dict(self.headers))

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
        publisher=data.get("publisher", "kit"),
        key=data.get("key"),
        subject=data.get("subject"),
        headers=data.get("headers", {}),
        payload=data.get("payload", {}),
    )


def _shape_problems(doc: Document) -> list[Problem]:
    data = doc.data
    if not isinstance(data, dict):
        return [doc.problem((), "expected an object with `event`, `payload` and `expect` (or `publisher: external` "
                                "with `message_attributes` and `body`)")]
    publisher = data.get("publisher", "kit")
    if publisher not in PUBLISHERS:
        return [doc.problem(("publisher",), "expected `kit` (the default: the kit's publisher sends it) or "
                                            "`external` (a foreign publisher; give message_attributes and body)")]
    allowed = KIT_KEYS if publisher == "kit" else EXTERNAL_KEYS
    problems = [doc.problem((key,), f"unknown key for publisher {publisher}; expected one of {', '.join(allowed)}"
                            + (" (raw broker attributes: say `publisher: external`)" if key in EXTERNAL_KEYS
                               else ""))
                for key in data if key not in allowed]
    for key in ("key", "subject"):
        if key in data and not isinstance(data[key], str):
            problems.append(doc.problem((key,), f"expected `{key}`: a string (the Message's {key})"))
    headers = data.get("headers", {})
    if not (isinstance(headers, dict) and all(isinstance(v, str) for v in headers.values())):
        problems.append(doc.problem(("headers",), "expected {name: value}: the Message's CloudEvents extensions"))
    else:
        try:
            check_headers(headers)
        except MessageError as exc:
            problems.append(doc.problem(("headers",), str(exc)))
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


class PublishRefused(ValueError):
    """The kit's publisher would refuse the example (contract or budget): it reaches nobody."""


def broker_message(broker: str, example: ExampleEvent, contract: AttributeContract | None,
                   source: str = "urn:edakit:example") -> tuple[Any, dict[str, dict[str, str]]]:
    """The body (or event) and message attributes (SNS Publish API form) the broker receives for `example`: as
    written for an external publisher, else encoded by the runtime's own encoder (the broker profile's `encode`)
    with the channel's contract."""
    encode = profile(broker).encode
    if example.external or encode is None:
        return example.body, {n: dict(a) for n, a in example.message_attributes.items()}
    try:
        return encode(example.kit_message(source), contract)
    except (AttributeContractError, MessageError) as exc:
        raise PublishRefused(f"the kit's publisher refuses it: {exc}") from None


def filter_reasons(broker: str, subscription_filter: Filter, example: ExampleEvent,
                   contract: AttributeContract | None = None) -> list[str]:
    """Why the broker would not deliver `example` through this filter; empty when it would. `contract`: the
    channel's publish contract (edakit.brokers.contract), which decides what the kit's publisher sends."""
    language = profile(broker).filters
    if language is None:
        raise InvalidFilterError(f"{broker} has no broker-side filters")
    try:
        body, attributes = broker_message(broker, example, contract)
    except PublishRefused as exc:
        return [str(exc)]
    return language.explain(subscription_filter, body, attributes)


def route(spec: Spec, example: ExampleEvent) -> list[Delivery]:
    """One Delivery per subscriber of the spec, in spec order."""
    carrying = {name for name, channel in spec.channels.items() if example.event in channel.events}
    return [Delivery(sub.name, tuple(_reasons(spec, sub, carrying, example))) for sub in spec.subscribers.values()]


def _reasons(spec: Spec, sub: Subscriber, carrying: set[str], example: ExampleEvent) -> list[str]:
    if sub.channel not in carrying:
        return [f"reads channel '{sub.channel}', which does not carry {shorten(example.event)}"]
    channel = spec.channels[sub.channel]
    found = contract(spec, sub.channel)
    if not example.external and profile(channel.broker).encode is not None:
        try:  # refused by the publisher: nobody receives it, filter or not
            broker_message(channel.broker, example, found)
        except PublishRefused as exc:
            return [str(exc)]
    if sub.filter is None:
        return []
    return filter_reasons(channel.broker, sub.filter, example, found)


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
    unencoded = {spec.channels[sub.channel].broker for sub in spec.subscribers.values()
                 if sub.filter is not None and sub.channel in spec.channels
                 and example.event in spec.channels[sub.channel].events
                 and profile(spec.channels[sub.channel].broker).encode is None}
    if not example.external and unencoded:
        return [example.problem((), f"routes has no kit encoder for {', '.join(sorted(unencoded))}: give the event "
                                    "as it arrives, with `publisher: external` and `body`")]
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
