"""Redis idempotency store: `SET NX` with a lease while the handler runs, then a TTL of the whole window.

Not transactional with the handler's writes: a crash after the handler committed but before `complete` lets the
event run again once the lease expires (at-least-once effects; use the SQL store for effectively-once).

The scripts answer with integers only, so the store works whether the client decodes responses or not.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

import redis

from edakit.runtime.idempotency.errors import InProgressError, checked_lease, lease_lost

# 1: the lease is taken; 0: the event is done; -1: another run holds the lease.
_BEGIN = """
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'EX', ARGV[2]) then return 1 end
if redis.call('GET', KEYS[1]) == 'done' then return 0 end
return -1
"""
# Extend the holder's lease; a lapsed lease nobody took is taken again. 0: another run took the key over.
_RENEW = """
local held = redis.call('GET', KEYS[1])
if held == ARGV[1] then redis.call('EXPIRE', KEYS[1], ARGV[2]) return 1 end
if not held then redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2]) return 1 end
return 0
"""
# Record done unless another run took the key over (its lease or its record stands then). 0: taken over.
_COMPLETE = """
local held = redis.call('GET', KEYS[1])
if held == ARGV[1] or not held then redis.call('SET', KEYS[1], 'done', 'EX', ARGV[2]) return 1 end
return 0
"""
# Only the lease holder may release the key (a slow handler may have lost its lease to another run).
_RELEASE = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0"


@dataclass
class RedisIdempotencyStore:
    client: redis.Redis  # decode_responses either way
    consumer: str
    window_hours: float
    prefix: str = "edakit:processed"
    _begin: object = field(init=False, repr=False)
    _renew: object = field(init=False, repr=False)
    _complete: object = field(init=False, repr=False)
    _release: object = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if self.window_hours <= 0:
            raise ValueError(f"idempotency_window_hours must be > 0, got {self.window_hours}")
        self._begin = self.client.register_script(_BEGIN)
        self._renew = self.client.register_script(_RENEW)
        self._complete = self.client.register_script(_COMPLETE)
        self._release = self.client.register_script(_RELEASE)

    def _key(self, key: str) -> str:
        return f"{self.prefix}:{self.consumer}:{key}"

    def begin(self, key: str, lease_seconds: int) -> str | None:
        """Take a lease of `lease_seconds` and return its token; None when the event is done; InProgressError while
        another run holds the lease."""
        token = uuid.uuid4().hex
        held = self._begin(keys=[self._key(key)], args=[token, checked_lease(lease_seconds)])  # type: ignore[operator]
        if held == 1:
            return token
        if held == 0:
            return None
        raise InProgressError(f"event key {key!r} of consumer {self.consumer!r} is being processed by another run")

    def renew(self, key: str, token: str, lease_seconds: int) -> None:
        """Push the lease `lease_seconds` ahead; LeaseLost when another run took the key over."""
        if not self._renew(keys=[self._key(key)], args=[token, checked_lease(lease_seconds)]):  # type: ignore[operator]
            raise lease_lost(self.consumer, key, "renewing")

    def complete(self, key: str, token: str) -> None:
        """Record the event done for the window; LeaseLost (and nothing recorded) when another run took it over."""
        ttl = max(1, round(self.window_hours * 3600))  # Redis expiry is in whole seconds, and must be positive
        if not self._complete(keys=[self._key(key)], args=[token, ttl]):  # type: ignore[operator]
            raise lease_lost(self.consumer, key, "completing")

    def release(self, key: str, token: str) -> None:
        self._release(keys=[self._key(key)], args=[token])  # type: ignore[operator]

