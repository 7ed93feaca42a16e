"""The worker process: one consume loop per subscriber, probes and metrics on one port, a drain on SIGTERM.

Drain (SIGTERM or SIGINT): `/readyz` turns 503, every loop stops polling (a receive waits at most `poll_timeout`),
finishes the batch it holds - each delivery handled and settled (acked, nacked for redelivery or dead-lettered) as
usual - then closes its subscriber, which commits the stored offsets (Kafka) and leaves the group. The process
exits 0 once every loop is done, within the spec's `consumer.shutdown_grace_seconds` of the signal. A loop still
handling when the grace period ends is abandoned: the process exits 1 at once, and what it had not settled is
redelivered by the broker (visibility timeout, ack deadline, or the group's last committed offset). A second signal
exits 1 at once. Keep `max_poll_records` times the handler's time under the grace period.

Push subscribers (`App.push`) are served on their own port (`push_port`, apart from the probes and metrics, which
need not be reachable from outside): each endpoint's path from the spec, through PubSubPushReceiver. On drain a
push that arrives is answered 503 (Pub/Sub redelivers it, to another instance), and the pushes being handled are
finished and answered within the same grace period.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from types import FrameType
from typing import TYPE_CHECKING, Any

from edakit.redact import redact
from edakit.runtime.adapters.base import Subscriber
from edakit.runtime.middleware.router import Router
from edakit.runtime.worker.app import App, Subscription
from edakit.runtime.worker.logs import context
from edakit.runtime.worker.probes import Probes, install_meter_provider, serve

if TYPE_CHECKING:
    from edakit.runtime.worker.push import PushGate

log = logging.getLogger("edakit.worker")

DEFAULT_PORT = 9843  # beside `edakit lag serve`'s 9842
DEFAULT_HOST = "127.0.0.1"  # a container that is probed from outside sets --host 0.0.0.0
DEFAULT_PUSH_PORT = 8080  # what Cloud Run and most ingress defaults send to


@dataclass
class _Loop:
    subscription: Subscription
    consuming: threading.Event = field(default_factory=threading.Event)  # its subscriber exists
    done: threading.Event = field(default_factory=threading.Event)
    thread: threading.Thread | None = None
    handled: int = 0
    crashed: bool = False
    received: int = 0  # deliveries the subscriber returned ...
    finished: int = 0  # ... and those whose handler chain has returned: the difference is in hand

    @property
    def in_hand(self) -> int:
        return self.received - self.finished


class _Tally:
    """The loop's subscriber, counting what it hands out (everything else, keep_alive and close, passes through)."""

    def __init__(self, subscriber: Subscriber, loop: _Loop) -> None:
        self._subscriber, self._loop = subscriber, loop

    def receive(self, max_messages: int = 10, timeout: float = 1.0) -> list:
        deliveries = self._subscriber.receive(max_messages, timeout)
        self._loop.received += len(deliveries)
        return deliveries

    def __getattr__(self, name: str) -> Any:
        return getattr(self._subscriber, name)


class Worker:
    """Runs an App's subscribers until `stop()`, then drains them (see the module docstring)."""

    def __init__(self, app: App, *, grace_seconds: float | None = None, poll_timeout: float = 1.0,
                 check_timeout: float = 2.0, error_backoff: float = 1.0) -> None:
        app.validate()
        self.app = app
        graces = {s.settings.shutdown_grace_seconds for s in app.subscriptions.values()}
        self.grace_seconds = float(grace_seconds if grace_seconds is not None else max(graces))
        if not self.grace_seconds > 0:
            raise ValueError(f"grace_seconds: expected seconds > 0, got {self.grace_seconds}")
        self.poll_timeout = poll_timeout
        self.check_timeout = check_timeout
        self.error_backoff = error_backoff
        self.loops = [_Loop(s) for s in app.subscriptions.values() if not s.is_push]
        self.gates: dict[str, PushGate] = {}
        self._push_publisher: Any = None
        self._stop = threading.Event()
        self._stopped_at: float | None = None

    # --- state the probes read --------------------------------------------------------------------------------------

    def alive(self) -> bool:
        return not any(loop.crashed for loop in self.loops)

    def accepting(self) -> bool:
        return not self._stop.is_set() and all(loop.consuming.is_set() for loop in self.loops)

    def probes(self) -> Probes:
        checks = {"broker": lambda: self.app.broker.check_reachable(self.check_timeout), **self.app.checks}
        return Probes(self.alive, self.accepting, checks)

    # --- lifecycle ----------------------------------------------------------------------------------------------------

    def push_app(self) -> Callable[..., Iterable[bytes]] | None:
        """The WSGI app of the push subscribers (None without any); dead letters go through one broker publisher."""
        pushes = [s for s in self.app.subscriptions.values() if s.is_push]
        if not pushes:
            return None
        # Imported here: google-auth and the Pub/Sub client are needed only by services with push subscribers.
        from edakit.runtime.adapters.pubsub_push import PubSubPushReceiver, google_certs_file
        from edakit.runtime.worker.push import PushGate, push_routes

        if self._push_publisher is None:
            self._push_publisher = self.app.broker.publisher()
        for sub in pushes:
            loader = google_certs_file(sub.push_certs_file) if sub.push_certs_file is not None else None
            receiver = PubSubPushReceiver.from_spec(self.app.spec, sub.name, sub.chain(),
                                                    dead_letter_publisher=self._push_publisher,
                                                    certs=sub.push_certs, certs_loader=loader)
            self.gates[sub.name] = PushGate(receiver)
        return push_routes(self.app.spec, self.gates)

    def start(self) -> None:
        for loop in self.loops:
            loop.thread = threading.Thread(target=self._run_loop, args=(loop,), daemon=True,
                                           name=f"edakit-worker {loop.subscription.name}")
            loop.thread.start()

    def stop(self) -> None:
        if not self._stop.is_set():
            self._stopped_at = time.monotonic()
            self._stop.set()

    def drain(self) -> bool:
        """Wait for every loop to finish (after `stop()`) until the grace period ends; True if all did."""
        if self._stopped_at is None:
            raise RuntimeError("drain() before stop()")
        deadline = self._stopped_at + self.grace_seconds
        pushes_done = [name for name, gate in self.gates.items() if gate.close_and_wait(deadline)]
        for loop in self.loops:
            loop.done.wait(max(0.0, deadline - time.monotonic()))
        left = [loop.subscription.name for loop in self.loops if not loop.done.is_set()]
        left += [name for name in self.gates if name not in pushes_done]
        if self._push_publisher is not None and not left:
            self._push_publisher.close()
        took = time.monotonic() - self._stopped_at
        handled = {loop.subscription.name: loop.handled for loop in self.loops}
        if left:
            log.error("grace period of %gs over with %s still handling: exiting, their unsettled messages will be "
                      "redelivered", self.grace_seconds, ", ".join(left), extra={"handled": handled})
            return False
        log.info("drained in %.2fs: every received message settled, subscribers closed", took,
                 extra={"handled": handled, "drain_seconds": round(took, 3)})
        return True

    def _run_loop(self, loop: _Loop) -> None:
        sub = loop.subscription
        with context(topic=sub.settings.topic, subscriber=sub.name):
            try:
                subscriber = self._open(sub)
                if subscriber is None:
                    return  # stopped before the broker took the subscriber
                loop.consuming.set()
                chain = sub.chain()

                def counted(delivery: Any) -> None:
                    try:
                        chain(delivery)
                    finally:
                        loop.finished += 1

                router = Router(_Tally(subscriber, loop), counted, max_messages=sub.settings.max_messages,
                                receive_timeout=self.poll_timeout, lease_seconds=sub.settings.lease_seconds)
                try:
                    while not self._stop.is_set():
                        try:
                            loop.handled += router.run_once()
                        except Exception as exc:  # noqa: BLE001 - a broker failure: logged, retried after a pause
                            log.error("consuming failed, retrying in %gs: %s", self.error_backoff,
                                      redact(str(exc)) or type(exc).__name__)
                            self._stop.wait(self.error_backoff)
                finally:
                    self._close(subscriber)
            except BaseException:  # noqa: BLE001 - e.g. a handler's SystemExit: /healthz reports the loop dead
                loop.crashed = True
                log.exception("consume loop crashed")
            finally:
                loop.done.set()

    def _open(self, sub: Subscription) -> Subscriber | None:
        while not self._stop.is_set():
            try:
                subscriber = self.app.broker.subscriber(sub.settings.topic, sub.settings.group)
                log.info("consuming %s as group %s", sub.settings.topic, sub.settings.group)
                return subscriber
            except Exception as exc:  # noqa: BLE001 - the broker may come up later: /readyz says so meanwhile
                log.error("cannot subscribe, retrying in %gs: %s", self.error_backoff,
                          redact(str(exc)) or type(exc).__name__)
                self._stop.wait(self.error_backoff)
        return None

    @staticmethod
    def _close(subscriber: Subscriber) -> None:
        try:
            subscriber.close()  # Kafka: commits the stored offsets and leaves the group
        except Exception:  # noqa: BLE001 - logged; the broker redelivers what was not committed
            log.exception("closing the subscriber failed")

    # --- the process ---------------------------------------------------------------------------------------------------

    def run(self, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, push_host: str = "0.0.0.0",  # noqa: S104
            push_port: int = DEFAULT_PUSH_PORT) -> int:
        """Serve probes (and push endpoints), consume until SIGTERM/SIGINT, drain; returns the exit code (0 drained,
        1 grace ran out). The push endpoints listen on every address by default: Pub/Sub reaches them from outside
        (through the TLS-terminating load balancer the push endpoint's https URL names)."""
        install_meter_provider()
        server, _ = serve(self.probes(), host, port)
        servers = [server]
        push = self.push_app()
        extra: dict[str, object] = {}
        if push is not None:
            push_server, _ = serve(push, push_host, push_port)
            servers.append(push_server)
            extra = {"push_port": push_server.server_port, "push_subscribers": sorted(self.gates)}
        log.info("worker listening on http://%s:%d (/healthz, /readyz, /metrics)", host, server.server_port,
                 extra={"port": server.server_port, "subscribers": sorted(self.app.subscriptions),
                        "grace_seconds": self.grace_seconds, **extra})

        def on_signal(signum: int, frame: FrameType | None) -> None:
            if self._stop.is_set():
                log.error("second %s: exiting without finishing the drain", signal.Signals(signum).name)
                logging.shutdown()
                os._exit(1)
            in_hand = {loop.subscription.name: loop.in_hand for loop in self.loops}
            in_hand.update({name: gate.in_flight for name, gate in self.gates.items()})
            log.info("%s: draining (grace period %gs), %d message(s) in hand", signal.Signals(signum).name,
                     self.grace_seconds, sum(in_hand.values()), extra={"in_hand": in_hand})
            self.stop()

        previous = {s: signal.signal(s, on_signal) for s in (signal.SIGTERM, signal.SIGINT)}
        try:
            self.start()
            while not self._stop.wait(0.5):
                if not self.alive():
                    log.error("a consume loop crashed: stopping the worker")
                    self.stop()
            drained = self.drain()
        finally:
            for each in servers:
                each.shutdown()
                each.server_close()
            for signum, handler in previous.items():
                signal.signal(signum, handler)
        return 0 if drained and self.alive() else 1
