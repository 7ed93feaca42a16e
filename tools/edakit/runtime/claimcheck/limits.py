"""Message size limits of the brokers and the default claim-check thresholds below them, read from the broker
profiles (edakit.brokers: each profile's `size_limit`, with the documented limit it restates) - one truth.

The embedded broker (local runs) has no limit of its own; it takes SNS/SQS's, so a local run offloads what the
strictest cloud broker would. A default threshold leaves room for the envelope: threshold x expansion (4/3 where a
binary payload travels base64-encoded) + ATTRIBUTE_ROOM stays within the limit (tests/runtime/claimcheck check each).
"""

from __future__ import annotations

from edakit.brokers import PROFILES
from edakit.brokers.profile import SizeLimit

KIB = 1024
MIB = 1024 * KIB
ATTRIBUTE_ROOM = 16 * KIB  # attributes and envelope: ten SQS attributes of a few hundred bytes fit many times over
EMBEDDED = "embedded"  # the local SQLite broker's name in the runtime (`embedded:PATH`), which has no profile

LIMITS: dict[str, SizeLimit] = {name: p.size_limit for name, p in PROFILES.items() if p.size_limit is not None}
LIMITS[EMBEDDED] = min(LIMITS.values(), key=lambda limit: limit.limit_bytes)
MESSAGE_LIMIT_BYTES = {broker: limit.limit_bytes for broker, limit in LIMITS.items()}

__all__ = ["ATTRIBUTE_ROOM", "KIB", "LIMITS", "MESSAGE_LIMIT_BYTES", "MIB", "SizeLimit", "default_threshold"]


def default_threshold(broker: str) -> int:
    """Payloads above this many bytes are offloaded on `broker` unless the spec sets `threshold_bytes`."""
    try:
        return LIMITS[broker].default_threshold
    except KeyError:
        raise ValueError(f"claim-check: no message size limit known for broker {broker!r}; expected one of "
                         f"{', '.join(sorted(LIMITS))}") from None
