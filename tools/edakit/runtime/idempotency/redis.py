"""Redis idempotency store: `SET NX` with a lease while the handler runs, then a TTL of the whole window.

Not transactional with the handler's writes: a crash after the handler committed but before `complete` lets the
event run again once the lease expires (at-least-once effects; use the SQL store for effectively-once).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

import redis

from edakit.runtime.idempotency.errors import InProgressError

# Take the lease, or say what holds the key: "done" or another run's token.
_BEGIN = "if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'EX', ARGV[2]) then return 1 end return redis.call('GET', KEYS[1])"
# Only the lease holder may finish or release the key (a slow handler may have lost its lease to another run).
_COMPLETE = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('SET', KEYS[1], 'done', 'EX', ARGV[2]) end"
_RELEASE = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end"


@dataclass
class RedisIdempotencyStore:
    client: redis.Redis
    consumer: str
    window_hours: float
    lease_seconds: int = 60
    prefix: str = "edakit:processed"
    _begin: object = field(init=False, repr=False)
    _complete: object = field(init=False, repr=False)
    _release: object = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if self.window_hours <= 0:
            raise ValueError(f"idempotency_window_hours must be > 0, got {self.window_hours}")
        self._begin = self.client.register_script(_BEGIN)
        self._complete = self.client.register_script(_COMPLETE)
        self._release = self.client.register_script(_RELEASE)

    def _key(self, key: str) -> str:
        return f"{self.prefix}:{self.consumer}:{key}"

    def begin(self, key: str) -> str | None:
        """Take the lease and return its token; None when the event is done; InProgressError while another run
        holds the lease."""
        token = uuid.uuid4().hex
        held = self._begin(keys=[self._key(key)], args=[token, self.lease_seconds])  # type: ignore[operator]
        if held == 1:
            return token
        if held == b"done":
            return None
        raise InProgressError(f"event key {key!r} of consumer {self.consumer!r} is being processed by another run")

    def complete(self, key: str, token: str) -> None:
        ttl = max(1, round(self.window_hours * 3600))  # Redis expiry is in whole seconds, and must be positive
        self._complete(keys=[self._key(key)], args=[token, ttl])  # type: ignore[operator]

    def release(self, key: str, token: str) -> None:
        self._release(keys=[self._key(key)], args=[token])  # type: ignore[operator]
