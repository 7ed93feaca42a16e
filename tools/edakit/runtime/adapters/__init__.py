"""Broker adapters sharing one interface (see base.py); each declares its `features`."""

from edakit.runtime.adapters.base import (
    DLQ_REASON_KEY,
    FEATURES,
    Broker,
    BrokerError,
    DeadLetterReason,
    Delivery,
    Publisher,
    PublishError,
    Subscriber,
)

__all__ = ["DLQ_REASON_KEY", "FEATURES", "Broker", "BrokerError", "DeadLetterReason", "Delivery", "PublishError",
           "Publisher", "Subscriber"]
