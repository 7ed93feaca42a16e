"""Idempotent consumer: skip events whose key was already processed within the window."""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Protocol, TypeVar

import psycopg
from sqlalchemy import Connection as SAConnection
from sqlalchemy.orm import Session

from edakit.runtime.adapters.base import Delivery
from edakit.runtime.idempotency.errors import LeaseLost
from edakit.runtime.idempotency.sql import SqlIdempotencyStore
from edakit.runtime.message import Message
from edakit.runtime.middleware.chain import Handler, Middleware
from edakit.runtime.middleware.leases import leases
from edakit.runtime.middleware.metrics import count_duplicate
from edakit.runtime.outbox.tx import Transaction, dialect_of

log = logging.getLogger(__name__)
KeyFunction = Callable[[Message], str]
OnDuplicate = Callable[[Delivery], None]
# How often `transactional` deletes the records that aged out of the window: the window is a lower bound on how
# long a duplicate is recognised, so an hour late costs rows, never correctness.
CLEANUP_EVERY_SECONDS = 3600.0
Tx = TypeVar("Tx", bound=Transaction)


def by_event_id(message: Message) -> str:
    return message.id


class LeaseStore(Protocol):
    """A store outside the business transaction (Redis, DynamoDB): lease while running, record when done.

    The token is the owner check: `renew` and `complete` raise LeaseLost once another run took the key over after
    this run's lease lapsed, and `release` leaves another run's lease or a done record alone.
    """

    def begin(self, key: str, lease_seconds: int) -> str | None:
        """The lease token; None when the event is done; raises InProgressError while another run holds it."""

    def renew(self, key: str, token: str, lease_seconds: int) -> None: ...

    def complete(self, key: str, token: str) -> None: ...

    def release(self, key: str, token: str) -> None: ...


class _Lease:
    """One run's lease, renewed from a heartbeat thread until the run ends; remembers a takeover for the run."""

    def __init__(self, store: LeaseStore, key: str, token: str, seconds: int) -> None:
        self.store, self.key, self.token, self.seconds = store, key, token, seconds
        self.lost: LeaseLost | None = None
        self._failing = False
        self._ended = False
        self._lock = threading.Lock()  # end() waits for a renewal in flight, so none lands after complete/release

    def renew(self) -> None:
        with self._lock:
            if self._ended or self.lost is not None:
                return
            try:
                self.store.renew(self.key, self.token, self.seconds)
            except LeaseLost as exc:
                log.warning("%s", exc)
                self.lost = exc
            except Exception as exc:  # noqa: BLE001 - the next beat tries again; completion checks the owner
                if not self._failing:  # one line per failure streak, not one per beat
                    log.warning("could not renew the lease of event key %r (retrying every %.1f s): %s", self.key,
                                self.seconds / 3, exc)
                self._failing = True
            else:
                self._failing = False

    def end(self) -> None:
        with self._lock:
            self._ended = True


def idempotent(store: LeaseStore, key: KeyFunction = by_event_id, *,
               on_duplicate: OnDuplicate | None = None) -> Middleware:
    """Run the handler only if this run takes the lease; a failed run releases it so a redelivery can retry.

    A duplicate of a finished event is acked, counted in `edakit.messages.duplicates_skipped` (middleware.metrics),
    and `on_duplicate(delivery)` is called (count or log skips with it);
    one arriving while another run holds the lease raises InProgressError, so the retry middleware (outside this
    one) redelivers it later.

    The lease lasts the Router's `lease_seconds` and is renewed every third of it while the handler runs, on the
    heartbeat that extends the delivery's visibility (see `middleware.leases`). A run whose lease another run took
    over meanwhile (seen at a renewal or at completion) raises LeaseLost once its handler returns, and records
    nothing: the retry middleware nacks it, and its redelivery is skipped once the other run is done.
    """

    def middleware(next_handler: Handler) -> Handler:
        def handle(delivery: Delivery) -> None:
            event_key = key(delivery.message)
            batch = leases()
            token = store.begin(event_key, batch.seconds)
            if token is None:
                log.info("skipping processed duplicate %s (key %s)", delivery.message.id, event_key)
                count_duplicate(delivery)
                if on_duplicate is not None:
                    on_duplicate(delivery)
                return
            lease = _Lease(store, event_key, token, batch.seconds)
            try:
                with batch.kept(lease.renew):
                    next_handler(delivery)
            except BaseException:
                lease.end()
                store.release(event_key, token)
                raise
            lease.end()
            if lease.lost is not None:
                raise lease.lost
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
                  on_duplicate: OnDuplicate | None = None,
                  cleanup_every_seconds: float | None = CLEANUP_EVERY_SECONDS) -> Handler:
    """The terminal handler for SQL stores: the record and `handler`'s writes share one transaction.

    `transaction` is a sqlite3 or psycopg connection, or a SQLAlchemy Session/Connection, with no transaction
    open between deliveries: each delivery runs in its own transaction on it. Or it is a callable returning a
    context manager that opens a transaction and yields what `handler` writes through. Leaving the transaction
    commits; an exception rolls back both. A duplicate commits nothing, is counted
    in `edakit.messages.duplicates_skipped` and calls `on_duplicate(delivery)`.

    The handler also owns the store's cleanup: after the first delivery and then at most every
    `cleanup_every_seconds`, records older than the window are deleted in a transaction of their own, after the
    delivery's has committed. A failed cleanup is logged and tried again at the next interval; it never fails a
    delivery. `None` leaves cleanup to the caller (`store.cleanup(tx)`).
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

    next_cleanup = time.monotonic()

    def clean_up() -> None:
        nonlocal next_cleanup
        next_cleanup = time.monotonic() + cleanup_every_seconds  # type: ignore[operator]
        try:
            with opened() as tx:
                removed = store.cleanup(tx)
        except Exception as exc:  # a cleanup that fails must not fail (or redeliver) the delivery that ran it
            log.warning("idempotency cleanup of %s failed (%s); next try in %.0f s", store.table,
                        type(exc).__name__, cleanup_every_seconds)
        else:
            log.debug("idempotency cleanup of %s removed %d record(s) older than %s h", store.table, removed,
                      store.window_hours)

    def handle(delivery: Delivery) -> None:
        with opened() as tx:
            claimed = store.claim(tx, key(delivery.message))
            if claimed:
                handler(delivery, tx)
        if not claimed:
            log.info("skipping duplicate %s", delivery.message.id)
            count_duplicate(delivery)
            if on_duplicate is not None:
                on_duplicate(delivery)
        if cleanup_every_seconds is not None and time.monotonic() >= next_cleanup:
            clean_up()

    return handle
