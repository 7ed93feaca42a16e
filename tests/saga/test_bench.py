"""The saga benchmark's sides do the work they claim: every saga the orchestrator side runs succeeds, and the by-hand
side writes one outbox command per reply."""

from __future__ import annotations

import pytest

from benchmarks import saga_bench
from edakit.saga.store import query


def test_the_orchestrator_side_completes_every_saga_and_the_by_hand_side_one_command_per_reply(monkeypatch):
    with saga_bench.sqlite() as ctx:
        kit, hand = saga_bench.Orchestrated(ctx), saga_bench.ByHand(ctx)
        starting, replying = kit.run(5)  # raises unless all 5 succeeded
        assert starting > 0 and replying > 0
        original = hand._transition
        appended = []
        monkeypatch.setattr(hand, "_transition", lambda d, tx: (original(d, tx), appended.append(1)))
        hand.handler = saga_bench.transactional(hand.db, saga_bench.SqlIdempotencyStore(
            "bench", window_hours=24, table="bench_processed"), hand._transition)
        assert hand.run(5) > 0 and len(appended) == 5 * saga_bench.STEPS
        assert query(hand.db, "SELECT COUNT(*) AS n FROM orders", {})[0]["n"] == 0  # cleaned for the next round


def test_a_saga_that_does_not_succeed_fails_the_figure(monkeypatch):
    with saga_bench.sqlite() as ctx:
        kit = saga_bench.Orchestrated(ctx)
        monkeypatch.setattr(saga_bench, "SUCCEEDED_REPLY", "failed")  # every reply a failure: compensations pending
        with pytest.raises(RuntimeError, match="0 of 3 sagas succeeded"):
            kit.run(3)
