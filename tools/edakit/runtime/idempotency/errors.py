"""Errors of the idempotency stores."""


class InProgressError(RuntimeError):
    """Another run holds the lease on this event: retry later (the retry middleware nacks with backoff).

    Acking instead would lose the event if that other run crashed before completing it.
    """
