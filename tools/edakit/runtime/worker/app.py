"""What a service declares for `edakit worker run module:app`: its spec, its broker, a handler per subscriber, and
the stores its readiness depends on. Everything else (topic, group, retry, batch size, leases, grace period) comes
from the spec through `consumer_settings`, so the worker reads what Terraform created with the redrive Terraform set.

    app = App(load_spec("configs/order-events-kafka.yaml", "prod"), KafkaBroker(os.environ["KAFKA_BOOTSTRAP"]))

    @app.subscriber("billing", middleware=[idempotent(store)])
    def charge(delivery: Delivery) -> None: ...

    app.readiness("orders-db", lambda: engine.connect().close())

A Pub/Sub push subscriber (`pubsub.push` in the spec) is declared with `app.push(name, handler, certs_file=...)`:
the worker then also serves its endpoint's path (edakit.runtime.adapters.pubsub_push) on the push port.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from edakit.runtime.adapters.base import Broker
from edakit.runtime.middleware.chain import Handler, Middleware, compose
from edakit.runtime.middleware.metrics import metrics
from edakit.runtime.middleware.retry import retry
from edakit.runtime.middleware.tracing import tracing
from edakit.runtime.settings import ConsumerSettings, consumer_settings
from edakit.runtime.worker.logs import log_context
from edakit.spec.model import Spec

CHECK_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,62}$")


class AppError(ValueError):
    """An App the worker cannot run (unknown subscriber, a subscriber declared twice, no subscribers)."""


@dataclass(frozen=True)
class Subscription:
    """One subscriber the worker runs: its settings from the spec and its composed handler chain."""

    name: str
    settings: ConsumerSettings
    handler: Handler  # the service's own handler, unwrapped
    middleware: tuple[Middleware, ...]  # the service's own, innermost (e.g. idempotent(store))

    push_certs: Mapping[str, str] | None = field(default=None, repr=False)  # push subscribers: Google's certs
    push_certs_file: Path | None = None

    @property
    def is_push(self) -> bool:
        return self.push_certs is not None or self.push_certs_file is not None

    def chain(self) -> Handler:
        """tracing -> log context -> metrics -> retry (the spec's policy, dead-letters last) -> the service's own
        middleware -> handler: the order edakit.runtime.middleware documents."""
        return compose(self.handler, tracing(consumer_group=self.settings.group),
                       log_context(self.name, self.settings.topic), metrics(consumer_group=self.settings.group),
                       retry(self.settings.retry), *self.middleware)


class App:
    """A service's subscribers on one broker. `broker` is any edakit Broker (Kafka, SQS/SNS, Pub/Sub, embedded);
    each subscriber's topic and group are the spec's (`consumer_settings`)."""

    def __init__(self, spec: Spec, broker: Broker) -> None:
        self.spec = spec
        self.broker = broker
        self.subscriptions: dict[str, Subscription] = {}
        self.checks: dict[str, Callable[[], object]] = {}

    def subscriber(self, name: str, handler: Handler | None = None, *,
                   middleware: Sequence[Middleware] = ()) -> Callable[[Handler], Handler] | Handler:
        """Run `handler` for the spec's subscriber `name` (also usable as a decorator). Raises AppError or the
        settings' SettingsError (naming the spec's file and line) for a subscriber the runtime cannot consume."""
        def register(function: Handler) -> Handler:
            self._add(Subscription(name, consumer_settings(self.spec, name), function, tuple(middleware)),
                      push=False)
            return function

        return register(handler) if handler is not None else register

    def push(self, name: str, handler: Handler | None = None, *, middleware: Sequence[Middleware] = (),
             certs_file: str | Path | None = None,
             certs: Mapping[str, str] | None = None) -> Callable[[Handler], Handler] | Handler:
        """Serve the spec's Pub/Sub push subscriber `name` with `handler` (also usable as a decorator). Its OIDC
        tokens are checked against Google's signing certificates in `certs_file` (the document of
        https://www.googleapis.com/oauth2/v1/certs, kept current by the deployment; re-read when a new key id
        shows up) or the given `certs`; the worker fetches nothing."""
        if (certs_file is None) == (certs is None):
            raise AppError(f"push subscriber {name!r}: give exactly one of certs_file or certs (Google's signing "
                           f"certificates; the worker never fetches them)")

        def register(function: Handler) -> Handler:
            self._add(Subscription(name, consumer_settings(self.spec, name), function, tuple(middleware),
                                   push_certs=certs, push_certs_file=Path(certs_file) if certs_file else None),
                      push=True)
            return function

        return register(handler) if handler is not None else register

    def _add(self, subscription: Subscription, *, push: bool) -> None:
        name = subscription.name
        if name in self.subscriptions:
            raise AppError(f"subscriber {name!r} is declared twice")
        declared = self.spec.subscribers[name].pubsub
        is_push = declared is not None and declared.push_endpoint is not None
        where = f"{self.spec.location('subscribers', name)} subscribers.{name}"
        if is_push and not push:
            raise AppError(f"{where} is a push subscriber (pubsub.push): declare it with app.push(...)")
        if push and not is_push:
            raise AppError(f"{where} is not a Pub/Sub push subscriber: declare it with app.subscriber(...)")
        self.subscriptions[name] = subscription

    def readiness(self, name: str, check: Callable[[], object]) -> None:
        """`/readyz` calls `check` (it raises when the store is not usable) next to the broker's reachability."""
        if not CHECK_NAME.match(name) or name == "broker" or name in self.checks:
            raise AppError(f"readiness check {name!r}: expected a new lower-case name (a-z, 0-9, _ . -), "
                           f"not 'broker'")
        self.checks[name] = check

    def validate(self) -> None:
        if not self.subscriptions:
            raise AppError(f"the app for {self.spec.file} declares no subscriber; add app.subscriber(name, handler) "
                           f"for one of {', '.join(sorted(self.spec.subscribers))}")
