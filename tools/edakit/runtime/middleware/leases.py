"""How far ahead a delivery's leases are kept while it is handled, and the heartbeat that keeps them: one setting.

The Router sets `current_leases` for each batch: `seconds` is its `lease_seconds` and, on brokers with
`keep_alive` (SQS, Pub/Sub), `riders` is the rider list of the heartbeat that extends the batch's visibility. The
idempotency middleware takes its store lease for `seconds` and renews it as a rider of that heartbeat; without one
(the embedded broker, Kafka, a handler called without a Router) it runs a heartbeat of its own at the same rate.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from edakit.runtime.adapters.base import heartbeat

DEFAULT_LEASE_SECONDS = 30  # the Router's default lease_seconds


@dataclass(frozen=True)
class Leases:
    seconds: int  # each renewal pushes the lease this far ahead; renewals come every third of it
    riders: list[Callable[[], None]] | None = None  # the running heartbeat's riders, if there is one

    @contextmanager
    def kept(self, renew: Callable[[], None]) -> Iterator[None]:
        """Call `renew` every `seconds / 3` until the block exits (not on entry: the lease was just taken)."""
        if self.riders is not None:
            self.riders.append(renew)
            try:
                yield
            finally:
                self.riders.remove(renew)
            return
        entered = False

        def beat() -> None:
            nonlocal entered
            if entered:
                renew()
            entered = True

        with heartbeat(beat, self.seconds / 3, "idempotency-lease"):
            yield


current_leases: ContextVar[Leases | None] = ContextVar("edakit_current_leases", default=None)


def leases() -> Leases:
    """The leases of the batch being handled; outside a Router, `DEFAULT_LEASE_SECONDS` on a heartbeat of its own."""
    return current_leases.get() or Leases(DEFAULT_LEASE_SECONDS)
