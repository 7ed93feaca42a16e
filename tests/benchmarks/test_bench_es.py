"""The event-store figures run tiny: each side does the work it claims (every event appended, projected or relayed,
checked by the side itself), so the ratios compare like with like; and the mapping's speed-ups keep its results."""

from __future__ import annotations

import uuid
from pathlib import Path

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from benchmarks import es
from benchmarks.harness import measure
from edakit.es.mapping import EVENT_ID_NAMESPACE, event_id, parse_topic
from edakit.runtime.adapters.embedded import EmbeddedBroker


@given(st.one_of(st.uuids(), st.text(max_size=60)), st.integers(min_value=0, max_value=2**63))
def test_event_ids_are_the_uuid5_of_stream_and_version(stream, version):
    assert event_id(stream, version) == str(uuid.uuid5(EVENT_ID_NAMESPACE, f"{stream}:{version}"))


@given(st.text(max_size=40), st.text(max_size=40), st.text(max_size=8))
def test_the_cached_topic_parser_answers_as_the_parser_does(domain, event, version):
    topic = f"{domain}/{event}@v{version}"
    assert parse_topic(topic) == parse_topic.__wrapped__(topic) == parse_topic(topic)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
        st.sampled_from(["_type_", "_data_", "a", "\\u", "é"]) | st.text(max_size=6), inner, max_size=4),
    max_leaves=12)


MAPPER = es.Orders(env=es.store_env("sqlite::memory:")).mapper


def _outcome(decode, state: bytes) -> tuple[str, object]:
    try:
        value = decode(state)
    except Exception as exc:  # noqa: BLE001 - json, orjson and the library raise several types
        return type(exc).__name__, None
    return "value", value


@given(JSON | st.fixed_dictionaries({"_type_": st.just("uuid_hex"), "_data_": st.uuids().map(lambda u: u.hex)}))
def test_the_mappers_decoding_reads_what_the_library_transcoder_reads(value):
    state = MAPPER.transcoder.encode(value)
    assert _outcome(MAPPER.decode, state) == _outcome(MAPPER.transcoder.decode, state) or _nan_in(value)


@given(st.binary(max_size=40) | st.text(max_size=40).map(str.encode))
def test_the_mappers_decoding_refuses_what_the_library_transcoder_refuses(state):
    assert _outcome(MAPPER.decode, state) == _outcome(MAPPER.transcoder.decode, state)


def _nan_in(value) -> bool:  # NaN != NaN: compared apart
    if isinstance(value, float):
        return value != value
    if isinstance(value, list):
        return any(_nan_in(v) for v in value)
    return isinstance(value, dict) and any(_nan_in(v) for v in value.values())


def _figure(name: str):
    return next(f for g in (es.GROUP, es.RELAY) for f in g.figures if f.name == name)


def test_the_append_sides_store_every_event_one_save_each(tmp_path: Path, monkeypatch):
    monkeypatch.setattr(es, "APPEND_EVENTS", 10)
    sides = es._append(es.Workdir(tmp_path))
    try:
        result = measure(_figure("event_store_append_ratio"), sides)  # each side raises unless it stored 10
    finally:
        sides.close()
    assert len(result.values) >= 5 and all(v > 0 for v in result.values)
    kit = es.Orders(env=es.store_env(f"sqlite:{tmp_path / 'append-kit.db'}"))
    default = es.Orders(env=es.store_env(f"sqlite:{tmp_path / 'append-default.db'}"))
    [schema_mapped] = kit.recorder.select_notifications(start=None, limit=1)
    [library] = default.recorder.select_notifications(start=None, limit=1)
    assert schema_mapped.topic == "order-events/order-placed@v2"  # the kit's mapping ...
    assert library.topic == "edakit.es.orders:Order.Placed"  # ... against the library's own
    assert orjson.loads(schema_mapped.state)["shipping_address"] == es.ADDRESS


def test_the_raw_projection_loop_and_the_projector_fill_the_same_rows(tmp_path: Path, monkeypatch):
    monkeypatch.setattr(es, "PROJECT_EVENTS", 250)  # three batches, the last one partial
    sides = es._projection(es.Workdir(tmp_path))
    try:
        query = es.sqlite3.connect(tmp_path / "project-query.db")
        rows = "SELECT * FROM order_summaries ORDER BY order_id"
        sides.baseline()  # raises unless all 250 were inserted once
        raw = query.execute(rows).fetchall()
        sides.kit()
        assert query.execute(rows).fetchall() == raw and len(raw) == 250
        query.close()
        result = measure(_figure("projection_catchup_ratio"), sides)
    finally:
        sides.close()
    assert len(result.values) >= 5


def test_a_projection_side_that_misses_events_fails_the_figure(tmp_path: Path, monkeypatch):
    monkeypatch.setattr(es, "PROJECT_EVENTS", 20)
    sides = es._projection(es.Workdir(tmp_path))
    try:
        monkeypatch.setattr(es, "PROJECT_EVENTS", 21)  # one more than the log holds
        with pytest.raises(RuntimeError, match="projected 20 of 21"):
            sides.kit()
        with pytest.raises(RuntimeError, match="projected 20 of 21"):
            sides.baseline()
    finally:
        sides.close()


def test_both_relays_send_the_same_payloads_and_keys(pg_url: str, tmp_path: Path, monkeypatch):
    monkeypatch.setattr(es, "RELAY_EVENTS", 40)
    monkeypatch.setattr(es, "RELAY_BATCH", 15)
    broker = EmbeddedBroker(tmp_path / "broker.db")
    subscriber = broker.subscriber(es.RELAY_TOPIC, "t")
    sides = es._relay(es.Servers(pg_url, broker))
    try:
        subscriber.receive(10, 0.5)[0].ack()  # the warm-up message
        received = {}
        for side in ("kit", "baseline"):
            assert getattr(sides, side)() > 0  # raises unless all 40 were sent
            deliveries = subscriber.receive(100, 1.0)
            for delivery in deliveries:
                delivery.ack()  # the broker holds a key's next message until its previous one is settled
            received[side] = [d.message for d in deliveries]
        assert len(received["kit"]) == len(received["baseline"]) == 40
        assert [(m.key, m.payload) for m in received["kit"]] == [(m.key, m.payload) for m in received["baseline"]]
    finally:
        sides.close()
