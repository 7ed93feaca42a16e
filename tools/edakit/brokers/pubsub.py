"""Google Cloud Pub/Sub profile.

- Attributes: CloudEvents attributes travel as `ce-<name>` message attributes (Pub/Sub protocol binding) plus
  `content-type`; declared native attributes under their own names.
- Budget: at most 100 attributes per message, names at most 256 bytes, values at most 1024 bytes; names starting
  with `goog` are reserved (Pub/Sub quotas and limits). Every subscription sees the same attributes.
- Filters read attributes only (`attributes.<name>`, `attributes:<name>`, `hasPrefix(attributes.<name>, ...)`), at
  most 256 bytes.
- Module `gcp-pubsub` (one topic per spec); subscription `<topic>-<group>`, dead-letter topic and the subscription
  reading it both `<topic>-<group>-dlq`; 5-100 delivery attempts.
- URL `pubsub:PROJECT` (Application Default Credentials) or `pubsub://HOST:PORT/PROJECT` (an emulator).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from edakit.brokers.profile import (
    AttributeMapping, BrokerProfile, BrokerUrlError, Capabilities, DeliveryRules, FilterLanguage, SizeLimit,
)
from edakit.routing.pubsub import And, Equals, Expr, Has, HasPrefix, Not, Or, parse_pubsub_filter

if TYPE_CHECKING:
    from edakit.brokers.attributes import AttributeContract
    from edakit.runtime.adapters.base import Broker
    from edakit.runtime.message import Message
    from edakit.runtime.settings import BrokerSettings
    from edakit.spec.errors import Problem
    from edakit.spec.model import Channel, Filter, Spec, Subscriber
    from edakit.spec.source import Document

BROKER = "pubsub"
PREFIX = "ce-"
MAX_ATTRIBUTES = 100
MAX_ATTRIBUTE_NAME_BYTES = 256
MAX_ATTRIBUTE_VALUE_BYTES = 1024
RESERVED_PREFIX = "goog"
WHY = "attributes Pub/Sub accepts per message"
FILTER_BYTES_MAX = 256
GCP_LABEL = re.compile(r"[a-z][a-z0-9_-]{0,62}")
GCP_LABEL_VALUE = re.compile(r"[a-z0-9_-]{0,63}")


def budget(spec: Spec, channel: str) -> int:
    return MAX_ATTRIBUTES


def filter_attributes(subscription_filter: Filter) -> set[str]:
    """The attribute names a Pub/Sub filter reads (raises InvalidPubSubFilter for a bad filter)."""
    return _keys(parse_pubsub_filter(str(subscription_filter.policy)))


def _keys(expr: Expr | None) -> set[str]:
    match expr:
        case None:
            return set()
        case Has(key) | Equals(key, _, _) | HasPrefix(key, _):
            return {key}
        case Not(inner):
            return _keys(inner)
        case And(operands) | Or(operands):
            return set().union(*(_keys(e) for e in operands))
    raise TypeError(expr)


def subscription_name(topic: str, group: str) -> str:
    return f"{topic}-{group}"


def dead_letter_topic_name(topic: str, group: str) -> str:
    return f"{topic}-{group}-dlq"


def _validate(subscription_filter: Filter) -> None:
    from edakit.routing.pubsub import validate_pubsub_filter

    validate_pubsub_filter(str(subscription_filter.policy))


def _explain(subscription_filter: Filter, body: Any, attributes: Mapping[str, Mapping[str, str]]) -> list[str]:
    from edakit.routing.pubsub import explain_pubsub

    return explain_pubsub(str(subscription_filter.policy), {n: a["StringValue"] for n, a in attributes.items()})


def _encode(message: Message, contract: AttributeContract | None) -> tuple[str, dict[str, dict[str, str]]]:
    from edakit.runtime.adapters.pubsub import encode

    data, attributes = encode(message, None, contract, contract.topic if contract else "Pub/Sub")
    return data.decode(errors="replace"), {n: {"DataType": "String", "StringValue": v} for n, v in attributes.items()}


def open_url(url: str, rest: str, security: Mapping | None = None) -> Broker:
    """PubSubBroker in the URL's project (an emulator takes no credentials); `security` is a spec's
    `pubsub.security`, else Application Default Credentials."""
    from edakit.runtime.adapters.pubsub import PubSubBroker
    from edakit.runtime.adapters.security import pubsub_credentials

    if rest.startswith("//"):
        host, _, project = rest[2:].partition("/")
        if not host.rpartition(":")[2].isdigit() or not project or "/" in project:
            raise BrokerUrlError(f"broker {url!r}: expected pubsub://HOST:PORT/PROJECT (an emulator)")
        return PubSubBroker(project, emulator_host=host)
    if "/" in rest:
        raise BrokerUrlError(f"broker {url!r}: expected pubsub:PROJECT or pubsub://HOST:PORT/PROJECT")
    return PubSubBroker(rest, credentials=pubsub_credentials(security) if security else None)


def connect(settings: BrokerSettings) -> Broker:
    """PubSubBroker in the spec's `pubsub.project_id`, with the credentials `pubsub.security` names (a service
    account key, impersonation); without one, the client library's Application Default Credentials."""
    from edakit.runtime.adapters.pubsub import PubSubBroker
    from edakit.runtime.adapters.security import pubsub_credentials

    credentials = pubsub_credentials(settings.security) if settings.security else None
    return PubSubBroker(settings.project_id or "", credentials=credentials)


def _render(spec: Spec, channels: list[Channel]) -> dict[str, Any] | None:
    from edakit.render import gcp_pubsub

    return gcp_pubsub.tfvars(spec, channels)


def topic_schema(spec: Spec, doc: Document) -> Iterator[Problem]:
    """A Pub/Sub topic takes one schema: the channel's single event's Avro file."""
    for channel in spec.channels.values():
        if channel.pubsub is None or channel.pubsub.schema_encoding is None:
            continue
        events = [spec.events[e] for e in channel.events if e in spec.events]
        if len(channel.events) != 1 or not all(e.schema.endswith(".avsc") for e in events):
            yield doc.problem(
                ("channels", channel.name, "pubsub", "schema_encoding"),
                "a Pub/Sub topic schema comes from the channel's event Avro file: the channel needs exactly one "
                "event with an .avsc schema",
            )


def labels_and_subscriptions(spec: Spec, doc: Document) -> Iterator[Problem]:
    """Tags become Google labels (a strict format); exactly-once delivery works on pull subscriptions only."""
    on_gcp = spec.pubsub is not None and (
        any(c.broker == BROKER for c in spec.channels.values())
        or (spec.claim_check is not None and spec.claim_check.store == "gcs")
    )
    if on_gcp:
        for key, value in spec.tags.items():
            if not GCP_LABEL.fullmatch(key) or not GCP_LABEL_VALUE.fullmatch(value):
                yield doc.problem(
                    ("tags", key),
                    f"tag '{key}: {value}' cannot be a Google Cloud label: keys start with a lowercase letter, keys "
                    "and values use lowercase letters, digits, _ and - (at most 63)",
                )
    for sub in spec.subscribers.values():
        settings = sub.pubsub
        if settings is not None and settings.push_endpoint is not None and settings.enable_exactly_once_delivery:
            yield doc.problem(
                ("subscribers", sub.name, "pubsub", "enable_exactly_once_delivery"),
                "exactly-once delivery works only on pull subscriptions: remove `push` or this setting",
            )


def _group(sub: Subscriber) -> str:
    return sub.name


PROFILE = BrokerProfile(
    name=BROKER,
    block="pubsub",
    title="Pub/Sub",
    module="gcp-pubsub",
    render=_render,
    capabilities=Capabilities(ordering="ordering key (enable_message_ordering)", native_dlq=True, leases=True,
                              server_side_filtering=True, replay=True, fifo_topics=False, one_channel_per_spec=True),
    delivery=DeliveryRules(max_receive_count=(5, 100), dlq_retention_per_subscriber=False),
    filters=FilterLanguage(name="Pub/Sub filter", form=str,
                           form_hint="a Pub/Sub filter is an expression string such as "
                                     "'attributes.event_type = \"OrderPlaced\"'",
                           explain=_explain, validate=_validate, max_bytes=FILTER_BYTES_MAX,
                           attributes=filter_attributes),
    attributes=AttributeMapping(prefix=PREFIX, budget=budget, why=WHY),
    encode=_encode,
    checks=(topic_schema, labels_and_subscriptions),
    consumer_group=_group,
    dlq_name=dead_letter_topic_name,
    url_scheme="pubsub",
    url_forms="pubsub:PROJECT or pubsub://HOST:PORT/PROJECT (an emulator)",
    open_url=open_url,
    connect=connect,
    module_defaults={
        "subscriptions.dead_letter_policy.enabled": True,
        "subscriptions.dead_letter_policy.max_delivery_attempts": 5,
        "subscriptions.message_retention_duration": "604800s",
    },
    # 10 MB per message, data and attributes ("Pub/Sub quotas and limits"). Data is bytes.
    size_limit=SizeLimit(10_000_000, base64=False, default_threshold=7_500_000),
    adapter_module="pubsub",
    messaging_system="gcp_pubsub",
)
