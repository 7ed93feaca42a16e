"""The consume loop: receive, run the handler chain, settle each delivery exactly once."""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field

from edakit.runtime.adapters.base import BrokerError, DeadLetterReason, Delivery, Subscriber
from edakit.runtime.message import Message
from edakit.runtime.middleware.chain import Handler
from edakit.runtime.middleware.leases import DEFAULT_LEASE_SECONDS, Leases, current_leases

log = logging.getLogger(__name__)


@dataclass
class TrackedDelivery:
    """A delivery that remembers whether a middleware already settled it (acked, nacked or dead-lettered)."""

    delivery: Delivery
    settled: str | None = field(default=None)

    @property
    def message(self) -> Message:
        return self.delivery.message

    @property
    def attempt(self) -> int:
        return self.delivery.attempt

    @property
    def source(self) -> str:
        return self.delivery.source

    @property
    def metadata(self) -> Mapping[str, str]:
        return self.delivery.metadata

    def _settle(self, how: str) -> None:
        if self.settled is not None:
            raise RuntimeError(f"message {self.message.id}: {how} after it was already {self.settled}")
        self.settled = how

    def ack(self) -> None:
        self._settle("acked")
        self.delivery.ack()

    def nack(self, delay_seconds: float = 0) -> None:
        self._settle("nacked")
        self.delivery.nack(delay_seconds)

    def dead_letter(self, reason: DeadLetterReason) -> None:
        self._settle("dead-lettered")
        self.delivery.dead_letter(reason)


def handle(delivery: Delivery, handler: Handler) -> str:
    """Run `handler`; ack if it returned without settling, nack (redeliver) if it raised. Returns the outcome.

    A settle the broker refuses (the lease expired, so the message is already out again) is logged, not raised:
    the redelivery is the duplicate an idempotent consumer absorbs.
    """
    tracked = TrackedDelivery(delivery)
    try:
        try:
            handler(tracked)
        except BrokerError:
            raise
        except Exception:
            log.exception("handler failed for message %s from %s", delivery.message.id, delivery.source)
            if tracked.settled is None:
                tracked.nack()
        else:
            if tracked.settled is None:
                tracked.ack()
    except BrokerError as exc:
        log.warning("could not settle message %s from %s: %s", delivery.message.id, delivery.source, exc)
    return tracked.settled or "unsettled"


class Router:
    """Feeds one subscriber's deliveries, one at a time in receive order, through one handler chain.

    A batch waits while its earlier deliveries are handled. On brokers with leases (a subscriber with `keep_alive`:
    SQS, Pub/Sub) the router keeps the lease of every delivery not yet settled `lease_seconds` ahead until it is
    handled, so slow handlers do not turn the rest of the batch into redeliveries. `lease_seconds=None` leaves
    leases as the queue or subscription sets them.

    `lease_seconds` is also the lease of the idempotency lease stores (`idempotent(store)`): taken for that long and
    renewed on the same heartbeat, just before the broker's (on brokers without `keep_alive`, on one of the
    middleware's own at the same rate; with `lease_seconds=None`, `DEFAULT_LEASE_SECONDS`). Set it to the
    subscriber's processing timeout (`settings.consumer_settings(...).lease_seconds`).
    """

    def __init__(self, subscriber: Subscriber, handler: Handler, *, max_messages: int = 10,
                 receive_timeout: float = 1.0, lease_seconds: int | None = DEFAULT_LEASE_SECONDS) -> None:
        if lease_seconds is not None and lease_seconds < 1:
            raise ValueError(f"lease_seconds must be >= 1 (or None), got {lease_seconds}")
        self.subscriber = subscriber
        self.handler = handler
        self.max_messages = max_messages
        self.receive_timeout = receive_timeout
        self.lease_seconds = lease_seconds

    def run_once(self) -> int:
        """Receive one batch and handle it; returns how many deliveries were handled."""
        return self._handle_batch(self.receive_timeout)

    def run_until_idle(self, idle_timeout: float) -> int:
        """Handle deliveries until one receive waits `idle_timeout` seconds for nothing; returns how many were handled.

        Nacked deliveries come back after their retry delay, so an `idle_timeout` above the retry policy's
        `max_delay` also drains the retries and dead-letters what exhausts them.
        """
        if idle_timeout < 0:
            raise ValueError(f"idle_timeout must be >= 0 seconds, got {idle_timeout}")
        handled = 0
        while batch := self._handle_batch(idle_timeout):
            handled += batch
        return handled

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            self.run_once()

    def _handle_batch(self, timeout: float) -> int:
        deliveries = self.subscriber.receive(self.max_messages, timeout)
        if not deliveries:
            return 0
        keep_alive = getattr(self.subscriber, "keep_alive", None)
        seconds = self.lease_seconds if self.lease_seconds is not None else DEFAULT_LEASE_SECONDS
        if keep_alive is None or self.lease_seconds is None:
            self._handle_all(deliveries, Leases(seconds))  # store leases run a heartbeat of their own
            return len(deliveries)
        pending = list(deliveries)  # the heartbeat extends what is still in here
        try:
            with keep_alive(pending, self.lease_seconds) as riders:
                # the store leases of the idempotency middleware ride on the heartbeat that extends visibility
                self._handle_all(deliveries, Leases(seconds, riders), pending)
        except BrokerError as exc:
            # Like a refused settle: a lease that lapsed means a redelivery, which idempotent consumers absorb.
            log.warning("could not extend the leases of %d message(s) from %s: %s", len(pending),
                        deliveries[0].source, exc)
        return len(deliveries)

    def _handle_all(self, deliveries: list[Delivery], leases: Leases, pending: list[Delivery] | None = None) -> None:
        token = current_leases.set(leases)
        try:
            for delivery in deliveries:
                handle(delivery, self.handler)
                if pending is not None:
                    pending.remove(delivery)
        finally:
            current_leases.reset(token)
