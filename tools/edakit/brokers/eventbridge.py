"""Amazon EventBridge profile: a channel is a custom event bus, each subscriber a rule with an SQS target.

- Filters: event patterns on the event itself (no message attributes), evaluated by edakit.routing.eventbridge.
- Module `aws-eventbridge-routing` (one bus per spec); each rule gets a dead-letter queue `<bus>-<rule>-dlq` (SQS
  names: at most 80 characters); a bus name has at most 40 characters here (the module's limit); deliveries are
  1 + maximum_retry_attempts (1-186).
- The kit does not consume from a bus (rules deliver to their targets' queues). `edakit routes` derives a kit
  example's event as the embedded broker does (edakit.runtime.adapters.embedded.event_bridge_event: the PutEvents
  entry Source = source, DetailType = type, Detail = the JSON payload).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from edakit.brokers.profile import BrokerProfile, Capabilities, DeliveryRules, FilterLanguage, SizeLimit
from edakit.brokers.sqs_sns import SQS_QUEUE_NAME_MAX

if TYPE_CHECKING:
    from edakit.brokers.attributes import AttributeContract
    from edakit.runtime.message import Message
    from edakit.spec.errors import Problem
    from edakit.spec.model import Channel, Filter, Spec
    from edakit.spec.source import Document

BROKER = "eventbridge"
BUS_NAME_MAX = 40


def dead_letter_queue_name(bus: str, rule: str) -> str:
    return f"{bus}-{rule}-dlq"


def event_of(body: Any) -> dict[str, Any]:
    """The event a filter sees: the body as given (an object), or the JSON text an encoder produced."""
    if isinstance(body, str):
        try:
            body = json.loads(body)
        except ValueError:
            return {}
    return body if isinstance(body, dict) else {}


def _explain(subscription_filter: Filter, body: Any, attributes: Mapping[str, Mapping[str, str]]) -> list[str]:
    from edakit.routing.eventbridge import explain_event_pattern

    return explain_event_pattern(dict(subscription_filter.policy), event_of(body))  # type: ignore[arg-type]


def _validate(subscription_filter: Filter) -> None:
    from edakit.routing.eventbridge import validate_event_pattern

    validate_event_pattern(subscription_filter.policy)  # type: ignore[arg-type]


def _encode(message: Message, contract: AttributeContract | None) -> tuple[str, dict[str, dict[str, str]]]:
    """The event a rule's pattern sees for the message put on the bus (the embedded broker's PutEvents entry:
    Source = message.source, DetailType = message.type, Detail = the JSON payload)."""
    from edakit.runtime.adapters.embedded import event_bridge_event

    return json.dumps(event_bridge_event(message)), {}


def _render(spec: Spec, channels: list[Channel]) -> dict[str, Any] | None:
    from edakit.render import eventbridge_routing

    return eventbridge_routing.tfvars(spec, channels)


def _provider_settings(spec: Spec, channels: list[Channel]) -> dict[str, Any] | None:
    from edakit.render import eventbridge_routing

    return eventbridge_routing.provider_settings(spec, channels)


def names_and_targets(spec: Spec, doc: Document) -> Iterator[Problem]:
    """Bus and dead-letter queue names AWS accepts; a FIFO queue target needs its message group."""
    for channel in spec.channels.values():
        if channel.broker != BROKER:
            continue
        name = channel.resource_name
        if len(name) > BUS_NAME_MAX:
            yield doc.problem(("channels", channel.name),
                              f"event bus name '{name}' is {len(name)} characters; EventBridge allows "
                              f"{BUS_NAME_MAX}: shorten the spec or channel name")
        for sub in spec.subscribers_of(channel.name):
            dlq = dead_letter_queue_name(name, sub.name)
            if len(dlq) > SQS_QUEUE_NAME_MAX:
                yield doc.problem(("subscribers", sub.name),
                                  f"the rule's dead-letter queue '{dlq}' is {len(dlq)} characters; SQS allows "
                                  f"{SQS_QUEUE_NAME_MAX}: shorten the spec, channel or subscriber name")
    for sub in spec.subscribers.values():
        target = sub.eventbridge
        if target is not None and target.queue_arn.endswith(".fifo") and target.message_group_id is None:
            yield doc.problem(("subscribers", sub.name, "eventbridge"), "a FIFO queue target needs `message_group_id`")


PROFILE = BrokerProfile(
    name=BROKER,
    block="eventbridge",
    title="EventBridge",
    module="aws-eventbridge-routing",
    render=_render,
    provider_settings=_provider_settings,
    capabilities=Capabilities(ordering="none", native_dlq=True, leases=False, server_side_filtering=True,
                              replay=True, fifo_topics=False, one_channel_per_spec=True),
    delivery=DeliveryRules(
        max_receive_count=(1, 186), dlq_retention_per_subscriber=False,
        dlq_required="eventbridge rules always get a DLQ: without one, events that exhaust the retries are lost",
        target_required="an eventbridge subscriber (a rule) needs `eventbridge.queue_arn`, its SQS target",
        filter_required="an eventbridge subscriber (a rule) needs `filter.policy`, its event pattern"),
    filters=FilterLanguage(name="EventBridge event pattern", form=dict,
                           form_hint="an EventBridge event pattern is a mapping such as {detail-type: [OrderPlaced]}",
                           explain=_explain, validate=_validate),
    encode=_encode,
    checks=(names_and_targets,),
    dlq_name=dead_letter_queue_name,
    module_defaults={"archive.retention_days": 7},
    # 1 MB per event since January 2026 (256 KB before).
    size_limit=SizeLimit(1_000_000, base64=True, default_threshold=704 * 1024),
)
