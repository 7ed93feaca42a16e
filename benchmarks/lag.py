"""How long one `edakit lag serve` scrape takes at a realistic size.

- lag_scrape_seconds: one collection (reachability check, groups, offsets, watermarks, the next record's timestamp
  of every lagging partition) of GROUPS consumer groups over PARTITIONS partitions (one topic per group) on Tansu,
  every partition lagging. A report against the scrape interval (keep it well under 15 s, Prometheus's default
  interval), not a ratio: there is no bare baseline that measures the same thing.
"""

from __future__ import annotations

import time

from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from benchmarks.harness import Figure, Group, Sides
from edakit.devservers import tansu_broker
from edakit.observability.lag import open_target

GROUPS = 50
PARTITIONS = 1000
RECORDS_PER_PARTITION = 3
COMMITTED = 1  # every group has consumed one record per partition: each partition lags by 2


def prepare(bootstrap: str) -> None:
    per_topic = PARTITIONS // GROUPS
    topics = [f"bench-lag-{n}" for n in range(GROUPS)]
    admin = AdminClient({"bootstrap.servers": bootstrap})
    for future in admin.create_topics([NewTopic(t, per_topic, 1) for t in topics], operation_timeout=60).values():
        future.result()
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 20})
    for topic in topics:
        for partition in range(per_topic):
            for n in range(RECORDS_PER_PARTITION):
                producer.produce(topic, f"r{n}".encode(), partition=partition)
    if producer.flush(60):
        raise RuntimeError("lag bench: records not acknowledged")
    for n, topic in enumerate(topics):
        committer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"bench-group-{n}"})
        committer.commit(offsets=[TopicPartition(topic, p, COMMITTED) for p in range(per_topic)], asynchronous=False)
        committer.close()


def _scrape(bootstrap: str) -> Sides:
    prepare(bootstrap)
    collector = open_target(f"kafka://{bootstrap}", groups=["bench-group-*"])

    def scrape() -> float:
        started = time.monotonic()
        collector.check(30)
        report = collector.collect(30)
        seconds = time.monotonic() - started
        partitions = sum(len(g.partitions) for g in report.groups)
        lagging = sum(p.lag_messages for g in report.groups for p in g.partitions)
        if (len(report.groups), partitions) != (GROUPS, PARTITIONS) or lagging != PARTITIONS * (
                RECORDS_PER_PARTITION - COMMITTED) or any("time lag unknown" in n for n in report.notes):
            raise RuntimeError(f"lag bench: unexpected report ({len(report.groups)} groups, {partitions} "
                               f"partitions, lag {lagging}, notes {report.notes})")
        return seconds

    return Sides(kit=scrape, close=collector.close)


GROUP = Group("lag", [
    Figure("lag_scrape_seconds", f"none: one scrape of {GROUPS} groups over {PARTITIONS} lagging partitions on "
           "Tansu, seconds (keep well under the 15 s scrape interval)", _scrape, kind="value", unit="s",
           target=("<=", 15.0), budget=20, max_rounds=7, warmup=False),
], context=tansu_broker)
