"""Idempotent consumer: skip events whose key was already processed within the window."""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Protocol, TypeVar

from edakit.runtime.adapters.base import Delivery
from edakit.runtime.idempotency.sql import SqlIdempotencyStore
from edakit.runtime.message import Message
from edakit.runtime.middleware.chain import Handler, Middleware
from edakit.runtime.outbox.tx import Transaction

log = logging.getLogger(__name__)
KeyFunction = Callable[[Message], str]
Tx = TypeVar("Tx", bound=Transaction)


def by_event_id(message: Message) -> str:
    return message.id


class LeaseStore(Protocol):
    """A store outside the business transaction (Redis, DynamoDB): lease while running, record when done."""

    def begin(self, key: str) -> str | None:
        """The lease token; None when the event is done; raises InProgressError while another run holds it."""

    def complete(self, key: str, token: str) -> None: ...

    def release(self, key: str, token: str) -> None: ...


def idempotent(store: LeaseStore, key: KeyFunction = by_event_id) -> Middleware:
    """Run the handler only if this run takes the lease; a failed run releases it so a redelivery can retry.

    A duplicate of a finished event is acked; one arriving while another run holds the lease raises
    InProgressError, so the retry middleware (outside this one) redelivers it later.
    """

    def middleware(next_handler: Handler) -> Handler:
        def handle(delivery: Delivery) -> None:
            event_key = key(delivery.message)
            token = store.begin(event_key)
            if token is None:
                log.info("skipping processed duplicate %s (key %s)", delivery.message.id, event_key)
                return
            try:
                next_handler(delivery)
            except BaseException:
                store.release(event_key, token)
                raise
            store.complete(event_key, token)

        return handle

    return middleware


def transactional(transaction: Callable[[], AbstractContextManager[Tx]], store: SqlIdempotencyStore,
                  handler: Callable[[Delivery, Tx], None], key: KeyFunction = by_event_id) -> Handler:
    """The terminal handler for SQL stores: the record and `handler`'s writes share one transaction.

    `transaction()` opens a transaction and yields the object `handler` writes through (a psycopg or sqlite3
    connection, or a SQLAlchemy Session); leaving it commits, an exception rolls both back.
    """

    def handle(delivery: Delivery) -> None:
        with transaction() as tx:
            if store.claim(tx, key(delivery.message)):
                handler(delivery, tx)
            else:
                log.info("skipping duplicate %s", delivery.message.id)

    return handle
