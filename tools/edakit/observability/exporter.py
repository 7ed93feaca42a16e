"""`edakit lag serve`: the figures of lag.py as a Prometheus exporter (prometheus-client), names from metrics_names.

One scrape is bounded in time even when a broker hangs: every target is collected on its own thread and the scrape
waits for all of them together at most `scrape_timeout` seconds. A target that has not answered by then reports
`edakit_lag_scrape_success{target} 0` and none of its figures; the others report as usual. A target whose previous
collection is still running (a hung broker) is not asked again until that one ends, so a hung broker costs one
thread, not one per scrape.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from prometheus_client import CollectorRegistry, start_http_server
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector as PromCollector

from edakit.observability import metrics_names as m
from edakit.observability.lag import Collector, Report
from edakit.redact import redact

log = logging.getLogger(__name__)

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 9842  # a fixed default (not kafka_exporter's 9308 or kminion's 8080, so they can run beside it); --port
DEFAULT_SCRAPE_TIMEOUT = 8.0  # seconds: under Prometheus's default scrape_timeout (10 s)


@dataclass(frozen=True)
class Outcome:
    target: str
    report: Report | None
    seconds: float
    error: str | None


class _Run:
    """One collection of one target on a daemon thread (a hung broker must not keep the process from exiting)."""

    def __init__(self, collector: Collector, timeout: float) -> None:
        self.started = time.monotonic()
        self.done = threading.Event()
        self.report: Report | None = None
        self.error: str | None = None
        self.seconds = 0.0  # check and collection, once done
        threading.Thread(target=self._run, args=(collector, timeout), daemon=True,
                         name=f"edakit-lag {collector.target}").start()

    def _run(self, collector: Collector, timeout: float) -> None:
        try:
            collector.check(timeout)
            self.report = collector.collect(timeout)
        except Exception as exc:  # noqa: BLE001 - any failure is this target's scrape_success 0, with the reason logged
            self.error = redact(" ".join(str(exc).split())) or type(exc).__name__
        finally:
            self.seconds = time.monotonic() - self.started
            self.done.set()


class LagExporter(PromCollector):
    """A prometheus-client collector: each `collect()` (one scrape) asks every target, with one deadline for all.

    `target_timeout`: how long each broker request inside a collection may wait (default: the scrape timeout). The
    scrape never waits longer than `scrape_timeout`, whatever the clients do."""

    def __init__(self, collectors: Sequence[Collector], scrape_timeout: float = DEFAULT_SCRAPE_TIMEOUT,
                 target_timeout: float | None = None) -> None:
        if not scrape_timeout > 0:
            raise ValueError(f"scrape_timeout: expected seconds > 0, got {scrape_timeout}")
        self.collectors = list(collectors)
        self.scrape_timeout = scrape_timeout
        self.target_timeout = scrape_timeout if target_timeout is None else target_timeout
        self._running: dict[int, _Run] = {}  # at most one collection in flight per target
        self._lock = threading.Lock()

    def scrape(self) -> list[Outcome]:
        """Ask every target; return within scrape_timeout whatever each one did by then."""
        started = time.monotonic()
        runs: list[tuple[_Run, bool]] = []
        with self._lock:
            for n, collector in enumerate(self.collectors):
                previous = self._running.get(n)
                if previous is not None and not previous.done.is_set():
                    runs.append((previous, False))  # still hung: do not pile another call on it
                    continue
                self._running[n] = run = _Run(collector, self.target_timeout)
                runs.append((run, True))
        deadline = started + self.scrape_timeout
        for run, fresh in runs:
            if fresh:
                run.done.wait(max(0.0, deadline - time.monotonic()))
        outcomes = []
        for collector, (run, fresh) in zip(self.collectors, runs, strict=True):
            seconds = time.monotonic() - started
            if not fresh:
                hung = time.monotonic() - run.started  # its duration: how long it has hung so far
                error = f"the collection started {hung:.0f} s ago has not ended (target hangs)"
                outcomes.append(Outcome(collector.target, None, hung, error))
            elif not run.done.is_set():
                outcomes.append(Outcome(collector.target, None, seconds,
                                        f"no answer within the scrape timeout ({self.scrape_timeout:g} s)"))
            else:
                outcomes.append(Outcome(collector.target, run.report, run.seconds, run.error))
        for outcome in outcomes:
            if outcome.error:
                log.warning("edakit lag serve: %s: %s", outcome.target, outcome.error)
        return outcomes

    def collect(self) -> Iterator[GaugeMetricFamily]:
        yield from families(self.scrape())

    def close(self) -> None:
        """Nothing to release: collections in flight end with their own timeouts, on daemon threads."""


def families(outcomes: Sequence[Outcome]) -> list[GaugeMetricFamily]:
    """The gauges for one scrape's outcomes (figures of the targets that answered, success and duration of all)."""
    fig = ["broker", "target"]

    def gauge(name: str, doc: str, labels: list[str]) -> GaugeMetricFamily:
        return GaugeMetricFamily(name, doc, labels=fig + labels)

    part = [m.LABEL_TOPIC, m.LABEL_GROUP, m.LABEL_PARTITION]
    lag_messages = gauge(m.CONSUMER_LAG_MESSAGES, "End offset minus committed offset, per group and partition.", part)
    lag_seconds = gauge(m.CONSUMER_LAG_SECONDS, "Age of the first record the group has not consumed (0 when caught "
                        "up), from record timestamps.", part)
    committed = gauge(m.CONSUMER_COMMITTED_OFFSET, "Committed offset of the group; -1 when it has none.", part)
    end = gauge(m.PARTITION_END_OFFSET, "High watermark of the partition (every topic, consumed or not).",
                [m.LABEL_TOPIC, m.LABEL_PARTITION])
    members = gauge(m.CONSUMER_GROUP_MEMBERS, "Members of the consumer group (DescribeGroups).", [m.LABEL_GROUP])
    group_partitions = gauge(m.CONSUMER_GROUP_PARTITIONS, "Partitions the group reads (of topics it has committed on).",
                             [m.LABEL_GROUP])
    advice = gauge(m.CONSUMER_GROUP_ADVICE, "1 for what would reduce the group's lag: add_consumers (fewer members "
                   "than partitions), add_partitions (as many already), none (not lagging), unknown.",
                   [m.LABEL_GROUP, m.LABEL_ADVICE])
    queue = gauge(m.QUEUE_MESSAGES, "Messages in the queue by state (SQS queue attributes; dlq: its DLQ's visible).",
                  [m.LABEL_QUEUE, m.LABEL_STATE])
    queue_age = gauge(m.QUEUE_OLDEST_MESSAGE_AGE_SECONDS, "CloudWatch ApproximateAgeOfOldestMessage (absent where "
                      "CloudWatch has no datapoint).", [m.LABEL_QUEUE])
    backlog = gauge(m.SUBSCRIPTION_BACKLOG_MESSAGES, "Cloud Monitoring num_undelivered_messages.",
                    [m.LABEL_SUBSCRIPTION])
    unacked = gauge(m.SUBSCRIPTION_OLDEST_UNACKED_AGE_SECONDS, "Cloud Monitoring oldest_unacked_message_age.",
                    [m.LABEL_SUBSCRIPTION])
    dead_events = gauge(m.DEAD_LETTERED_EVENTS, "Events in the Event Grid dead-letter container, per subscription.",
                        [m.LABEL_SUBSCRIPTION])
    dead_blobs = gauge(m.DEAD_LETTER_BLOBS, "Blobs in the Event Grid dead-letter container, per subscription.",
                       [m.LABEL_SUBSCRIPTION])
    outbox_rows = gauge(m.OUTBOX_ROWS, "Outbox rows waiting to be relayed.", [m.LABEL_RELAY])
    outbox_age = gauge(m.OUTBOX_OLDEST_AGE_SECONDS, "Age of the oldest outbox row (0 when empty).", [m.LABEL_RELAY])
    outbox_failing = gauge(m.OUTBOX_FAILING_ROWS, "Outbox rows whose last publish failed.", [m.LABEL_RELAY])
    outbox_dead = gauge(m.OUTBOX_DEAD_LETTER_ROWS, "Rows in the outbox's dead-letter table.", [m.LABEL_RELAY])
    relay_events = gauge(m.EVENT_STORE_RELAY_LAG_EVENTS, "Events in the store after the relay's position.",
                         [m.LABEL_RELAY])
    relay_seconds = gauge(m.EVENT_STORE_RELAY_LAG_SECONDS, "Age of the oldest event the relay has not published (0 "
                          "when caught up).", [m.LABEL_RELAY])
    projection_events = gauge(m.EVENT_STORE_PROJECTION_LAG_EVENTS, "Events in the store after the projection's "
                              "position.", [m.LABEL_PROJECTION])
    projection_seconds = gauge(m.EVENT_STORE_PROJECTION_LAG_SECONDS, "Age of the oldest event the projection has not "
                               "applied (0 when caught up).", [m.LABEL_PROJECTION])
    success = GaugeMetricFamily(m.LAG_SCRAPE_SUCCESS, "1 if the target answered within the scrape timeout.",
                                labels=[m.LABEL_TARGET])
    duration = GaugeMetricFamily(m.LAG_SCRAPE_DURATION_SECONDS, "Seconds the target took (or was waited for).",
                                 labels=[m.LABEL_TARGET])
    for outcome in outcomes:
        success.add_metric([outcome.target], 0.0 if outcome.report is None else 1.0)
        duration.add_metric([outcome.target], outcome.seconds)
        report = outcome.report
        if report is None:
            continue
        base = [report.kind, report.target]
        ends = {(t.topic, t.partition): t.end_offset for t in report.topics}
        for group in report.groups:
            for p in group.partitions:
                labels = base + [p.topic, group.group, str(p.partition)]
                lag_messages.add_metric(labels, p.lag_messages)
                if p.lag_seconds is not None:
                    lag_seconds.add_metric(labels, p.lag_seconds)
                committed.add_metric(labels, -1 if p.committed_offset is None else p.committed_offset)
                ends.setdefault((p.topic, p.partition), p.end_offset)
            if group.members is not None:
                members.add_metric(base + [group.group], group.members)
            group_partitions.add_metric(base + [group.group], len(group.partitions))
            advice.add_metric(base + [group.group, group.advice], 1)
        for (topic, partition), offset in sorted(ends.items()):
            end.add_metric(base + [topic, str(partition)], offset)
        for q in report.queues:
            queue.add_metric(base + [q.queue, "visible"], q.visible)
            queue.add_metric(base + [q.queue, "in_flight"], q.in_flight)
            if q.dlq_visible is not None:
                queue.add_metric(base + [q.queue, "dlq"], q.dlq_visible)
            if q.oldest_age_seconds is not None:
                queue_age.add_metric(base + [q.queue], q.oldest_age_seconds)
        for s in report.subscriptions:
            if s.backlog_messages is not None:
                backlog.add_metric(base + [s.subscription], s.backlog_messages)
            if s.oldest_unacked_age_seconds is not None:
                unacked.add_metric(base + [s.subscription], s.oldest_unacked_age_seconds)
        for d in report.dead_letters:
            dead_events.add_metric(base + [d.subscription], d.events)
            dead_blobs.add_metric(base + [d.subscription], d.blobs)
        for o in report.outboxes:
            outbox_rows.add_metric(base + [o.relay], o.rows)
            outbox_age.add_metric(base + [o.relay], o.oldest_age_seconds)
            outbox_failing.add_metric(base + [o.relay], o.failing_rows)
            outbox_dead.add_metric(base + [o.relay], o.dead_letters)
        for f in report.followers:
            events, seconds = (relay_events, relay_seconds) if f.follower == "relay" else (projection_events,
                                                                                           projection_seconds)
            events.add_metric(base + [f.name], f.events_behind)
            seconds.add_metric(base + [f.name], f.seconds_behind)
    return [lag_messages, lag_seconds, committed, end, members, group_partitions, advice, queue, queue_age, backlog,
            unacked, dead_events, dead_blobs, outbox_rows, outbox_age, outbox_failing, outbox_dead, relay_events,
            relay_seconds, projection_events, projection_seconds, success, duration]


def serve(exporter: LagExporter, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT) -> tuple[object, int]:
    """Serve /metrics on host:port in a background thread; returns (server, bound port). Stop: server.shutdown()."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(exporter)
    server, _ = start_http_server(port, addr=host, registry=registry)
    return server, server.server_port
