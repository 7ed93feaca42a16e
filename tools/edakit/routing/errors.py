"""Errors raised for filters a broker would reject."""

from __future__ import annotations


class InvalidFilterError(ValueError):
    """A filter the broker rejects; the message is the broker's own error text where it is known."""


class InvalidSnsFilterPolicy(InvalidFilterError):
    """SNS Subscribe/SetSubscriptionAttributes would fail with InvalidParameter."""


class InvalidEventPattern(InvalidFilterError):
    """EventBridge PutRule/TestEventPattern would fail with InvalidEventPatternException."""


class InvalidPubSubFilter(InvalidFilterError):
    """Pub/Sub CreateSubscription would fail with INVALID_ARGUMENT; `position` is the 0-based offset."""

    def __init__(self, message: str, position: int) -> None:
        super().__init__(f"{message} at position {position}")
        self.reason = message
        self.position = position


class InvalidEventGridFilter(InvalidFilterError):
    """Event Grid would reject the event subscription's `filter`."""
