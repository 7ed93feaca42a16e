"""Errors of the idempotency stores."""


class InProgressError(RuntimeError):
    """Another run holds the lease on this event: retry later (the retry middleware nacks with backoff).

    Acking instead would lose the event if that other run crashed before completing it.
    """


class LeaseLost(RuntimeError):
    """This run's lease lapsed and another run took the event over (seen when renewing or completing).

    The handler's effect may have run twice (lease stores promise at-least-once effects); this run's completion is
    not recorded, so the other run's record stands. Raised from the idempotency middleware, so the retry middleware
    nacks the delivery: its redelivery is skipped once the other run has finished, or retried while it still runs.
    """


def lease_lost(consumer: str, key: str, when: str) -> LeaseLost:
    return LeaseLost(f"event key {key!r} of consumer {consumer!r}: the lease lapsed and another run took the event "
                     f"over (seen when {when}); this run's completion is not recorded and its effect may have run "
                     "twice")


def checked_lease(lease_seconds: int) -> int:
    """Stores count leases in whole seconds (Redis EX, DynamoDB's epoch-second TTL attribute)."""
    if isinstance(lease_seconds, bool) or not isinstance(lease_seconds, int) or lease_seconds < 1:
        raise ValueError(f"lease_seconds: expected a whole number of seconds >= 1, got {lease_seconds!r}")
    return lease_seconds
