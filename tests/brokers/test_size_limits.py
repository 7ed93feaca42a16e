"""Each broker's message size limit and claim-check threshold live in its profile; claim-check reads them there."""

from __future__ import annotations

from edakit.brokers import PROFILES
from edakit.runtime.claimcheck import MESSAGE_LIMIT_BYTES, default_threshold
from edakit.runtime.claimcheck.limits import EMBEDDED, LIMITS


def test_every_profile_declares_its_size_limit_and_claimcheck_reads_it():
    for name, found in PROFILES.items():
        assert found.size_limit is not None, name
        assert LIMITS[name] is found.size_limit
        assert MESSAGE_LIMIT_BYTES[name] == found.size_limit.limit_bytes
        assert default_threshold(name) == found.size_limit.default_threshold


def test_the_embedded_broker_takes_the_strictest_cloud_limit():
    assert LIMITS[EMBEDDED] is PROFILES["sqs-sns"].size_limit
    assert set(LIMITS) == {*PROFILES, EMBEDDED}
