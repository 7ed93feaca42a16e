"""Idempotent consumer: one effect per event id, on top of at-least-once delivery."""

from edakit.runtime.idempotency.dynamodb import DynamoDBIdempotencyStore
from edakit.runtime.idempotency.errors import InProgressError, LeaseLost
from edakit.runtime.idempotency.middleware import LeaseStore, OnDuplicate, begin, by_event_id, idempotent, transactional
from edakit.runtime.idempotency.redis import RedisIdempotencyStore
from edakit.runtime.idempotency.sql import SqlIdempotencyStore

__all__ = ["DynamoDBIdempotencyStore", "InProgressError", "LeaseLost", "LeaseStore", "OnDuplicate",
           "RedisIdempotencyStore", "SqlIdempotencyStore", "begin", "by_event_id", "idempotent", "transactional"]
