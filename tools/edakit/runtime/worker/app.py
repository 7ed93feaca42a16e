"""What a service declares for `edakit worker run module:app`: its spec, its broker, a handler per subscriber, and
the stores its readiness depends on. Everything else (topic, group, retry, batch size, leases, grace period) comes
from the spec through `consumer_settings`, so the worker reads what Terraform created with the redrive Terraform set.

    app = App(load_spec("configs/order-events-kafka.yaml", "prod"), KafkaBroker(os.environ["KAFKA_BOOTSTRAP"]))

    @app.subscriber("billing", middleware=[idempotent(store)])
    def charge(delivery: Delivery) -> None: ...

    app.readiness("orders-db", lambda: engine.connect().close())
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

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
            if name in self.subscriptions:
                raise AppError(f"subscriber {name!r} is declared twice")
            self.subscriptions[name] = Subscription(name, consumer_settings(self.spec, name), function,
                                                    tuple(middleware))
            return function

        return register(handler) if handler is not None else register

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
