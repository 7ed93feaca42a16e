"""Cross-checks on the typed model: rules that span several keys (references are checked in references.py)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from edakit.spec.build import resource_name
from edakit.spec.errors import Problem
from edakit.spec.model import Spec, Subscriber
from edakit.spec.source import Document, written

if TYPE_CHECKING:
    from edakit.brokers.profile import BrokerProfile


def cross_check(spec: Spec, doc: Document) -> list[Problem]:
    problems: list[Problem] = []
    for check in CHECKS:
        problems.extend(check(spec, doc))
    return problems


def _profiles() -> dict[str, BrokerProfile]:
    """The broker registry, imported when first used: the profiles import the evaluators, which import this
    package."""
    from edakit.brokers import PROFILES

    return PROFILES


def broker_blocks_match(spec: Spec, doc: Document) -> Iterator[Problem]:
    """A broker block on a channel or subscriber of another broker would be silently ignored."""
    profiles = _profiles()
    for channel in spec.channels.values():
        for broker in profiles.values():
            if ("channels", channel.name, broker.block) in doc.positions and channel.broker != broker.name:
                yield doc.problem(
                    ("channels", channel.name, broker.block),
                    f"`{broker.block}` settings apply to {broker.name} channels; this channel uses {channel.broker}",
                )
    for sub in spec.subscribers.values():
        channel = spec.channels.get(sub.channel)
        if channel is None:
            continue
        for broker in profiles.values():
            if ("subscribers", sub.name, broker.block) in doc.positions and channel.broker != broker.name:
                yield doc.problem(
                    ("subscribers", sub.name, broker.block),
                    f"`{broker.block}` settings apply to {broker.name} subscribers; channel '{channel.name}' uses "
                    f"{channel.broker}",
                )
        yield from _subscriber_rules(sub, profiles[channel.broker], doc)


def _subscriber_rules(sub: Subscriber, broker: BrokerProfile, doc: Document) -> Iterator[Problem]:
    here = ("subscribers", sub.name)
    language = broker.filters
    if sub.filter is not None and language is None:
        yield doc.problem((*here, "filter"), broker.no_filter_reason)
    elif sub.filter is not None and language is not None:
        if not isinstance(sub.filter.policy, language.form):
            yield doc.problem((*here, "filter", "policy"), language.form_hint)
        elif language.max_bytes is not None and len(str(sub.filter.policy).encode()) > language.max_bytes:
            yield doc.problem((*here, "filter", "policy"),
                              f"a {language.name} has at most {language.max_bytes} bytes")
    if (*here, "filter", "scope") in doc.positions and language is not None and not language.scoped:
        yield doc.problem((*here, "filter", "scope"), "`scope` applies to SNS filter policies only; remove it")
    rules = broker.delivery
    if not sub.dlq.enabled and rules.dlq_required is not None:
        yield doc.problem((*here, "dlq", "enabled"), rules.dlq_required)
    if rules.max_receive_count is not None and sub.dlq.enabled:
        low, high = rules.max_receive_count
        if not low <= sub.dlq.max_receive_count <= high:
            yield doc.problem(
                written(doc, *here, "dlq", "max_receive_count"),
                f"dlq.max_receive_count {sub.dlq.max_receive_count} is outside {low}-{high}, "
                f"the delivery attempts {broker.name} allows before dead-lettering",
            )
    if (*here, "dlq", "retention_hours") in doc.positions and not rules.dlq_retention_per_subscriber:
        yield doc.problem(
            (*here, "dlq", "retention_hours"),
            f"{broker.name} dead-letter retention is not set per subscriber; remove it",
        )
    if rules.target_required is not None and getattr(sub, broker.block, None) is None:
        yield doc.problem(here, rules.target_required)
    if rules.filter_required is not None and sub.filter is None:
        yield doc.problem(here, rules.filter_required)


def fifo_rules(spec: Spec, doc: Document) -> Iterator[Problem]:
    """FIFO topics feed only FIFO queues: the fan-out module makes every queue of a FIFO topic FIFO, so the spec
    says FIFO once, on the channel, where only a broker with FIFO topics understands it."""
    profiles = _profiles()
    fifo = [p.name for p in profiles.values() if p.capabilities.fifo_topics]
    for channel in spec.channels.values():
        if channel.fifo and not profiles[channel.broker].capabilities.fifo_topics:
            yield doc.problem(
                ("channels", channel.name, "fifo"),
                f"fifo applies to {', '.join(fifo)} channels (SNS FIFO topic and FIFO queues); {channel.broker} "
                "orders messages by key/partition instead",
            )
        if channel.content_based_deduplication and not channel.fifo:
            yield doc.problem(
                ("channels", channel.name, "sqs_sns", "content_based_deduplication"),
                "content-based deduplication needs a FIFO topic: set `fifo: true` or remove it",
            )


def dlq_outlives_source(spec: Spec, doc: Document) -> Iterator[Problem]:
    """A DLQ that expires first loses exactly the messages someone needs to inspect."""
    for sub in spec.subscribers.values():
        channel = spec.channels.get(sub.channel)
        if not sub.dlq.enabled or sub.dlq.retention_hours is None or channel is None:
            continue
        if sub.queue is not None:
            source, what = sub.queue.message_retention_hours, "its queue's message_retention_hours"
        elif channel.kafka is not None:
            source, what = channel.kafka.retention_hours, f"topic '{channel.resource_name}' retention_hours"
        else:
            continue
        if sub.dlq.retention_hours < source:
            yield doc.problem(
                written(doc, "subscribers", sub.name, "dlq", "retention_hours"),
                f"the DLQ keeps messages {sub.dlq.retention_hours} h, less than {what} ({source} h); "
                f"set dlq.retention_hours to at least {source}",
            )


def retry_settings(spec: Spec, doc: Document) -> Iterator[Problem]:
    for sub in spec.subscribers.values():
        if sub.retry.min_backoff_seconds > sub.retry.max_backoff_seconds:
            yield doc.problem(
                written(doc, "subscribers", sub.name, "retry", "min_backoff_seconds"),
                f"min_backoff_seconds ({sub.retry.min_backoff_seconds}) exceeds max_backoff_seconds "
                f"({sub.retry.max_backoff_seconds})",
            )


def renderable(spec: Spec, doc: Document) -> Iterator[Problem]:
    """A broker module that takes one topic (or bus) renders one tfvars file per spec: split larger systems into
    several specs. A channel nobody subscribes to is refused where the broker drops its messages."""
    for broker in _profiles().values():
        channels = [c for c in spec.channels.values() if c.broker == broker.name]
        for extra in channels[1:] if broker.capabilities.one_channel_per_spec else ():
            yield doc.problem(
                ("channels", extra.name),
                f"a spec may have one {broker.name} channel (it renders {broker.module}.auto.tfvars.json); "
                f"'{channels[0].name}' is already one: move this channel to its own spec file",
            )
        for channel in channels if broker.channel_needs_subscriber else ():
            if not spec.subscribers_of(channel.name):
                yield doc.problem(("channels", channel.name),
                                  f"an {broker.name} channel needs at least one subscriber: "
                                  f"{broker.channel_needs_subscriber}")


def broker_checks(spec: Spec, doc: Document) -> Iterator[Problem]:
    """Each profile's own checks (names, limits, destinations: edakit.brokers.<broker>)."""
    for broker in _profiles().values():
        for check in broker.checks:
            yield from check(spec, doc)


def aws_region_agrees(spec: Spec, doc: Document) -> Iterator[Problem]:
    """AWS pattern roots have one provider, so every AWS block of a spec names the same region."""
    regions = [
        (("sqs_sns", "region"), spec.sqs_sns.region if spec.sqs_sns else None),
        (("eventbridge", "region"), spec.eventbridge.region if spec.eventbridge else None),
        (("saga", "region"), spec.saga.region if spec.saga else None),
    ]
    named = [(path, region) for path, region in regions if region is not None]
    for path, region in named[1:]:
        if region != named[0][1]:
            first = ".".join(named[0][0])
            yield doc.problem(path, f"region {region} differs from {first} {named[0][1]}: use one AWS region")


def claim_check_store(spec: Spec, doc: Document) -> Iterator[Problem]:
    """The store sits in the same cloud as the broker and takes its location from that broker's block; the
    channels that offload (`claim_check.channels`) are channels of the spec."""
    store = spec.claim_check
    if store is None:
        return
    if store.store == "s3" and spec.sqs_sns is None and spec.eventbridge is None:
        yield doc.problem(("claim_check", "store"), "an s3 store takes its region from `sqs_sns` or `eventbridge`")
    if store.store == "azure-blob":
        if spec.event_grid is None:
            yield doc.problem(
                ("claim_check", "store"), "an azure-blob store takes its resource group and location from `event_grid`"
            )
        if ("claim_check", "name") not in doc.positions or not re.fullmatch("[a-z0-9]{3,24}", store.name):
            yield doc.problem(
                written(doc, "claim_check", "name"),
                "an azure-blob store needs `name`: a storage account name of 3-24 lowercase letters and digits",
            )
    if store.store == "gcs" and (spec.pubsub is None or spec.pubsub.location is None):
        yield doc.problem(("claim_check", "store"), "a gcs store takes its project and location from `pubsub`")
    for index, channel in enumerate(store.channels or ()):
        if channel not in spec.channels:
            yield doc.problem(("claim_check", "channels", index),
                              f"'{channel}' is not a channel of this spec; channels: {', '.join(spec.channels)}")
    longest = spec.longest_message_retention_hours()
    if longest is not None and store.payload_expiration_days * 24 < longest:
        yield doc.problem(
            written(doc, "claim_check", "payload_expiration_days"),
            f"payloads expire after {store.payload_expiration_days} days but a message can wait {longest} h in a "
            f"queue or DLQ of this spec: set payload_expiration_days to at least {-(-longest // 24)}",
        )


STATE_MACHINE_NAME_MAX = 64


def state_machine_name_fits(spec: Spec, doc: Document) -> Iterator[Problem]:
    """A derived name the cloud would reject, reported at the spec's names rather than at `terraform plan`."""
    if spec.saga is not None:
        machine = resource_name(spec.name, spec.environment, spec.saga.definition_path.stem)
        if len(machine) > STATE_MACHINE_NAME_MAX:
            yield doc.problem(
                ("saga", "definition"),
                f"state machine name '{machine}' is {len(machine)} characters; its IAM role allows "
                f"{STATE_MACHINE_NAME_MAX}: shorten the spec or saga file name",
            )


def attribute_contract(spec: Spec, doc: Document) -> Iterator[Problem]:
    """Filters read only attributes their channel carries (edakit.brokers.checks; imported here, as the broker
    profiles import the routing evaluators, which import the spec package)."""
    from edakit.brokers.checks import attribute_contract as check

    yield from check(spec, doc)


CHECKS: tuple[Callable[[Spec, Document], Iterator[Problem]], ...] = (
    broker_blocks_match,
    fifo_rules,
    dlq_outlives_source,
    retry_settings,
    renderable,
    broker_checks,
    aws_region_agrees,
    claim_check_store,
    state_machine_name_fits,
    attribute_contract,
)
