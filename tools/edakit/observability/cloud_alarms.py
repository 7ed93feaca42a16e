"""The spec's per-subscriber alert thresholds as the cloud modules' `alarm_thresholds` input.

The same thresholds drive the Prometheus rules (`alerts.py`) and the modules' CloudWatch alarms, Azure Monitor
alerts and Cloud Monitoring policies, so a subscriber pages at the same figures whichever side watches it.
"""

from __future__ import annotations

import math
from typing import Any

from edakit.spec.model import Subscriber

SECONDS_PER_MINUTE = 60
# The keys each module's alarm_thresholds object declares: a module gets those and no others.
MODULE_KEYS: dict[str, tuple[str, ...]] = {
    "aws-sns-sqs-fanout": ("lag_messages", "dlq_messages", "for_seconds"),
    "aws-eventbridge-routing": ("dlq_messages",),
    "azure-eventgrid": ("dlq_messages",),
    "gcp-pubsub": ("lag_messages", "lag_seconds", "dlq_messages", "for_seconds"),
}


def whole_minutes(seconds: int) -> int:
    """Round up to whole minutes: CloudWatch evaluates 60 s periods, and the modules take minutes only."""
    return math.ceil(seconds / SECONDS_PER_MINUTE) * SECONDS_PER_MINUTE


def alarm_thresholds(module: str, subscriber: Subscriber) -> dict[str, Any]:
    """`alarm_thresholds` of one subscriber for `module`, from its resolved `alerts` (spec-wide, then its own)."""
    alerts = subscriber.alerts
    values: dict[str, Any] = {
        "lag_messages": alerts.lag_messages,
        "lag_seconds": alerts.lag_seconds,
        "dlq_messages": alerts.dlq_messages,
        "for_seconds": whole_minutes(alerts.for_seconds),
    }
    if module.startswith("aws-"):
        values["for_seconds"] = max(SECONDS_PER_MINUTE, values["for_seconds"])  # one period at least
    return {key: values[key] for key in MODULE_KEYS[module]}
