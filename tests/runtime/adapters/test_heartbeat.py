"""The heartbeat behind every adapter's keep_alive: it beats until the block exits and never hides a failed beat."""

from __future__ import annotations

import threading
import time

import pytest

from edakit.runtime.adapters.base import heartbeat


def test_it_beats_on_entry_and_until_the_block_exits_then_stops() -> None:
    beats: list[float] = []
    with heartbeat(lambda: beats.append(time.monotonic()), 0.05, "test-heartbeat"):
        assert len(beats) == 1  # before the block runs: the lease starts with it
        time.sleep(0.3)
    count = len(beats)
    time.sleep(0.15)
    assert count >= 3 and len(beats) == count
    assert not any(t.name == "test-heartbeat" for t in threading.enumerate())


def test_a_failed_beat_is_raised_when_the_block_exits() -> None:
    calls: list[int] = []

    def beat() -> None:
        calls.append(1)
        if len(calls) > 1:
            raise ConnectionError("receipt handle expired")

    with pytest.raises(ConnectionError, match="receipt handle expired"):
        with heartbeat(beat, 0.01, "test-heartbeat"):
            time.sleep(0.1)
    assert len(calls) == 2  # the heartbeat ended with the failed beat


def test_a_failed_first_beat_is_raised_before_the_block_runs() -> None:
    def beat() -> None:
        raise ConnectionError("no such receipt handle")

    ran = []
    with pytest.raises(ConnectionError):
        with heartbeat(beat, 1, "test-heartbeat"):
            ran.append(True)
    assert ran == []


def test_the_blocks_own_error_takes_precedence() -> None:
    calls: list[int] = []

    def beat() -> None:
        calls.append(1)
        if len(calls) > 1:
            raise ConnectionError("lost")

    with pytest.raises(KeyError):
        with heartbeat(beat, 0.01, "test-heartbeat"):
            time.sleep(0.1)
            raise KeyError("handler failed")


@pytest.mark.parametrize("every", [0, -1.0])
def test_an_interval_that_is_not_positive_is_refused(every: float) -> None:
    with pytest.raises(ValueError, match="expected seconds > 0"):
        with heartbeat(lambda: None, every, "test-heartbeat"):
            pass
