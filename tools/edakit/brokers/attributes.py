"""The publish contract of a channel: which broker message attributes the kit's publisher sets, and the budget.

A channel's messages carry the CloudEvents context attributes under the broker's prefix (`specversion`, `id`,
`type`, `source`, `time`, and when set `subject` and `partitionkey`), `content-type`, the CloudEvents extensions
(Message.headers) the spec declares in `channels.<c>.attributes.headers`, and the broker-native attributes declared
in `channels.<c>.attributes.native` (names outside the CloudEvents namespace, such as `event_type`, whose value the
publisher takes from the message: its type, subject, key, source, a header or a top-level payload field).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from edakit.runtime.adapters.base import PublishError
from edakit.runtime.message import Message

# The context attributes every binary-mode message carries, and the two it carries when the message sets them.
ALWAYS = ("specversion", "id", "type", "source", "time")
OPTIONAL = ("subject", "partitionkey")
CONTENT_TYPE = "content-type"
NATIVE_SOURCES = ("type", "subject", "key", "source")
# W3C Trace Context headers (edakit.runtime.middleware.tracing): every contract allows them without declaring them.
# `traceparent` is on every message written while a span is current, so it counts against every budget;
# `tracestate` only when a vendor sets one (the kit's spans never do), so it counts only when the spec declares it
# (at publish time a message that carries it counts it like any attribute: over the budget it is refused).
RESERVED_HEADERS = frozenset({"traceparent", "tracestate"})
BUDGETED_RESERVED = frozenset({"traceparent"})
# Request-reply headers (edakit.runtime.request_reply): allowed on every channel without declaring them, counted only
# at publish time on the requests that carry them (over the budget a request is refused like any message).
REQUEST_REPLY_HEADERS = frozenset({"correlationid", "replyto"})
# Claim-check header (edakit.runtime.claimcheck): on an offloaded message, the stored payload's size in bytes; the
# payload is then a pointer to the object. Allowed on every channel without declaring it, counted at publish time on
# the messages that carry it. SNS/SQS carry it as AWS's ExtendedPayloadSize attribute (adapters/sqs_sns.py).
CLAIM_CHECK_SIZE_HEADER = "extendedpayloadsize"
CLAIM_CHECK_HEADERS = frozenset({CLAIM_CHECK_SIZE_HEADER})
# Serde headers (edakit.runtime.serde): the schema version of the payload and, with a schema registry, its id. Allowed
# on every channel without declaring them, counted at publish time on the messages that carry them (serde sets
# `schemaversion` on every message it encodes, `schemaid` only with a registry).
SERDE_HEADERS = frozenset({"schemaversion", "schemaid"})
# Every header the kit itself may set on any channel, declared or not.
KIT_HEADERS = RESERVED_HEADERS | REQUEST_REPLY_HEADERS | CLAIM_CHECK_HEADERS | SERDE_HEADERS
NATIVE_SOURCE = re.compile(r"(type|subject|key|source|header\.[a-z0-9]{1,20}|payload\.[A-Za-z_][A-Za-z0-9_]{0,63})")


class AttributeContractError(PublishError):
    """A publish the channel's contract refuses: an undeclared header, or more attributes than the budget.

    Refused rather than re-encoded: a switch to structured mode would drop the attributes every filter reads."""


@dataclass(frozen=True)
class NativeAttribute:
    name: str  # the broker attribute name, e.g. event_type
    source: str  # type | subject | key | source | header.<name> | payload.<field>

    def value(self, message: Message) -> str | None:
        """The value the publisher sets, None when the message has none (the attribute is then not sent)."""
        kind, _, field = self.source.partition(".")
        if kind == "type":
            return message.type
        if kind == "subject":
            return message.subject
        if kind == "key":
            return message.key
        if kind == "source":
            return message.source
        if kind == "header":
            return message.headers.get(field)
        try:
            payload = json.loads(message.payload)
        except ValueError:
            return None
        return _text(payload.get(field)) if isinstance(payload, dict) else None


def _text(value: Any) -> str | None:
    """A JSON payload value as attribute text: strings as they are, numbers and booleans in JSON form."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool | int | float):
        return json.dumps(value)
    return None


@dataclass(frozen=True)
class AttributeContract:
    """What the kit's publisher sends on one channel (topic), from the spec (edakit.runtime.settings)."""

    topic: str  # the channel's name on the broker
    prefix: str  # the broker's CloudEvents attribute prefix
    headers: frozenset[str]  # declared CloudEvents extensions
    native: tuple[NativeAttribute, ...]
    budget: int | None  # most attributes one message may carry on this channel; None: no count limit

    def names(self) -> frozenset[str]:
        """Every broker attribute name a message on this channel can carry (the reserved trace headers too)."""
        return frozenset({*(self.prefix + n for n in (*ALWAYS, *OPTIONAL)), CONTENT_TYPE,
                          *(self.prefix + h for h in self.headers | KIT_HEADERS),
                          *(a.name for a in self.native)})

    def most_attributes(self) -> int:
        """The count when every optional attribute is set: what the budget must hold (`traceparent` included,
        declared or not)."""
        return len(ALWAYS) + len(OPTIONAL) + 1 + len(self.headers | BUDGETED_RESERVED) + len(self.native)

    def check_headers(self, message: Message) -> None:
        undeclared = sorted(set(message.headers) - self.headers - KIT_HEADERS)
        if undeclared:
            raise AttributeContractError(
                f"{self.topic}: message {message.id} sets header(s) {', '.join(undeclared)}, which the spec does not "
                f"declare for this channel (channels.<channel>.attributes.headers: "
                f"{', '.join(sorted(self.headers)) or 'none'})")

    def numbers(self, message: Message) -> set[str]:
        """Native attributes whose value is a JSON number of the payload (SNS sends them as DataType Number)."""
        fields = {a.name: a.source.removeprefix("payload.") for a in self.native if a.source.startswith("payload.")}
        if not fields:
            return set()
        try:
            payload = json.loads(message.payload)
        except ValueError:
            return set()
        if not isinstance(payload, dict):
            return set()
        return {name for name, field in fields.items()
                if isinstance(payload.get(field), int | float) and not isinstance(payload.get(field), bool)}

    def native_values(self, message: Message) -> dict[str, str]:
        values = {a.name: a.value(message) for a in self.native}
        return {name: value for name, value in values.items() if value is not None}


def check_budget(topic: str, message: Message, attributes: Mapping[str, str], budget: int | None,
                 why: str) -> None:
    if budget is not None and len(attributes) > budget:
        raise AttributeContractError(
            f"{topic}: message {message.id} would carry {len(attributes)} message attributes "
            f"({', '.join(attributes)}), more than the {budget} {why}; publish refused (drop headers, or declare "
            f"fewer native attributes)")
