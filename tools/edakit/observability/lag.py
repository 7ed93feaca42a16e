"""Consumer lag for every broker: one collector per broker kind behind one small interface, figures as dataclasses.

`edakit lag` prints what `collect()` returns; `edakit lag serve` exports the same figures to Prometheus
(exporter.py). A collector is opened from the address a user gives (`open_target`, the same URLs as `edakit dlq` and
`edakit outbox`), is checked first (`check`: an unreachable broker is an error, never an empty report) and then
collects. What a broker cannot tell (moto emits no CloudWatch metrics, an emulator has no Cloud Monitoring) is a note
in the report, never a made-up figure.

- Kafka (per group and partition, as kminion and Burrow report it): lag = end offset - committed offset; the end
  offset is the partition's high watermark. A partition of a topic the group has committed on, but not on this
  partition, counts from its low watermark (the kit's consumers start at the earliest offset). Time lag = now - the
  timestamp of the first record not yet consumed (the record at the committed offset; 0 when caught up), read with a
  consumer that is assigned partitions and never joins or commits for any group. Group membership comes from
  DescribeGroups: a lagging group with fewer members than the lagging topic's partitions can add consumers; one with
  as many (or more) needs more partitions, since extra members sit idle.
- SQS: visible, in flight and delayed from the queue attributes; the DLQ is the queue its RedrivePolicy names. The
  age of the oldest message is CloudWatch's ApproximateAgeOfOldestMessage (Maximum over the last minutes); messages
  are never received to measure it (a receive counts towards maxReceiveCount and hides the message).
- Pub/Sub: the subscriptions and their dead-letter topics; backlog and oldest unacked age from Cloud Monitoring
  where configured (timeSeries.list of subscription/num_undelivered_messages and oldest_unacked_message_age). An
  emulator (pstest) has no Cloud Monitoring: the report says so.
- Event Grid: dead-lettered blobs (and the events in them) per event subscription in the dead-letter container.
- Outbox: rows waiting, the oldest row's age, failing and dead-lettered rows (`OutboxStore.lag()`).
- Event store: every relay's tracking record and, given a read model's query database, its projection's, each with
  the events behind the log head and the age of the oldest one (`edakit.es.inspect.positions`, what `edakit es
  positions` reports).
"""

from __future__ import annotations

import fnmatch
import json
import os
import time
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timedelta, timezone
from typing import Any, Protocol

from edakit.redact import redact
from edakit.runtime.adapters.base import BrokerError, BrokerUnreachable
from edakit.runtime.adapters.urls import (BrokerUrlError, DatabaseUnreachable, check_database, open_broker,
                                          reachable_timeout)

TARGETS = ("kafka://HOST:PORT[,...], sqs: or sqs:ENDPOINT_URL, pubsub:PROJECT or pubsub://HOST:PORT/PROJECT, "
           "postgresql://... or sqlite:PATH (an outbox), azblob:CONTAINER (Event Grid dead letters; the connection "
           "string from AZURE_STORAGE_CONNECTION_STRING)")
STORE_TARGET = "an event store (sqlite:PATH or postgresql://...), with --app and, for a projection, --query and --model"
AZURE_CONNECTION_ENV = "AZURE_STORAGE_CONNECTION_STRING"
READER_GROUP = "edakit-lag-reader"  # group.id of the timestamp reader; it is only assigned partitions, never joins
CLOUDWATCH_WINDOW = timedelta(minutes=5)  # SQS metrics arrive once a minute; a few minutes tolerate their delay


class LagError(BrokerError):
    """A target answered the check but the figures could not be read (permissions, a broker error)."""


# --- figures --------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class PartitionLag:
    topic: str
    partition: int
    committed_offset: int | None  # None: the group has no commit on this partition
    start_offset: int  # low watermark
    end_offset: int  # high watermark
    lag_messages: int
    lag_seconds: float | None  # None: the record's timestamp could not be read in time


@dataclass(frozen=True)
class GroupLag:
    group: str
    state: str
    members: int | None  # None: the broker described no members of an active group (Tansu does)
    partitions: list[PartitionLag]
    advice: str  # one of metrics_names.ADVICE_VALUES
    advice_text: str

    @property
    def lag_messages(self) -> int:
        return sum(p.lag_messages for p in self.partitions)

    @property
    def lag_seconds(self) -> float | None:
        """The oldest unconsumed record's age over the group's partitions (None when no partition's is known)."""
        return max((p.lag_seconds for p in self.partitions if p.lag_seconds is not None), default=None)


@dataclass(frozen=True)
class QueueDepth:
    queue: str
    visible: int
    in_flight: int
    delayed: int
    dlq: str | None
    dlq_visible: int | None
    oldest_age_seconds: float | None  # None: no CloudWatch datapoint (see the report's notes)


@dataclass(frozen=True)
class SubscriptionBacklog:
    subscription: str
    topic: str
    dead_letter_topic: str | None
    backlog_messages: int | None  # None: Cloud Monitoring not available (see notes)
    oldest_unacked_age_seconds: float | None


@dataclass(frozen=True)
class DeadLetterBlobs:
    subscription: str  # the event subscription, as Event Grid names its blobs (upper case)
    blobs: int
    events: int
    oldest_blob: datetime | None


@dataclass(frozen=True)
class OutboxLag:
    relay: str  # database (redacted) and table
    rows: int
    oldest_age_seconds: float
    failing_rows: int
    dead_letters: int
    dead_letters_blocking: int


@dataclass(frozen=True)
class FollowerLag:
    """A relay or projection of an event store: where its tracking record is, and how far behind the log head."""

    follower: str  # relay | projection
    name: str  # the relay's name, the read model's name (its tracking record without the `relay:` / `projection:`)
    position: int  # last notification id handled (0: none)
    head: int  # last notification id in the log
    events_behind: int
    seconds_behind: float  # age of the oldest event not yet handled (0.0 when caught up)


@dataclass(frozen=True)
class TopicPartitionOffsets:
    """A Kafka partition's low and high watermark (every topic, consumed or not: DLQ topics are read by nobody)."""

    topic: str
    partition: int
    start_offset: int
    end_offset: int


@dataclass
class Report:
    """What one target answered: its figures and what it could not tell."""

    kind: str  # kafka | sqs | pubsub | eventgrid | outbox | eventstore
    target: str  # the address, redacted
    groups: list[GroupLag] = field(default_factory=list)
    topics: list[TopicPartitionOffsets] = field(default_factory=list)
    queues: list[QueueDepth] = field(default_factory=list)
    subscriptions: list[SubscriptionBacklog] = field(default_factory=list)
    dead_letters: list[DeadLetterBlobs] = field(default_factory=list)
    outboxes: list[OutboxLag] = field(default_factory=list)
    followers: list[FollowerLag] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        for group, raw in zip(self.groups, data["groups"], strict=True):
            raw["lag_messages"], raw["lag_seconds"] = group.lag_messages, group.lag_seconds
        for raw in data["dead_letters"]:
            raw["oldest_blob"] = raw["oldest_blob"].isoformat() if raw["oldest_blob"] else None
        return data


class Collector(Protocol):
    kind: str
    target: str  # redacted

    def check(self, timeout: float) -> None:
        """Raise BrokerUnreachable (or DatabaseUnreachable) unless the target answers within `timeout` s."""

    def collect(self, timeout: float) -> Report:
        """The figures; each broker request waits at most `timeout` s."""

    def close(self) -> None: ...


def open_target(url: str, *, groups: Sequence[str] = (), table: str = "outbox",
                gcp_monitoring: str | None = None) -> Collector:
    """The collector for `url` (see TARGETS); `groups`: Kafka group / SQS queue / subscription name globs to keep;
    `gcp_monitoring`: the Cloud Monitoring API root Pub/Sub backlog is read from (None: not read)."""
    if url.startswith(("postgresql://", "postgres://", "sqlite:")):
        return OutboxCollector(url, table)
    if url.startswith("azblob:"):
        return EventGridCollector(url.removeprefix("azblob:"), groups)
    broker = open_broker(url)  # BrokerUrlError for anything else
    kind = url.partition(":")[0]
    if kind == "kafka":
        return KafkaCollector(broker, redact(url), groups)  # type: ignore[arg-type]
    if kind == "sqs":
        return SqsCollector(broker, redact(url), groups)  # type: ignore[arg-type]
    if kind == "pubsub":
        return PubSubCollector(broker, redact(url), groups, monitoring=gcp_monitoring)  # type: ignore[arg-type]
    raise BrokerUrlError(f"target {redact(url)!r}: the embedded broker has no consumer lag to report; expected "
                         f"{TARGETS}")


def _kept(name: str, globs: Sequence[str]) -> bool:
    return not globs or any(fnmatch.fnmatchcase(name, g) for g in globs)


# --- Kafka ------------------------------------------------------------------------------------------------------------

def advise(lagging: bool, members: int | None, partitions: int) -> tuple[str, str]:
    """(advice, text) for a group: the troubleshooting row "add consumer instances (max = partition count)"."""
    if not lagging:
        return "none", "not lagging"
    if members is None:
        return "unknown", "the broker described no members for this group; cannot tell consumers from partitions"
    if members == 0:
        return "add_consumers", f"no consumer is running; start up to {partitions} (one per partition)"
    if members < partitions:
        return "add_consumers", (f"{members} member(s) for {partitions} partitions: add up to {partitions - members} "
                                 "consumer(s)")
    return "add_partitions", (f"{members} member(s) for {partitions} partitions: more consumers would sit idle; add "
                              "partitions (or make the handler faster)")


class KafkaCollector:
    kind = "kafka"

    def __init__(self, broker: Any, target: str, groups: Sequence[str] = ()) -> None:  # noqa: ANN401 - KafkaBroker
        self._broker, self.target, self._globs = broker, target, tuple(groups)

    def check(self, timeout: float) -> None:
        self._broker.check_reachable(timeout)

    def _admin(self) -> Any:  # noqa: ANN401
        from confluent_kafka.admin import AdminClient

        from edakit.runtime.adapters.kafka import _SILENT
        return AdminClient({"bootstrap.servers": self._broker.bootstrap_servers, "logger": _SILENT})

    def collect(self, timeout: float) -> Report:
        from confluent_kafka import ConsumerGroupTopicPartitions, KafkaException, TopicPartition
        from confluent_kafka.admin import OffsetSpec

        started = time.monotonic()
        report = Report(self.kind, self.target)
        admin = self._admin()
        try:
            listed = admin.list_consumer_groups(request_timeout=timeout).result(timeout=timeout)
            names = sorted(g.group_id for g in listed.valid if g.group_id != READER_GROUP and _kept(g.group_id,
                                                                                                   self._globs))
            if not names:
                report.notes.append("no consumer groups" + (f" matching {', '.join(self._globs)}" if self._globs
                                                            else ""))
            described = admin.describe_consumer_groups(names, request_timeout=timeout) if names else {}
            offset_futures = {name: admin.list_consumer_group_offsets([ConsumerGroupTopicPartitions(name)],
                                                                      request_timeout=timeout)[name]
                              for name in names}
            committed: dict[str, dict[tuple[str, int], int]] = {}
            for name, future in offset_futures.items():
                committed[name] = {(tp.topic, tp.partition): tp.offset
                                   for tp in future.result(timeout=timeout).topic_partitions
                                   if tp.error is None and tp.offset >= 0}
            metadata = admin.list_topics(timeout=timeout)
            partitions_of = {topic: sorted(meta.partitions) for topic, meta in metadata.topics.items()}
            wanted = sorted({(topic, p) for offsets in committed.values() for topic, _ in offsets
                             for p in partitions_of.get(topic, ())})
            # Every topic's offsets, not only the groups': a DLQ topic nobody consumes must still show its growth.
            every = sorted({(topic, p) for topic, ps in partitions_of.items() if not topic.startswith("__")
                            for p in ps} | set(wanted))
            low, high = ({}, {}) if not every else (
                self._list_offsets(admin, every, OffsetSpec.earliest(), timeout),
                self._list_offsets(admin, every, OffsetSpec.latest(), timeout))
            topics_of = {name: {topic for topic, _ in offsets} for name, offsets in committed.items()}
            # where each group's next read starts: its commit, else (or below retention) the low watermark
            positions = {(name, tp): max(committed[name].get(tp, low[tp]), low[tp])
                         for name in names for tp in wanted if tp[0] in topics_of[name]}
            stamps, fetched_high = self._read_positions(positions, timeout, started)
            for tp, value in fetched_high.items():
                # Tansu answers ListOffsets(latest) with the last batch's base offset + 1; a fetch's high watermark is
                # right on every broker, so the higher of the two is the end offset.
                high[tp] = max(high.get(tp, 0), value)
            now_ms = time.time() * 1000
            for name in names:
                description = described[name].result(timeout=timeout)
                state = description.state.name if description.state is not None else "UNKNOWN"
                members: int | None = len(description.members)
                if members == 0 and state in ("STABLE", "PREPARING_REBALANCE", "COMPLETING_REBALANCE"):
                    members = None  # an active group with no member described: the broker does not tell
                rows = []
                for tp in wanted:
                    if (name, tp) not in positions:
                        continue
                    position, end = positions[(name, tp)], max(high[tp], low[tp])
                    lag = max(end - position, 0)
                    stamp = stamps.get((tp, position))
                    seconds = 0.0 if lag == 0 else (None if stamp is None else max(now_ms - stamp, 0) / 1000)
                    rows.append(PartitionLag(tp[0], tp[1], committed[name].get(tp), low[tp], end, lag, seconds))
                lagging_topics = {r.topic for r in rows if r.lag_messages}
                width = max((len(partitions_of[t]) for t in lagging_topics), default=0)
                advice, text = advise(bool(lagging_topics), members, width)
                report.groups.append(GroupLag(name, state, members, rows, advice, text))
            report.topics = [TopicPartitionOffsets(t, p, low[(t, p)], max(high[(t, p)], low[(t, p)]))
                             for t, p in every]
            unread = sum(1 for g in report.groups for p in g.partitions if p.lag_seconds is None)
            if unread:
                report.notes.append(f"time lag unknown for {unread} partition(s): their next record was not read "
                                    f"within {timeout:g} s")
        except KafkaException as exc:
            raise LagError(f"Kafka {self.target}: {exc.args[0].str() if exc.args else exc}") from None
        report.seconds = time.monotonic() - started
        return report

    @staticmethod
    def _list_offsets(admin: Any, tps: Sequence[tuple[str, int]], spec: Any, timeout: float  # noqa: ANN401
                      ) -> dict[tuple[str, int], int]:
        from confluent_kafka import TopicPartition

        futures = admin.list_offsets({TopicPartition(t, p): spec for t, p in tps}, request_timeout=timeout)
        return {(tp.topic, tp.partition): future.result(timeout=timeout).offset for tp, future in futures.items()}

    def _read_positions(self, positions: dict[tuple[str, tuple[str, int]], int], timeout: float, started: float
                        ) -> tuple[dict[tuple[tuple[str, int], int], float], dict[tuple[str, int], int]]:
        """Timestamp (ms) of the record at each (partition, offset), and each partition's high watermark from the
        fetches. A consumer holds one position per partition, so groups at different offsets take several rounds."""
        from confluent_kafka import Consumer, KafkaError, TopicPartition

        from edakit.runtime.adapters.kafka import _SILENT
        if not positions:
            return {}, {}
        by_partition: dict[tuple[str, int], list[int]] = {}
        for (_, tp), offset in sorted(positions.items()):
            offsets = by_partition.setdefault(tp, [])
            if offset not in offsets:
                offsets.append(offset)
        stamps: dict[tuple[tuple[str, int], int], float] = {}
        high: dict[tuple[str, int], int] = {}
        reader = Consumer({"bootstrap.servers": self._broker.bootstrap_servers, "group.id": READER_GROUP,
                           "enable.auto.commit": False, "enable.auto.offset.store": False,
                           "enable.partition.eof": True, "fetch.wait.max.ms": 50, "logger": _SILENT,
                           "isolation.level": "read_uncommitted", "fetch.max.bytes": 1_048_576,
                           "max.partition.fetch.bytes": 65_536})
        deadline = started + timeout
        try:
            rounds = max(len(v) for v in by_partition.values())
            for n in range(rounds):
                todo = {tp: offsets[n] for tp, offsets in by_partition.items() if n < len(offsets)}
                reader.assign([TopicPartition(t, p, offset) for (t, p), offset in todo.items()])
                pending = dict(todo)
                while pending and time.monotonic() < deadline:
                    for record in reader.consume(num_messages=500, timeout=min(0.2, max(deadline - time.monotonic(),
                                                                                        0.001))):
                        tp = (record.topic(), record.partition())
                        if tp not in pending:
                            continue
                        error = record.error()
                        if error is not None and error.code() != KafkaError._PARTITION_EOF:
                            continue
                        if error is None and record.timestamp()[1] > 0:  # 0 or -1: the record carries no time
                            stamps[(tp, pending[tp])] = record.timestamp()[1]
                        del pending[tp]
                        reader.pause([TopicPartition(*tp)])
                for t, p in todo:
                    _, hi = reader.get_watermark_offsets(TopicPartition(t, p), cached=True)
                    if hi is not None and hi >= 0:
                        high[(t, p)] = max(high.get((t, p), 0), hi)
                reader.unassign()
        finally:
            reader.close()
        return stamps, high

    def close(self) -> None:
        pass


# --- SQS --------------------------------------------------------------------------------------------------------------

class SqsCollector:
    kind = "sqs"

    def __init__(self, broker: Any, target: str, queues: Sequence[str] = ()) -> None:  # noqa: ANN401 - SqsSnsBroker
        self._broker, self.target, self._globs = broker, target, tuple(queues)

    def check(self, timeout: float) -> None:
        self._broker.check_reachable(timeout)

    def collect(self, timeout: float) -> Report:
        from botocore.config import Config
        from botocore.exceptions import BotoCoreError, ClientError

        started = time.monotonic()
        report = Report(self.kind, self.target)
        config = Config(connect_timeout=timeout, read_timeout=timeout,
                        retries={"total_max_attempts": 1, "mode": "standard"})
        session, endpoint = self._broker._session, self._broker.endpoint_url
        sqs = session.client("sqs", endpoint_url=endpoint, config=config)
        try:
            urls: list[str] = []
            for page in sqs.get_paginator("list_queues").paginate(PaginationConfig={"PageSize": 1000}):
                urls.extend(page.get("QueueUrls", []))
            attributes = {}
            for url in urls:
                attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
                attributes[attrs["QueueArn"]] = (url, attrs)
            dlq_arns = set()
            for _, attrs in attributes.values():
                if "RedrivePolicy" in attrs:
                    dlq_arns.add(json.loads(attrs["RedrivePolicy"]).get("deadLetterTargetArn"))
            for arn, (url, attrs) in sorted(attributes.items(), key=lambda kv: kv[1][0]):
                name = arn.rsplit(":", 1)[-1]
                if arn in dlq_arns or not _kept(name, self._globs):
                    continue  # a DLQ is reported with the queue that redrives into it
                dlq_arn = json.loads(attrs["RedrivePolicy"]).get("deadLetterTargetArn") if "RedrivePolicy" in attrs \
                    else None
                dlq = attributes.get(dlq_arn) if dlq_arn else None
                report.queues.append(QueueDepth(
                    name, int(attrs.get("ApproximateNumberOfMessages", 0)),
                    int(attrs.get("ApproximateNumberOfMessagesNotVisible", 0)),
                    int(attrs.get("ApproximateNumberOfMessagesDelayed", 0)),
                    dlq_arn.rsplit(":", 1)[-1] if dlq_arn else None,
                    int(dlq[1].get("ApproximateNumberOfMessages", 0)) if dlq else None, None))
        except (BotoCoreError, ClientError) as exc:
            raise LagError(f"SQS {self.target}: {exc}") from None
        finally:
            sqs.close()
        if report.queues:
            self._oldest_ages(report, session, endpoint, config)
        else:
            report.notes.append("no queues" + (f" matching {', '.join(self._globs)}" if self._globs else ""))
        report.seconds = time.monotonic() - started
        return report

    @staticmethod
    def _oldest_ages(report: Report, session: Any, endpoint: str | None, config: Any) -> None:  # noqa: ANN401
        """ApproximateAgeOfOldestMessage from CloudWatch (GetMetricData, 500 queries a call); never a receive."""
        from botocore.exceptions import BotoCoreError, ClientError

        cloudwatch = session.client("cloudwatch", endpoint_url=endpoint, config=config)
        end = datetime.now(timezone.utc)
        ages: dict[str, float] = {}
        try:
            for chunk in range(0, len(report.queues), 500):
                queries = [{"Id": f"q{n}", "ReturnData": True, "MetricStat": {
                    "Metric": {"Namespace": "AWS/SQS", "MetricName": "ApproximateAgeOfOldestMessage",
                               "Dimensions": [{"Name": "QueueName", "Value": q.queue}]},
                    "Period": 60, "Stat": "Maximum"}}
                    for n, q in enumerate(report.queues[chunk:chunk + 500], start=chunk)]
                answer = cloudwatch.get_metric_data(MetricDataQueries=queries, StartTime=end - CLOUDWATCH_WINDOW,
                                                    EndTime=end, ScanBy="TimestampDescending")
                for result in answer.get("MetricDataResults", []):
                    if result.get("Values"):
                        ages[result["Id"]] = float(result["Values"][0])  # the newest datapoint
        except (BotoCoreError, ClientError) as exc:
            report.notes.append(f"age of the oldest message unknown: CloudWatch GetMetricData failed ({exc})")
            return
        finally:
            cloudwatch.close()
        report.queues[:] = [q if f"q{n}" not in ages else replace(q, oldest_age_seconds=ages[f"q{n}"])
                            for n, q in enumerate(report.queues)]
        missing = [q.queue for q in report.queues if q.oldest_age_seconds is None]
        if missing:
            report.notes.append(
                f"age of the oldest message unknown for {len(missing)} queue(s): CloudWatch has no "
                f"ApproximateAgeOfOldestMessage datapoint in the last {int(CLOUDWATCH_WINDOW.total_seconds() // 60)} "
                "minutes (moto and other emulators emit no SQS metrics; messages are not received to measure it, "
                "since a receive counts as a delivery)")

    def close(self) -> None:
        pass


# --- Pub/Sub ----------------------------------------------------------------------------------------------------------

MONITORING_API = "https://monitoring.googleapis.com"
MONITORING_SCOPE = "https://www.googleapis.com/auth/monitoring.read"
BACKLOG_METRIC = "pubsub.googleapis.com/subscription/num_undelivered_messages"
OLDEST_UNACKED_METRIC = "pubsub.googleapis.com/subscription/oldest_unacked_message_age"
MONITORING_WINDOW = timedelta(minutes=5)  # Pub/Sub metrics are sampled every minute and visible a few minutes later
MONITORING_MAX_PAGES = 100


class PubSubCollector:
    """`monitoring`: the Cloud Monitoring API root to read backlog and oldest unacked age from (None: not configured);
    `credentials`: google-auth credentials for it (default: Application Default Credentials)."""

    kind = "pubsub"

    def __init__(self, broker: Any, target: str, subscriptions: Sequence[str] = (),  # noqa: ANN401
                 monitoring: str | None = None, credentials: Any = None) -> None:  # noqa: ANN401
        self._broker, self.target, self._globs = broker, target, tuple(subscriptions)
        self._monitoring, self._credentials = monitoring, credentials

    def check(self, timeout: float) -> None:
        self._broker.check_reachable(timeout)

    def collect(self, timeout: float) -> Report:
        from google.api_core.exceptions import GoogleAPICallError

        started = time.monotonic()
        report = Report(self.kind, self.target)
        client = self._broker.subscriber_client()
        try:
            for sub in client.list_subscriptions(request={"project": f"projects/{self._broker.project}"},
                                                 timeout=timeout, retry=None):
                name = sub.name.rsplit("/", 1)[-1]
                if not _kept(name, self._globs):
                    continue
                dead = sub.dead_letter_policy.dead_letter_topic if sub.dead_letter_policy else ""
                report.subscriptions.append(SubscriptionBacklog(
                    name, sub.topic.rsplit("/", 1)[-1], dead.rsplit("/", 1)[-1] or None, None, None))
        except GoogleAPICallError as exc:
            raise LagError(f"Pub/Sub {self.target}: {exc.message}") from None
        finally:
            client.close()
        if self._monitoring is not None and report.subscriptions:
            self._from_monitoring(report, timeout)
        elif self._broker.emulator_host:
            report.notes.append("backlog and oldest unacked age unknown: an emulator (pstest, gcloud's) has no Cloud "
                                "Monitoring (subscription/num_undelivered_messages, oldest_unacked_message_age)")
        else:
            report.notes.append("backlog and oldest unacked age unknown: Cloud Monitoring not configured "
                                "(--gcp-monitoring reads subscription/num_undelivered_messages and "
                                "oldest_unacked_message_age)")
        if not report.subscriptions:
            report.notes.append("no subscriptions" + (f" matching {', '.join(self._globs)}" if self._globs else ""))
        report.seconds = time.monotonic() - started
        return report

    def _from_monitoring(self, report: Report, timeout: float) -> None:
        """The newest point of both metrics per subscription over the last minutes (timeSeries.list, REST)."""
        import google.auth
        import requests
        from google.auth.exceptions import GoogleAuthError
        from google.auth.transport.requests import AuthorizedSession

        end = datetime.now(timezone.utc)
        stamp = lambda t: t.strftime("%Y-%m-%dT%H:%M:%SZ")  # noqa: E731 - RFC 3339, as the API wants it
        values: dict[str, dict[str, float]] = {BACKLOG_METRIC: {}, OLDEST_UNACKED_METRIC: {}}
        url = f"{self._monitoring.rstrip('/')}/v3/projects/{self._broker.project}/timeSeries"
        try:
            credentials = self._credentials or google.auth.default(scopes=[MONITORING_SCOPE])[0]
            session = AuthorizedSession(credentials)
            for metric, found in values.items():
                params = {"filter": f'metric.type = "{metric}" AND resource.type = "pubsub_subscription"',
                          "interval.startTime": stamp(end - MONITORING_WINDOW), "interval.endTime": stamp(end)}
                for _ in range(MONITORING_MAX_PAGES):
                    answer = session.get(url, params=params, timeout=timeout)
                    answer.raise_for_status()
                    page = answer.json()
                    for series in page.get("timeSeries", []):
                        points = series.get("points") or []
                        if points:  # newest first
                            value = points[0]["value"]
                            found[series["resource"]["labels"]["subscription_id"]] = float(
                                value.get("int64Value", value.get("doubleValue", 0)))
                    if not page.get("nextPageToken"):
                        break
                    params["pageToken"] = page["nextPageToken"]
        except (GoogleAuthError, requests.RequestException, ValueError, KeyError, TypeError) as exc:
            report.notes.append(f"backlog and oldest unacked age unknown: Cloud Monitoring "
                                f"{redact(str(exc)).splitlines()[0] if str(exc) else type(exc).__name__}")
            return
        report.subscriptions[:] = [
            replace(s, backlog_messages=None if (b := values[BACKLOG_METRIC].get(s.subscription)) is None else int(b),
                    oldest_unacked_age_seconds=values[OLDEST_UNACKED_METRIC].get(s.subscription))
            for s in report.subscriptions]
        missing = [s.subscription for s in report.subscriptions if s.backlog_messages is None]
        if missing:
            report.notes.append(f"backlog unknown for {len(missing)} subscription(s): Cloud Monitoring has no point in "
                                f"the last {int(MONITORING_WINDOW.total_seconds() // 60)} minutes")

    def close(self) -> None:
        pass


# --- Event Grid -------------------------------------------------------------------------------------------------------

class EventGridCollector:
    """Dead letters Event Grid wrote to one container (`azblob:CONTAINER`, connection string from the environment)."""

    kind = "eventgrid"

    def __init__(self, container: str, subscriptions: Sequence[str] = ()) -> None:
        if not container or "/" in container:
            raise BrokerUrlError(f"target 'azblob:{container}': expected azblob:CONTAINER (the dead-letter container)")
        self.container, self.target, self._globs = container, f"azblob:{container}", tuple(subscriptions)
        if not os.environ.get(AZURE_CONNECTION_ENV):
            raise BrokerUrlError(f"target {self.target!r}: set {AZURE_CONNECTION_ENV} to the storage account's "
                                 "connection string")

    def _container(self, timeout: float) -> Any:  # noqa: ANN401 - ContainerClient
        from azure.storage.blob import ContainerClient

        connection = os.environ.get(AZURE_CONNECTION_ENV)
        if not connection:
            raise BrokerUrlError(f"target {self.target!r}: set {AZURE_CONNECTION_ENV} to the storage account's "
                                 "connection string")
        return ContainerClient.from_connection_string(connection, self.container, connection_timeout=timeout,
                                                      read_timeout=timeout, retry_total=0)

    def check(self, timeout: float) -> None:
        from azure.core.exceptions import AzureError, ResourceNotFoundError

        client = self._container(timeout)
        try:
            client.get_container_properties(timeout=max(1, round(timeout)))
        except ResourceNotFoundError:
            raise LagError(f"Event Grid dead-letter container {self.container!r} does not exist") from None
        except AzureError as exc:
            raise BrokerUnreachable(f"Azure Blob storage ({self.target}): {redact(str(exc)).splitlines()[0]}") from None
        finally:
            client.close()

    def collect(self, timeout: float) -> Report:
        from azure.core.exceptions import AzureError

        from edakit.runtime.adapters.eventgrid import read_dead_letters

        started = time.monotonic()
        report = Report(self.kind, self.target)
        client = self._container(timeout)
        try:
            blobs: dict[str, list[datetime]] = {}
            for blob in client.list_blobs(timeout=max(1, round(timeout))):
                subscription = blob.name.partition("/")[0]
                if _kept(subscription, tuple(g.upper() for g in self._globs)):
                    blobs.setdefault(subscription, []).append(blob.last_modified)
            for subscription, times in sorted(blobs.items()):
                events = sum(1 for _ in read_dead_letters(client, subscription))
                report.dead_letters.append(DeadLetterBlobs(subscription, len(times), events, min(times)))
        except AzureError as exc:
            raise LagError(f"Event Grid dead letters {self.target}: {redact(str(exc)).splitlines()[0]}") from None
        finally:
            client.close()
        report.notes.append("delivery metrics (DeliveryAttemptFailCount, DeadLetteredCount) are Azure Monitor's; this "
                            "version does not query Azure Monitor")
        report.seconds = time.monotonic() - started
        return report

    def close(self) -> None:
        pass


# --- outbox -----------------------------------------------------------------------------------------------------------

class OutboxCollector:
    kind = "outbox"

    def __init__(self, url: str, table: str = "outbox") -> None:
        self._url, self._table = url, table
        self.target = redact(url)

    def check(self, timeout: float) -> None:
        check_database(self._url, timeout)

    def collect(self, timeout: float) -> Report:
        from edakit.runtime.outbox import open_outbox

        started = time.monotonic()
        report = Report(self.kind, self.target)
        try:
            store = open_outbox(self._url, self._table)
        except Exception as exc:  # noqa: BLE001 - the drivers' errors, a missing table: one line for the operator
            raise LagError(f"outbox {self.target} table {self._table}: {redact(str(exc))}") from None
        try:
            lag = store.lag()
        except Exception as exc:  # noqa: BLE001
            raise LagError(f"outbox {self.target} table {self._table}: {redact(str(exc))}") from None
        finally:
            store.close()
        report.outboxes.append(OutboxLag(f"{self.target}#{self._table}", lag.rows, lag.oldest_age_seconds,
                                         lag.failing_rows, lag.dead_letters, lag.dead_letters_blocking))
        report.seconds = time.monotonic() - started
        return report

    def close(self) -> None:
        pass


# --- event store -----------------------------------------------------------------------------------------------------

FOLLOWER_PREFIXES = {"relay:": "relay", "projection:": "projection"}  # tracking record names (edakit.es)


def followers(found: Iterable[Any]) -> list[FollowerLag]:
    """`edakit.es.relay.Position`s as figures: a `relay:<name>` or `projection:<name>` tracking record is that
    follower; other tracking records (no follower of the kit's) are left out."""
    out = []
    for p in found:
        prefix = next((k for k in FOLLOWER_PREFIXES if p.name.startswith(k)), None)
        if prefix is not None:
            out.append(FollowerLag(FOLLOWER_PREFIXES[prefix], p.name.removeprefix(prefix), p.position, p.head,
                                   p.events_behind, p.seconds_behind))
    return out


class EventStoreCollector:
    """The relays of one event store and, given `query_url`, the projection of one read model: their positions from
    `edakit.es.inspect.positions` (the queries `edakit es positions` runs), never written to. The tables are the
    application's own (`CREATE_TABLE=no`); opening the read model's view creates its tracking table when missing,
    as `edakit es positions` does."""

    kind = "eventstore"

    def __init__(self, store_url: str, app_path: str, query_url: str | None = None,
                 model_path: str | None = None) -> None:
        from edakit.es.inspect import InspectError, load_class
        from edakit.es.projection import ReadModel
        from edakit.es.store import SchemaApplication, StoreUrlError, store_env

        self._store_url, self._query_url = store_url, query_url
        self.target = redact(store_url)
        try:
            self._env = {**store_env(store_url), "CREATE_TABLE": "no"}
            if query_url is not None:
                store_env(query_url)
            self._app_class = load_class(app_path, SchemaApplication, "--app")
            self._model = None
            if query_url is not None:
                if model_path is None:
                    raise InspectError("--query: give the read model (--model module:Class) it holds")
                self._model = load_class(model_path, ReadModel, "--model")
        except (StoreUrlError, InspectError) as exc:
            raise BrokerUrlError(redact(str(exc))) from None

    def check(self, timeout: float) -> None:
        check_database(self._store_url, timeout)
        if self._query_url is not None:
            check_database(self._query_url, timeout)

    def collect(self, timeout: float) -> Report:
        import sqlite3

        import psycopg
        from eventsourcing.persistence import PersistenceError

        from edakit.es.inspect import positions
        from edakit.es.mapping import EventSchemaError
        from edakit.es.projection import open_view
        from edakit.schemas.errors import SchemaError

        started = time.monotonic()
        report = Report(self.kind, self.target)
        app = view = None
        try:
            app = self._app_class(env={**self._env, "POSTGRES_CONNECT_TIMEOUT": str(max(1, round(timeout)))})
            app.recorder.max_notification_id()  # a database without the store's events table is an error, not "[]"
            view = None if self._model is None else open_view(self._model, self._query_url)
            found = positions(app, view)
        except (PersistenceError, psycopg.Error, sqlite3.Error, EventSchemaError, SchemaError) as exc:
            line = (str(exc).splitlines() or [type(exc).__name__])[0]
            raise LagError(f"event store {self.target}: {redact(line)}") from None
        finally:
            if view is not None:
                view.datastore.close()
            if app is not None:
                app.close()
        report.followers = followers(found)
        if not report.followers:
            report.notes.append("no relay or projection has recorded a position in this store")
        report.seconds = time.monotonic() - started
        return report

    def close(self) -> None:
        pass


def collect_all(collectors: Iterable[Collector], timeout: float | None = None) -> list[Report]:
    """Check, then collect, every target in turn (the CLI: the first unreachable one raises)."""
    timeout = reachable_timeout() if timeout is None else timeout
    collectors = list(collectors)
    for collector in collectors:
        collector.check(timeout)
    return [collector.collect(timeout) for collector in collectors]


UNREACHABLE = (BrokerUnreachable, DatabaseUnreachable)
__all__ = ["TARGETS", "Collector", "DeadLetterBlobs", "EventStoreCollector", "FollowerLag", "GroupLag", "LagError", "OutboxLag", "PartitionLag", "QueueDepth",
           "Report", "SubscriptionBacklog", "UNREACHABLE", "advise", "collect_all", "open_target"]
