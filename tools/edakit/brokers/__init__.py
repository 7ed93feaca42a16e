"""Broker profiles, seed: per broker (one module each) its ATTRIBUTE MAPPING and ATTRIBUTE BUDGET.

`contract(spec, channel)` is a channel's publish contract (edakit.brokers.attributes.AttributeContract): the names
its messages carry on the broker and how many at most. Spec checks (a filter on an attribute the channel never
carries), lint (EDA030, a channel that could exceed its budget), the runtime's publishers (edakit.runtime.settings
publisher_settings) and `edakit routes` all draw from here. The rest of a full profile (spec block and limits,
Terraform module and renderer, filter evaluator, adapter factory, DLQ naming and replay, capabilities) is not here yet.
Event Grid and EventBridge filter on the event itself, not on attributes: they have no attribute profile.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType
from typing import TYPE_CHECKING

from edakit.brokers import kafka, pubsub, sqs_sns
from edakit.brokers.attributes import AttributeContract, AttributeContractError, NativeAttribute

if TYPE_CHECKING:
    from edakit.spec.model import Filter, Spec

__all__ = ["PROFILES", "AttributeContract", "AttributeContractError", "NativeAttribute", "BudgetProblem",
           "contract", "filter_attributes"]

PROFILES: dict[str, ModuleType] = {module.BROKER: module for module in (sqs_sns, pubsub, kafka)}


def contract(spec: Spec, channel_name: str) -> AttributeContract | None:
    """The channel's publish contract; None for a broker without attribute mapping (Event Grid, EventBridge)."""
    channel = spec.channels[channel_name]
    profile = PROFILES.get(channel.broker)
    if profile is None:
        return None
    return AttributeContract(topic=channel.resource_name, prefix=profile.PREFIX,
                             headers=frozenset(channel.attribute_headers), budget=profile.budget(spec, channel_name),
                             native=tuple(NativeAttribute(n, s) for n, s in channel.native_attributes.items()))


def filter_attributes(broker: str, subscription_filter: Filter) -> set[str]:
    """The message attribute names a subscriber's filter reads on its broker (empty: it reads the body/event)."""
    profile = PROFILES.get(broker)
    return set() if profile is None else profile.filter_attributes(subscription_filter)


@dataclass(frozen=True)
class BudgetProblem:
    channel: str
    most: int
    budget: int
    why: str


def budget_problem(spec: Spec, channel_name: str) -> BudgetProblem | None:
    """Set when a message on the channel, with every declared attribute set, would exceed the broker's budget."""
    found = contract(spec, channel_name)
    if found is None or found.budget is None or found.most_attributes() <= found.budget:
        return None
    return BudgetProblem(channel_name, found.most_attributes(), found.budget, PROFILES[spec.channels[channel_name]
                                                                                        .broker].WHY)
