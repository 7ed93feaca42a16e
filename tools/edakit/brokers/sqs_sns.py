"""Amazon SNS/SQS profile: attribute mapping and attribute budget.

- CloudEvents attributes travel as SNS message attributes `ce_<name>` (SNS/SQS names allow `_`; no official
  binding exists), plus `content-type`; declared native attributes under their own names (`event_type`).
- Budget, per subscription: an SQS subscription with raw message delivery gets at most 10 message attributes, and SNS
  discards (as a client-side error) a message with more for it; a subscription without raw delivery receives the
  attributes inside the JSON envelope, which has no count limit (only SNS's 256 KiB message size). A channel's
  budget is the smallest of its subscriptions'. SNS docs, "Amazon SNS message attributes".
- Filters read attributes only with `filter_policy_scope: MessageAttributes` (the policy's keys, `$or` included).
  A native attribute taken from a numeric payload field travels with DataType Number, so numeric conditions on it
  match (SNS compares numbers only on Number attributes).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from edakit.spec.model import Filter, Spec

BROKER = "sqs-sns"
PREFIX = "ce_"
RAW_SQS_MAX_ATTRIBUTES = 10  # SQS message attributes per message; SNS raw delivery to SQS passes them through
UNKNOWN_SUBSCRIPTIONS_BUDGET = RAW_SQS_MAX_ATTRIBUTES  # a publisher that does not know the subscriptions
WHY = "an SQS subscription with raw message delivery accepts (SNS discards such a message for it)"


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
