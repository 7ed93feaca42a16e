"""Figures whose sides need no server, run small: each side does the work it claims (the kit and its baseline
reach the same results), so a ratio compares like with like."""

from __future__ import annotations

import pytest

from benchmarks import consumer, embedded, filters, sqs_sns
from benchmarks.harness import measure


def test_the_instrumentation_sides_handle_every_message_in_each_mode():
    with consumer.embedded() as ctx:
        for provider in (ctx.sdk, consumer.NoOpTracerProvider()):
            traced = consumer.routed(ctx, lambda h, p=provider: consumer.compose(h, consumer.tracing(tracer_provider=p)),
                                     messages=60)
            assert traced() > 0  # raises unless all 60 were handled
        assert consumer.routed(ctx, lambda h: h, messages=60)() > 0
        assert consumer.bare_loop(ctx, messages=60)() > 0


def test_a_router_side_that_loses_messages_fails_the_figure():
    with consumer.embedded() as ctx:
        dropping = consumer.routed(ctx, lambda h: (lambda d: None), messages=10)  # never calls the handler
        with pytest.raises(RuntimeError, match="handled 0 of 10"):
            dropping()


@pytest.mark.parametrize("prepare", [filters._sns(False), filters._sns(True), filters._eventbridge(False),
                                     filters._eventbridge(True)])
def test_the_kit_and_moto_reach_the_same_filter_verdicts(prepare, monkeypatch):
    monkeypatch.setattr(filters, "MESSAGES", 40)
    sides = prepare(None)  # raises when they disagree, or when every verdict is the same
    assert sides.items in (40 * len(filters.POLICIES), 40 * len(filters.PATTERNS))


def test_the_filter_check_refuses_inputs_on_which_the_kit_and_moto_disagree():
    with pytest.raises(RuntimeError, match="disagree"):
        filters._checked([True, False], [True, True], "SNS policy")
    with pytest.raises(RuntimeError, match="same verdict"):
        filters._checked([True, True], [True, True], "SNS policy")


def test_the_hand_built_sns_entry_and_the_kits_carry_the_same_attributes(monkeypatch):
    monkeypatch.setattr(sqs_sns, "MESSAGES", 20)
    message = sqs_sns._messages(1)[0]
    kit, by_hand = sqs_sns._kit_entry("0", message), sqs_sns._by_hand("0", message)
    assert kit == by_hand  # the same request: the kit's checks are the only difference in work
    decode = next(f for f in sqs_sns.CODEC.figures if f.name == "sqs_sns_decode_ratio")
    result = measure(decode, sqs_sns._decode(None))
    assert len(result.values) >= 5


def test_the_raw_embedded_loops_write_and_read_the_rows_the_broker_does(monkeypatch):
    monkeypatch.setattr(embedded, "MESSAGES", 150)
    with embedded.broker() as ctx:
        ctx.broker.create_group("raw", "g")
        embedded.raw_publish(ctx.conn, "raw", embedded._messages()[:3])
        received = ctx.broker.subscriber("raw", "g").receive(10, 0)
        assert [d.message.payload for d in received] == [m.payload for m in embedded._messages()[:3]]
        sides = embedded._consume(ctx)
        assert sides.kit() > 0 and sides.baseline() > 0  # each asserts it consumed all 150
