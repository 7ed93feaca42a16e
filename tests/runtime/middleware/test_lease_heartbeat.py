"""Riders on the adapters' heartbeat, and `Leases.kept`: how idempotency leases are renewed with visibility."""

from __future__ import annotations

import threading
import time

import pytest

from edakit.runtime.adapters.base import heartbeat
from edakit.runtime.middleware.leases import DEFAULT_LEASE_SECONDS, Leases, current_leases, leases


def test_riders_are_renewed_on_every_later_beat_just_before_it() -> None:
    calls: list[str] = []
    with heartbeat(lambda: calls.append("beat"), 0.05, "test-heartbeat") as riders:
        riders.append(lambda: calls.append("rider"))
        time.sleep(0.3)
    assert calls[0] == "beat"  # the entry beat, before any rider joined
    later = calls[1:]
    assert len(later) >= 4 and later == ["rider", "beat"] * (len(later) // 2)


def test_riders_go_on_after_a_failed_beat_and_the_failure_is_raised_at_exit() -> None:
    beats: list[int] = []
    rides: list[float] = []

    def beat() -> None:
        beats.append(1)
        if len(beats) == 2:
            raise ConnectionError("visibility change refused")

    with pytest.raises(ConnectionError, match="visibility change refused"):
        with heartbeat(beat, 0.03, "test-heartbeat") as riders:
            riders.append(lambda: rides.append(time.monotonic()))
            time.sleep(0.3)
    assert len(beats) == 2  # the adapter's beats ended with the failed one ...
    assert len(rides) >= 4  # ... the store leases kept being renewed


def test_a_rider_that_raises_ends_the_heartbeat_and_is_raised() -> None:
    beats: list[int] = []

    def rider() -> None:
        raise RuntimeError("a rider must handle its own failures")

    with pytest.raises(RuntimeError, match="handle its own failures"):
        with heartbeat(lambda: beats.append(1), 0.03, "test-heartbeat") as riders:
            riders.append(rider)
            time.sleep(0.2)
    assert beats == [1]


def test_kept_rides_on_a_running_heartbeat_only_inside_its_block() -> None:
    renewals: list[str] = []
    with heartbeat(lambda: None, 0.03, "test-heartbeat") as riders:
        with Leases(5, riders).kept(lambda: renewals.append(threading.current_thread().name)):
            assert len(riders) == 1
            time.sleep(0.2)
        assert riders == []
        count = len(renewals)
        time.sleep(0.1)
    assert count >= 3 and len(renewals) == count and set(renewals) == {"test-heartbeat"}


def test_without_a_heartbeat_kept_runs_its_own_at_a_third_of_the_lease_and_not_on_entry() -> None:
    renewals: list[float] = []
    start = time.monotonic()
    with Leases(1).kept(lambda: renewals.append(time.monotonic() - start)):
        assert renewals == []  # the lease was just taken: no renewal on entry
        time.sleep(0.8)
    assert 1 <= len(renewals) <= 2 and renewals[0] >= 1 / 3  # every 1/3 s: at most at 0.33 and 0.67 s
    assert not any(t.name == "idempotency-lease" for t in threading.enumerate())


def test_outside_a_router_leases_last_the_default() -> None:
    assert leases() == Leases(DEFAULT_LEASE_SECONDS)
    token = current_leases.set(Leases(7))
    try:
        assert leases().seconds == 7
    finally:
        current_leases.reset(token)
