"""Google Cloud Pub/Sub profile: attribute mapping and attribute budget.

- CloudEvents attributes travel as `ce-<name>` message attributes (Pub/Sub protocol binding) plus `content-type`;
  declared native attributes under their own names.
- Budget: at most 100 attributes per message, names at most 256 bytes, values at most 1024 bytes; names starting
  with `goog` are reserved (Pub/Sub quotas and limits). Every subscription sees the same attributes.
- Filters read attributes only (`attributes.<name>`, `attributes:<name>`, `hasPrefix(attributes.<name>, ...)`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from edakit.routing.pubsub import And, Equals, Expr, Has, HasPrefix, Not, Or, parse_pubsub_filter

if TYPE_CHECKING:
    from edakit.spec.model import Filter, Spec

BROKER = "pubsub"
PREFIX = "ce-"
MAX_ATTRIBUTES = 100
MAX_ATTRIBUTE_NAME_BYTES = 256
MAX_ATTRIBUTE_VALUE_BYTES = 1024
RESERVED_PREFIX = "goog"
WHY = "attributes Pub/Sub accepts per message"


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
