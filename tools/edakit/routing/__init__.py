"""Filter evaluators for SNS, EventBridge, Pub/Sub and Event Grid: validate like the service, match like the
service, and explain a non-match (one reason per failed key or condition; an empty list means it matches).

Per broker: `validate_*` raises a subclass of `InvalidFilterError` (a ValueError) with the service's error text,
`*_matches` returns bool, `explain_*` returns the reasons for a non-match.
"""

from edakit.routing.errors import (
    InvalidEventGridFilter,
    InvalidEventPattern,
    InvalidFilterError,
    InvalidPubSubFilter,
    InvalidSnsFilterPolicy,
)
from edakit.routing.eventbridge import event_pattern_matches, explain_event_pattern, validate_event_pattern
from edakit.routing.eventgrid import eventgrid_filter_matches, explain_eventgrid, validate_eventgrid_filter
from edakit.routing.pubsub import (
    explain_pubsub,
    format_pubsub_filter,
    parse_pubsub_filter,
    pubsub_filter_matches,
    validate_pubsub_filter,
)
from edakit.routing.sns import explain_sns, sns_filter_matches, validate_sns_filter_policy

__all__ = [
    "InvalidEventGridFilter",
    "InvalidEventPattern",
    "InvalidFilterError",
    "InvalidPubSubFilter",
    "InvalidSnsFilterPolicy",
    "event_pattern_matches",
    "eventgrid_filter_matches",
    "explain_event_pattern",
    "explain_eventgrid",
    "explain_pubsub",
    "explain_sns",
    "format_pubsub_filter",
    "parse_pubsub_filter",
    "pubsub_filter_matches",
    "sns_filter_matches",
    "validate_event_pattern",
    "validate_eventgrid_filter",
    "validate_pubsub_filter",
    "validate_sns_filter_policy",
]
