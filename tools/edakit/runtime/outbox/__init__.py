"""Transactional outbox: write events in the business transaction, relay them to a broker after commit."""

from edakit.runtime.outbox.event import OutboxEvent
from edakit.runtime.outbox.postgres import PostgresOutbox
from edakit.runtime.outbox.relay import Lag, OutboxStore, Relay
from edakit.runtime.outbox.sqlite import SqliteOutbox
from edakit.runtime.outbox.writer import append

__all__ = ["Lag", "OutboxEvent", "OutboxStore", "PostgresOutbox", "Relay", "SqliteOutbox", "append"]
