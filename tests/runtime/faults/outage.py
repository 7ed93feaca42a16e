"""The broker-outage run shared by every broker: an outbox relay publishes a stream of events while the broker is
cut off mid-stream for a few seconds; afterwards a consumer reads everything the broker holds.

What is asserted (per broker, in test_broker_outage.py): the cut landed mid-stream (the outbox backed up while the
broker was away), the outbox drains after the broker is back, no event is lost, and duplicates stay within the
relay's bound: only a publish whose acknowledgement the outage swallowed is sent again, at most one batch per cut.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass

import psycopg
from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition

from edakit.runtime.adapters.base import Publisher
from edakit.runtime.outbox import OutboxEvent, PostgresOutbox, Relay, RetryPolicy, append, create_schema

EVENTS = 600  # written over WRITE_SECONDS, in transactions of TX_EVENTS (a run may take fewer)
TX_EVENTS = 10
WRITE_SECONDS = 4.0  # the broker is cut off after a quarter of the events are written
OUTAGE_SECONDS = 3.0
BATCH = 50  # relay batch: the most a swallowed acknowledgement can duplicate
AGGREGATES = 20
DRAIN_WITHIN = 30.0  # seconds after the broker is back
# Quick retries once the broker is back (the default backoff grows to 60 s); max_attempts stays at its default, so
# the run also shows that an outage of a few seconds dead-letters nothing.
RETRY = RetryPolicy(backoff_base=0.2, backoff_max=0.5)


@dataclass(frozen=True)
class Figures:
    broker: str
    events: int
    outage_seconds: float
    backlog_at_restore: int  # rows waiting in the outbox when the broker came back
    recovered_seconds: float  # from the broker's return to an empty outbox
    received: int
    lost: int
    duplicates: int
    bound: int
    first_arrivals_in_order: bool  # per aggregate, the first copy of each event arrived in write order

    def line(self) -> str:
        return (f"[broker outage] {self.broker}: events={self.events} outage={self.outage_seconds:.1f}s "
                f"backlog={self.backlog_at_restore} recovered={self.recovered_seconds:.1f}s "
                f"received={self.received} lost={self.lost} duplicates={self.duplicates} (bound {self.bound})")


def _write(pg_url: str, topic: str, events: int, written: list[int]) -> None:
    pause = WRITE_SECONDS / (events / TX_EVENTS)
    with psycopg.connect(pg_url) as conn:
        for start in range(0, events, TX_EVENTS):
            with conn.transaction():
                append(conn, [OutboxEvent(aggregate_type="Order", aggregate_id=f"o{n % AGGREGATES}",
                                          event_type="OrderPlaced", payload=json.dumps({"n": n}).encode(),
                                          topic=topic, source="/orders") for n in range(start, start + TX_EVENTS)])
            written.append(start + TX_EVENTS)
            time.sleep(pause)


def _wait(condition: Callable[[], bool], within: float, what: str) -> None:
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {within:.0f}s")
        time.sleep(0.05)


def run_outage(broker: str, pg_url: str, topic: str, publisher: Publisher, cut: Callable[[], None],
               restore: Callable[[], None], read: Callable[[], list[int]], events: int = EVENTS) -> Figures:
    """Relay `events` events from a PostgreSQL outbox to `topic` while `cut()` ... `restore()` takes the broker away
    for OUTAGE_SECONDS; `read()` returns the "n" of every copy the broker holds afterwards."""
    with psycopg.connect(pg_url) as conn:
        create_schema(conn)
    relay_store, watch = PostgresOutbox(pg_url), PostgresOutbox(pg_url)
    relay = Relay(relay_store, publisher, batch_size=BATCH, poll_interval=0.1, retry=RETRY)
    stop, written = threading.Event(), [0]
    relaying = threading.Thread(target=relay.run, args=(stop,), name="relay")
    writing = threading.Thread(target=_write, args=(pg_url, topic, events, written), name="writer")
    relaying.start()
    writing.start()
    try:
        _wait(lambda: written[-1] >= events // 4, 30, f"{events // 4} events written")
        cut()
        time.sleep(OUTAGE_SECONDS)
        backlog = watch.lag().rows
        restore()
        restored = time.monotonic()
        writing.join()
        _wait(lambda: watch.lag().rows == 0, DRAIN_WITHIN, "outbox drained after the broker came back")
        recovered = time.monotonic() - restored
        assert watch.lag().dead_letters == 0, "an outage of a few seconds dead-lettered rows"
    finally:
        stop.set()
        writing.join()
        relaying.join(timeout=30)
        publisher.close()
        relay_store.close()
        watch.close()
    assert not relaying.is_alive(), "the relay did not stop"
    copies = read()
    counts = Counter(copies)
    first_seen: dict[int, list[int]] = defaultdict(list)
    for n in dict.fromkeys(copies):  # first copies, in arrival order
        first_seen[n % AGGREGATES].append(n)
    return Figures(broker=broker, events=events, outage_seconds=OUTAGE_SECONDS, backlog_at_restore=backlog,
                   recovered_seconds=recovered, received=len(copies), lost=len(set(range(events)) - set(counts)),
                   duplicates=len(copies) - len(counts), bound=BATCH,
                   first_arrivals_in_order=all(ns == sorted(ns) for ns in first_seen.values()))


def read_kafka_topic(bootstrap: str, topic: str) -> list[int]:
    """Every record of `topic` up to its high watermarks (all partitions, in partition order), as the payload's "n"."""
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"check-{uuid.uuid4().hex[:8]}",
                         "enable.auto.commit": False, "log_level": 0})
    try:
        partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
        ends = {p: consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1] for p in partitions}
        consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in partitions])
        by_partition: dict[int, list[int]] = defaultdict(list)
        read, deadline = dict.fromkeys(partitions, 0), time.monotonic() + 20
        while any(read[p] < ends[p] for p in partitions) and time.monotonic() < deadline:
            for record in consumer.consume(500, timeout=0.5):
                if not record.error():
                    read[record.partition()] = record.offset() + 1
                    by_partition[record.partition()].append(json.loads(record.value())["n"])
        assert all(read[p] >= ends[p] for p in partitions), f"{topic}: read up to {read}, expected {ends}"
        return [n for p in sorted(by_partition) for n in by_partition[p]]
    finally:
        consumer.close()
