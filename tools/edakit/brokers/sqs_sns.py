"""Amazon SNS/SQS profile (`broker: sqs-sns`).

- Attributes: CloudEvents attributes travel as SNS message attributes `ce_<name>` (SNS/SQS names allow `_`; no
  official binding exists), plus `content-type`; declared native attributes under their own names (`event_type`).
- Budget, per subscription: an SQS subscription with raw message delivery gets at most 10 message attributes, and SNS
  discards (as a client-side error) a message with more for it; a subscription without raw delivery receives the
  attributes inside the JSON envelope, which has no count limit (only SNS's 256 KiB message size). A channel's
  budget is the smallest of its subscriptions'. SNS docs, "Amazon SNS message attributes".
- Filters read attributes only with `filter_policy_scope: MessageAttributes` (the policy's keys, `$or` included).
  A native attribute taken from a numeric payload field travels with DataType Number, so numeric conditions on it
  match (SNS compares numbers only on Number attributes).
- Module `aws-sns-sqs-fanout` (one topic per spec); per subscriber a queue `<topic>-<group>[.fifo]` with its native
  DLQ `<topic>-<group>-dlq[.fifo]` (SQS names: at most 80 characters).
- URL `sqs:` or `sqs:http(s)://HOST:PORT` (an endpoint); region and credentials from boto3's usual sources.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from edakit.brokers.profile import (
    AttributeMapping, BrokerProfile, BrokerUrlError, Capabilities, DeliveryRules, FilterLanguage, SizeLimit,
)

if TYPE_CHECKING:
    from edakit.brokers.attributes import AttributeContract
    from edakit.runtime.adapters.base import Broker
    from edakit.runtime.message import Message
    from edakit.runtime.settings import BrokerSettings
    from edakit.spec.errors import Problem
    from edakit.spec.model import Channel, Filter, Spec, Subscriber
    from edakit.spec.source import Document

BROKER = "sqs-sns"
PREFIX = "ce_"
RAW_SQS_MAX_ATTRIBUTES = 10  # SQS message attributes per message; SNS raw delivery to SQS passes them through
UNKNOWN_SUBSCRIPTIONS_BUDGET = RAW_SQS_MAX_ATTRIBUTES  # a publisher that does not know the subscriptions
WHY = "an SQS subscription with raw message delivery accepts (SNS discards such a message for it)"
SQS_QUEUE_NAME_MAX = 80


def subscription_budget(raw_message_delivery: bool) -> int | None:
    return RAW_SQS_MAX_ATTRIBUTES if raw_message_delivery else None


def channel_budget(raw_deliveries: Iterable[bool]) -> int | None:
    budgets = [b for b in map(subscription_budget, raw_deliveries) if b is not None]
    return min(budgets, default=None)


def budget(spec: Spec, channel: str) -> int | None:
    return channel_budget(s.queue.raw_message_delivery for s in spec.subscribers_of(channel) if s.queue is not None)


def filter_attributes(subscription_filter: Filter) -> set[str]:
    """The attribute names the filter reads; raises InvalidFilterError for an invalid policy."""
    from edakit.routing.sns import validate_sns_filter_policy

    validate_sns_filter_policy(subscription_filter.policy, scope=subscription_filter.scope)  # type: ignore[arg-type]
    return policy_attributes(subscription_filter.policy, subscription_filter.scope)


def policy_attributes(policy: Mapping[str, Any] | str, scope: str) -> set[str]:
    """The message attribute names a filter policy reads (none for MessageBody policies)."""
    if scope != "MessageAttributes" or not isinstance(policy, Mapping):
        return set()
    names: set[str] = set()
    for key, value in policy.items():
        if key == "$or" and isinstance(value, list):
            for branch in value:
                names |= policy_attributes(branch, scope)
        else:
            names.add(key)
    return names


def _fifo(name: str) -> bool:
    return name.endswith(".fifo")


def queue_name(topic: str, group: str) -> str:
    base = topic.removesuffix(".fifo")
    return f"{base}-{group}.fifo" if _fifo(topic) else f"{base}-{group}"


def dead_letter_queue_name(topic: str, group: str) -> str:
    base = topic.removesuffix(".fifo")
    return f"{base}-{group}-dlq.fifo" if _fifo(topic) else f"{base}-{group}-dlq"


def _validate(subscription_filter: Filter) -> None:
    from edakit.routing.sns import validate_sns_filter_policy

    validate_sns_filter_policy(subscription_filter.policy, scope=subscription_filter.scope)  # type: ignore[arg-type]


def _explain(subscription_filter: Filter, body: Any, attributes: Mapping[str, Mapping[str, str]]) -> list[str]:
    from edakit.routing.sns import explain_sns

    text = body if isinstance(body, str) else json.dumps(body)  # an external example's body may be an object
    return explain_sns(subscription_filter.policy, scope=subscription_filter.scope,  # type: ignore[arg-type]
                       message_attributes=attributes, message=text)


def _encode(message: Message, contract: AttributeContract | None) -> tuple[str, dict[str, dict[str, str]]]:
    from edakit.runtime.adapters.sqs_sns import encode

    return encode(message, contract=contract, topic=contract.topic if contract else "SNS")


def open_url(url: str, rest: str, security: Mapping | None = None) -> Broker:
    """SqsSnsBroker on the URL's endpoint; `security` is a spec's `sqs_sns.security` (a profile, a role to assume),
    else boto3's usual credential sources."""
    from botocore.exceptions import NoRegionError

    from edakit.runtime.adapters.security import aws_session
    from edakit.runtime.adapters.sqs_sns import SqsSnsBroker

    if rest and not rest.startswith(("http://", "https://")):
        raise BrokerUrlError(f"broker {url!r}: expected sqs: or sqs:http(s)://HOST:PORT (an endpoint URL)")
    try:
        return SqsSnsBroker(aws_session(security) if security else None, endpoint_url=rest or None)
    except NoRegionError:
        raise BrokerUrlError(f"broker {url!r}: no AWS region; set AWS_REGION (or AWS_DEFAULT_REGION, or region in "
                             "~/.aws/config)") from None


def connect(settings: BrokerSettings) -> Broker:
    """SqsSnsBroker in the spec's `sqs_sns.region`, with the session `sqs_sns.security` names (a profile, a role to
    assume) or boto3's usual credential sources."""
    from edakit.runtime.adapters.security import aws_session
    from edakit.runtime.adapters.sqs_sns import SqsSnsBroker

    return SqsSnsBroker(aws_session(settings.security, settings.region))


def _render(spec: Spec, channels: list[Channel]) -> dict[str, Any] | None:
    from edakit.render import sns_sqs_fanout

    return sns_sqs_fanout.tfvars(spec, channels)


def _provider_settings(spec: Spec, channels: list[Channel]) -> dict[str, Any] | None:
    from edakit.render import sns_sqs_fanout

    return sns_sqs_fanout.provider_settings(spec, channels)


def queue_rules(spec: Spec, doc: Document) -> Iterator[Problem]:
    """Queue names SQS accepts, and an age alarm that can still fire before the queue deletes the message."""
    from edakit.spec.source import written

    for channel in spec.channels.values():
        if channel.broker != BROKER:
            continue
        for sub in spec.subscribers_of(channel.name):
            name = dead_letter_queue_name(channel.resource_name + (".fifo" if channel.fifo else ""), sub.name)
            if len(name) > SQS_QUEUE_NAME_MAX:
                yield doc.problem(("subscribers", sub.name),
                                  f"queue name '{name}' is {len(name)} characters; SQS allows {SQS_QUEUE_NAME_MAX}: "
                                  "shorten the spec, channel or subscriber name")
    for sub in spec.subscribers.values():
        queue = sub.queue
        if queue is not None and queue.age_of_oldest_message_alarm_seconds >= queue.message_retention_hours * 3600:
            alarm, retention = queue.age_of_oldest_message_alarm_seconds, queue.message_retention_hours * 3600
            yield doc.problem(
                written(doc, "subscribers", sub.name, "sqs_sns", "age_of_oldest_message_alarm_seconds"),
                f"age_of_oldest_message_alarm_seconds ({alarm}) must be below the queue's retention ({retention} s): "
                "older messages are already deleted",
            )


def _group(sub: Subscriber) -> str:
    return sub.name


PROFILE = BrokerProfile(
    name=BROKER,
    block="sqs_sns",
    title="SNS/SQS",
    module="aws-sns-sqs-fanout",
    render=_render,
    provider_settings=_provider_settings,
    capabilities=Capabilities(ordering="message group (FIFO topics)", native_dlq=True, leases=True,
                              server_side_filtering=True, replay=True, fifo_topics=True, one_channel_per_spec=True),
    delivery=DeliveryRules(),
    filters=FilterLanguage(name="SNS filter policy", form=dict,
                           form_hint="an SNS filter policy is a mapping such as {event_type: [OrderPlaced]}, "
                                     "not a string",
                           explain=_explain, validate=_validate, scoped=True, attributes=filter_attributes),
    attributes=AttributeMapping(prefix=PREFIX, budget=budget, why=WHY),
    encode=_encode,
    channel_needs_subscriber="SNS drops messages nobody subscribed to",
    checks=(queue_rules,),
    consumer_group=_group,
    dlq_name=dead_letter_queue_name,
    url_scheme="sqs",
    url_forms="sqs: or sqs:ENDPOINT_URL",
    url_bare=True,
    open_url=open_url,
    connect=connect,
    module_defaults={
        "subscribers.create_dlq": True,
        "subscribers.max_receive_count": 5,
        "subscribers.visibility_timeout_seconds": 30,
        "subscribers.message_retention_seconds": 345600,
        "subscribers.dlq_message_retention_seconds": 1209600,
        "subscribers.raw_message_delivery": False,
        "subscribers.filter_policy_scope": "MessageAttributes",
    },
    # SNS accepts 256 KiB per message, attributes included ("Amazon SNS message quotas"); SQS accepts 1 MiB since
    # August 2025, but the kit publishes through SNS, so SNS's limit bounds every fan-out.
    size_limit=SizeLimit(256 * 1024, base64=True, default_threshold=176 * 1024),
    adapter_module="sqs_sns",
    messaging_system="aws_sqs",
    messaging_send_system="aws.sns",  # OpenTelemetry's spelling of this one
)
