"""Broker profiles: one module per broker (kafka, sqs_sns, eventbridge, pubsub, eventgrid), one registry.

Each module defines `PROFILE` (edakit.brokers.profile.BrokerProfile): its spec block and limits, its Terraform module
and renderer, its filter language and evaluator, the runtime's encoder, its adapter factory and URL scheme, its DLQ
naming, its attribute mapping and budget, and its capabilities. Spec checks, lint, render, routes, runtime settings,
`edakit dlq` and `edakit outbox` loop over `PROFILES` instead of matching on broker names.

`contract(spec, channel)` is a channel's publish contract (edakit.brokers.attributes.AttributeContract): the names
its messages carry on the broker and how many at most. Event Grid and EventBridge filter on the event itself, not
on attributes: they have no attribute mapping.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from edakit.brokers import eventbridge, eventgrid, kafka, pubsub, sqs_sns
from edakit.brokers.attributes import AttributeContract, AttributeContractError, NativeAttribute
from edakit.brokers.profile import BrokerProfile, BrokerUrlError

if TYPE_CHECKING:
    from edakit.spec.model import Channel, Filter, Spec

__all__ = ["PROFILES", "AttributeContract", "AttributeContractError", "BrokerProfile", "BrokerUrlError",
           "BudgetProblem", "NativeAttribute", "budget_problem", "channels_on", "consumed", "contract",
           "filter_attributes", "offloads", "profile", "profile_of"]

# In the spec's `broker` enum order (configs/edakit-spec.schema.json; tests/brokers check they agree).
PROFILES: dict[str, BrokerProfile] = {
    module.PROFILE.name: module.PROFILE for module in (kafka, sqs_sns, eventgrid, pubsub, eventbridge)
}


def profile(name: str) -> BrokerProfile:
    """The profile of a broker as the spec spells it (the schema has already refused other names)."""
    try:
        return PROFILES[name]
    except KeyError:
        raise KeyError(f"no broker profile {name!r}; profiles: {', '.join(PROFILES)}") from None


def profile_of(spec: Spec, channel_name: str) -> BrokerProfile:
    return profile(spec.channels[channel_name].broker)


def channels_on(spec: Spec, broker: BrokerProfile) -> list[Channel]:
    """The spec's channels on `broker`, in spec order."""
    return [c for c in spec.channels.values() if c.broker == broker.name]


def consumed() -> list[BrokerProfile]:
    """The brokers the runtime consumes through a Broker adapter."""
    return [p for p in PROFILES.values() if p.consumed]


def contract(spec: Spec, channel_name: str) -> AttributeContract | None:
    """The channel's publish contract; None for a broker without attribute mapping (Event Grid, EventBridge)."""
    channel = spec.channels[channel_name]
    mapping = profile(channel.broker).attributes
    if mapping is None:
        return None
    return AttributeContract(topic=channel.resource_name, prefix=mapping.prefix,
                             headers=frozenset(channel.attribute_headers), budget=mapping.budget(spec, channel_name),
                             native=tuple(NativeAttribute(n, s) for n, s in channel.native_attributes.items()))


def filter_attributes(broker: str, subscription_filter: Filter) -> set[str]:
    """The message attribute names a subscriber's filter reads on its broker (empty: it reads the body/event)."""
    language = profile(broker).filters
    return set() if language is None else language.attributes(subscription_filter)


@dataclass(frozen=True)
class BudgetProblem:
    channel: str
    most: int
    budget: int
    why: str


def offloads(spec: Spec, channel_name: str) -> bool:
    """Whether the channel's messages may be claim-checked (`claim_check.channels`, default every channel)."""
    block = spec.claim_check
    return block is not None and (block.channels is None or channel_name in block.channels)


def budget_problem(spec: Spec, channel_name: str) -> BudgetProblem | None:
    """Set when a message on the channel, with every declared attribute set, would exceed the broker's budget; on
    a channel that offloads (claim-check), the offloaded message's size attribute counts too."""
    found = contract(spec, channel_name)
    if found is None or found.budget is None:
        return None
    most = found.most_attributes() + (1 if offloads(spec, channel_name) else 0)
    if most <= found.budget:
        return None
    mapping = profile_of(spec, channel_name).attributes
    return BudgetProblem(channel_name, most, found.budget, mapping.why if mapping else "")
