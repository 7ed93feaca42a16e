"""Kafka lag on real brokers: a consumer group that lags by a known number of records per partition, and by a known
time (records carry producer timestamps); group membership decides the advice (noida-db describes members, Tansu
does not, which the report says instead of guessing)."""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from click.testing import CliRunner
from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from edakit.cli import main
from edakit.observability import metrics_names as m
from edakit.observability.lag import GroupLag, KafkaCollector, advise, open_target

AGE = {0: 120.0, 1: 30.0, 2: 5.0}  # seconds before now each partition's records were produced
PER_PARTITION = 10
COMMITTED = {0: 4, 1: 7}  # partition 2: no commit (the group counts from the low watermark)


def create(bootstrap: str, topic: str, partitions: int) -> None:
    admin = AdminClient({"bootstrap.servers": bootstrap})
    for future in admin.create_topics([NewTopic(topic, partitions, 1)], operation_timeout=10).values():
        future.result()


def produce(bootstrap: str, topic: str, ages: dict[int, float], count: int) -> None:
    # linger.ms batches the records of a partition together: a broker must count every record of a batch
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 20})
    now_ms = int(time.time() * 1000)
    for partition, age in ages.items():
        for n in range(count):
            producer.produce(topic, f"r{n}".encode(), partition=partition, timestamp=now_ms - int(age * 1000) + n)
    assert producer.flush(15) == 0


def member(bootstrap: str, group: str, topic: str) -> Consumer:
    """A consumer that has joined `group` (owns partitions) and commits nothing by itself."""
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group, "enable.auto.commit": False,
                         "auto.offset.reset": "earliest", "session.timeout.ms": 6000, "heartbeat.interval.ms": 500})
    consumer.subscribe([topic])
    deadline = time.monotonic() + 20
    while not consumer.assignment() and time.monotonic() < deadline:
        consumer.poll(0.2)
    assert consumer.assignment(), "the consumer did not join its group"
    return consumer


@pytest.fixture(scope="module")
def lagging_group(tansu_bootstrap: str) -> Iterator[tuple[str, str]]:
    topic, group = f"orders-{uuid.uuid4().hex[:6]}", f"billing-{uuid.uuid4().hex[:6]}"
    create(tansu_bootstrap, topic, 3)
    produce(tansu_bootstrap, topic, AGE, PER_PARTITION)
    consumer = member(tansu_bootstrap, group, topic)
    consumer.commit(offsets=[TopicPartition(topic, p, o) for p, o in COMMITTED.items()], asynchronous=False)
    yield topic, group
    consumer.close()


def one_group(report, group: str) -> GroupLag:  # noqa: ANN001
    [found] = [g for g in report.groups if g.group == group]
    return found


def test_lag_per_partition_in_messages_and_seconds_on_tansu(tansu_bootstrap: str,
                                                           lagging_group: tuple[str, str]) -> None:
    topic, group = lagging_group
    collector = open_target(f"kafka://{tansu_bootstrap}", groups=[group])
    collector.check(5)
    started = time.time()
    report = collector.collect(5)
    g = one_group(report, group)
    rows = {p.partition: p for p in g.partitions}
    assert {p: (r.committed_offset, r.end_offset, r.lag_messages) for p, r in rows.items()} == {
        0: (4, 10, 6), 1: (7, 10, 3), 2: (None, 10, 10)}
    assert g.lag_messages == 19
    for partition, row in rows.items():
        # the record at the committed offset (the n-th) was stamped AGE - n/1000 s before `started`
        produced_ago = AGE[partition] - (row.committed_offset or 0) / 1000
        assert produced_ago - 1 <= row.lag_seconds <= produced_ago + (time.time() - started) + 15, (partition, row)
    assert g.lag_seconds == rows[0].lag_seconds
    # Tansu answers DescribeGroups without members: the advice says it cannot tell rather than "add consumers"
    assert g.state == "STABLE" and g.members is None and g.advice == "unknown"
    assert not [n for n in report.notes if "time lag unknown" in n]


def test_a_caught_up_group_has_no_lag_and_no_advice(tansu_bootstrap: str) -> None:
    topic, group = f"paid-{uuid.uuid4().hex[:6]}", f"ship-{uuid.uuid4().hex[:6]}"
    create(tansu_bootstrap, topic, 2)
    produce(tansu_bootstrap, topic, {0: 1.0, 1: 1.0}, 3)
    committer = Consumer({"bootstrap.servers": tansu_bootstrap, "group.id": group})  # commits without joining
    committer.commit(offsets=[TopicPartition(topic, p, 3) for p in (0, 1)], asynchronous=False)
    committer.close()
    g = one_group(open_target(f"kafka://{tansu_bootstrap}", groups=[group]).collect(5), group)
    assert [(p.lag_messages, p.lag_seconds) for p in g.partitions] == [(0, 0.0), (0, 0.0)]
    assert g.state == "EMPTY" and g.members == 0 and g.advice == "none"


def test_advice_follows_members_against_partitions_on_noida(noida_bootstrap: str) -> None:
    wide, narrow = f"wide-{uuid.uuid4().hex[:6]}", f"narrow-{uuid.uuid4().hex[:6]}"
    create(noida_bootstrap, wide, 3)
    create(noida_bootstrap, narrow, 1)
    produce(noida_bootstrap, wide, {0: 1.0, 1: 1.0, 2: 1.0}, 4)
    produce(noida_bootstrap, narrow, {0: 1.0}, 4)
    few, full = f"few-{uuid.uuid4().hex[:6]}", f"full-{uuid.uuid4().hex[:6]}"
    consumers = [member(noida_bootstrap, few, wide), member(noida_bootstrap, full, narrow)]
    try:
        consumers[0].commit(offsets=[TopicPartition(wide, p, 1) for p in range(3)], asynchronous=False)
        consumers[1].commit(offsets=[TopicPartition(narrow, 0, 1)], asynchronous=False)
        report = open_target(f"kafka://{noida_bootstrap}", groups=["few-*", "full-*"]).collect(5)
    finally:
        for consumer in consumers:
            consumer.close()
    lagging_few, lagging_full = one_group(report, few), one_group(report, full)
    assert (lagging_few.members, lagging_few.lag_messages, lagging_few.advice) == (1, 9, "add_consumers")
    assert "add up to 2 consumer(s)" in lagging_few.advice_text
    assert (lagging_full.members, lagging_full.lag_messages, lagging_full.advice) == (1, 3, "add_partitions")


@pytest.mark.parametrize(("lagging", "members", "partitions", "advice"), [
    (False, 1, 3, "none"), (True, None, 3, "unknown"), (True, 0, 3, "add_consumers"), (True, 2, 3, "add_consumers"),
    (True, 3, 3, "add_partitions"), (True, 5, 3, "add_partitions"),
])
def test_advice(lagging: bool, members: int | None, partitions: int, advice: str) -> None:
    assert advise(lagging, members, partitions)[0] == advice


@settings(max_examples=200, deadline=None)
@given(members=st.integers(0, 500), partitions=st.integers(1, 500))
def test_advice_never_suggests_idle_consumers(members: int, partitions: int) -> None:
    advice, text = advise(True, members, partitions)
    assert advice in m.ADVICE_VALUES
    assert (advice == "add_consumers") == (members < partitions)  # "max = partition count"
    if advice == "add_consumers":
        suggested = int(re.search(r"(?:add|start) up to (\d+)", text)[1])
        assert 1 <= suggested and members + suggested == partitions


def test_cli_table_and_json(tansu_bootstrap: str, lagging_group: tuple[str, str]) -> None:
    topic, group = lagging_group
    runner = CliRunner()
    result = runner.invoke(main, ["lag", "--broker", f"kafka://{tansu_bootstrap}", "--group", group])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == f"kafka kafka://{tansu_bootstrap}"
    assert lines[1].split() == ["GROUP", "TOPIC", "PARTITION", "COMMITTED", "END", "LAG", "LAG", "SECONDS"]
    assert lines[2].split()[:6] == [group, topic, "0", "4", "10", "6"]
    assert lines[4].split()[:6] == [group, topic, "2", "-", "10", "10"]
    assert f"group {group} (stable, members unknown): lag 19 message(s)" in result.stdout
    result = runner.invoke(main, ["lag", "--broker", f"kafka://{tansu_bootstrap}", "--group", group,
                                  "--format", "json"])
    [report] = json.loads(result.stdout)
    assert report["kind"] == "kafka" and report["groups"][0]["lag_messages"] == 19


def test_no_group_is_a_note_not_an_empty_table(tansu_bootstrap: str) -> None:
    report = KafkaCollector(open_target(f"kafka://{tansu_bootstrap}")._broker, "t", ["no-such-group-*"]).collect(5)
    assert report.groups == [] and report.notes == ["no consumer groups matching no-such-group-*"]
