"""Idempotent consumer: skip events whose key was already processed within the window."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Protocol, TypeVar

import psycopg
from sqlalchemy import Connection as SAConnection
from sqlalchemy.orm import Session

from edakit.runtime.adapters.base import Delivery
from edakit.runtime.idempotency.sql import SqlIdempotencyStore
from edakit.runtime.message import Message
from edakit.runtime.middleware.chain import Handler, Middleware
from edakit.runtime.outbox.tx import Transaction, dialect_of

log = logging.getLogger(__name__)
KeyFunction = Callable[[Message], str]
OnDuplicate = Callable[[Delivery], None]
Tx = TypeVar("Tx", bound=Transaction)


def by_event_id(message: Message) -> str:
    return message.id


class LeaseStore(Protocol):
    """A store outside the business transaction (Redis, DynamoDB): lease while running, record when done."""

    def begin(self, key: str) -> str | None:
        """The lease token; None when the event is done; raises InProgressError while another run holds it."""

    def complete(self, key: str, token: str) -> None: ...

    def release(self, key: str, token: str) -> None: ...


def idempotent(store: LeaseStore, key: KeyFunction = by_event_id, *,
               on_duplicate: OnDuplicate | None = None) -> Middleware:
    """Run the handler only if this run takes the lease; a failed run releases it so a redelivery can retry.

    A duplicate of a finished event is acked, and `on_duplicate(delivery)` is called (count or log skips with it);
    one arriving while another run holds the lease raises InProgressError, so the retry middleware (outside this
    one) redelivers it later.
    """

    def middleware(next_handler: Handler) -> Handler:
        def handle(delivery: Delivery) -> None:
            event_key = key(delivery.message)
            token = store.begin(event_key)
            if token is None:
                log.info("skipping processed duplicate %s (key %s)", delivery.message.id, event_key)
                if on_duplicate is not None:
                    on_duplicate(delivery)
                return
            try:
                next_handler(delivery)
            except BaseException:
                store.release(event_key, token)
                raise
            store.complete(event_key, token)

        return handle

    return middleware


@contextmanager
def begin(tx: Transaction) -> Iterator[Transaction]:
    """One transaction on an idle connection or Session: commits on exit, rolls back on an exception; yields `tx`."""
    if isinstance(tx, sqlite3.Connection):
        _check_idle(tx, tx.in_transaction)
        with tx:
            tx.execute("BEGIN")  # sqlite3 begins implicitly only before DML, and never in autocommit mode
            yield tx
    elif isinstance(tx, psycopg.Connection):
        # on a connection inside a transaction, transaction() would only be a savepoint and commit nothing
        _check_idle(tx, tx.info.transaction_status != psycopg.pq.TransactionStatus.IDLE)
        with tx.transaction():
            yield tx
    else:
        dialect_of(tx)  # raises TypeError for anything but a SQLAlchemy Session or Connection
        with tx.begin():
            yield tx


def _check_idle(tx: Transaction, in_transaction: bool) -> None:
    if in_transaction:
        raise RuntimeError(f"{type(tx).__name__} already has a transaction open: commit or roll it back before "
                           "the idempotent consumer runs one per delivery on it")


def transactional(transaction: Transaction | Callable[[], AbstractContextManager[Tx]], store: SqlIdempotencyStore,
                  handler: Callable[[Delivery, Tx], None], key: KeyFunction = by_event_id, *,
                  on_duplicate: OnDuplicate | None = None) -> Handler:
    """The terminal handler for SQL stores: the record and `handler`'s writes share one transaction.

    `transaction` is a sqlite3 or psycopg connection, or a SQLAlchemy Session/Connection, with no transaction
    open between deliveries: each delivery runs in its own transaction on it. Or it is a callable returning a
    context manager that opens a transaction and yields what `handler` writes through. Leaving the transaction
    commits; an exception rolls back both. A duplicate commits nothing and calls `on_duplicate(delivery)`.
    """
    if isinstance(transaction, (sqlite3.Connection, psycopg.Connection, Session, SAConnection)):
        connection = transaction

        def opened() -> AbstractContextManager[Tx]:
            return begin(connection)  # type: ignore[return-value]
    elif callable(transaction):
        opened = transaction
    else:
        raise TypeError("transactional: expected a sqlite3/psycopg connection, a SQLAlchemy Session/Connection, or "
                        f"a callable returning a transaction context manager, got {type(transaction).__name__}")

    def handle(delivery: Delivery) -> None:
        with opened() as tx:
            claimed = store.claim(tx, key(delivery.message))
            if claimed:
                handler(delivery, tx)
        if not claimed:
            log.info("skipping duplicate %s", delivery.message.id)
            if on_duplicate is not None:
                on_duplicate(delivery)

    return handle
