"""Spec -> Prometheus alerting rules and their `promtool test rules` unit tests, one rule file per spec and environment
(each environment's Prometheus loads its own).

`alerts/<spec>.<environment>.rules.yml` holds one group with, per subscriber, the alerts its broker can be
measured for by `edakit lag serve` (metric names from `metrics_names`) and the handler error rate from the
runtime's OpenTelemetry metrics. `alerts/edakit.rules.yml` holds what belongs to no spec: outbox relays, event-store
relays and projections, and the exporter itself. Each alert carries `severity`, `summary`, `description` and a `runbook_url` pointing at its
section of alerts/README.md.

Handler metrics are OpenTelemetry's messaging conventions as a Prometheus exporter (or the collector) writes them
(dots become underscores, the unit `s` becomes `_seconds`, `{message}` adds nothing, counters get `_total`):
`messaging.process.duration` -> `messaging_process_duration_seconds_{bucket,count,sum}` with the attributes
`messaging.consumer.group.name` -> `messaging_consumer_group_name` and `error.type` -> `error_type` (set only on
failed processing, as the conventions say).
"""

from __future__ import annotations

import io
import math
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from edakit.observability import metrics_names as m
from edakit.spec.build import resource_name
from edakit.spec.model import Spec, Subscriber

RUNBOOK = "alerts/README.md"  # runbook_url = <base>#<alert name, lower case>
PROCESS_DURATION = "messaging_process_duration_seconds"  # OTel messaging.process.duration, histogram in seconds
CONSUMED_MESSAGES = "messaging_client_consumed_messages_total"  # OTel messaging.client.consumed.messages
SENT_MESSAGES = "messaging_client_sent_messages_total"  # OTel messaging.client.sent.messages
CONSUMER_GROUP = "messaging_consumer_group_name"
DESTINATION = "messaging_destination_name"
ERROR_TYPE = "error_type"
ERROR_WINDOW = "5m"
GROWING_WINDOW_SECONDS = 600  # "lag growing for 10 minutes"

# Kit-wide thresholds (alerts/edakit.rules.yml): a relay row should leave within seconds, so 5 minutes is an outage.
# The same age holds for the event store's relays and projections: they follow the log as the outbox relay follows
# its table.
OUTBOX_AGE_SECONDS = 300
KIT_FOR_SECONDS = 300

ALERT_NAMES = (
    "ConsumerLagHigh", "ConsumerLagAgeHigh", "ConsumerLagGrowing", "DeadLetterQueueNotEmpty", "HandlerErrorRateHigh",
    "OutboxRelayLagging", "OutboxDeadLetterRows", "EventStoreRelayLagging", "ProjectionLagging",
    "LagExporterTargetDown", "LagExporterAbsent",
)


@dataclass(frozen=True)
class Series:
    """One metric the exporter reports for a subscriber: its name, its matchers, and the labels summed by."""

    metric: str
    matchers: Mapping[str, str]
    by: tuple[str, ...]
    per: str | None = None  # a label the exporter splits it by (Kafka partition), summed away

    def selector(self) -> str:
        inner = ",".join(f'{key}="{_escape(value)}"' for key, value in self.matchers.items())
        return f"{self.metric}{{{inner}}}"

    def aggregate(self, op: str = "sum") -> str:
        return f"{op} by ({', '.join(self.by)}) ({self.selector()})"

    def result_labels(self) -> dict[str, str]:
        return {key: self.matchers[key] for key in self.by}


@dataclass(frozen=True)
class Measured:
    """What `edakit lag serve` reports for one subscriber (None: its broker has no such figure)."""

    lag_messages: Series | None
    lag_seconds: Series | None
    dlq_messages: Series | None
    dlq_is_counter: bool  # Kafka: the DLQ topic's end offset grows; alert on its increase, not its level
    consumer: str  # messaging.consumer.group.name the runtime reports for this subscriber
    destination: str  # messaging.destination.name it consumes from (the topic; SQS: the queue)


def consumer_name(spec: Spec, sub: Subscriber) -> str:
    """`<spec>-<environment>-<subscriber>`: the consumer group a subscriber without a broker-side one reports."""
    return resource_name(spec.name, spec.environment, sub.name)


def queue_name(spec: Spec, sub: Subscriber) -> str:
    """The subscriber's SQS queue as terraform/modules/aws-sns-sqs-fanout names it."""
    channel = spec.channels[sub.channel]
    return f"{channel.resource_name}-{sub.name}" + (".fifo" if channel.fifo else "")


def measured(spec: Spec, sub: Subscriber) -> Measured:
    channel = spec.channels[sub.channel]
    if channel.broker == "kafka" and sub.consumer_group is not None:
        group = {m.LABEL_BROKER: "kafka", m.LABEL_TOPIC: channel.resource_name, m.LABEL_GROUP: sub.consumer_group}
        by = (m.LABEL_TOPIC, m.LABEL_GROUP)
        dlq_topic = f"{channel.resource_name}.{sub.consumer_group}.dlq"  # edakit.runtime.adapters.kafka
        dlq = Series(m.PARTITION_END_OFFSET, {m.LABEL_BROKER: "kafka", m.LABEL_TOPIC: dlq_topic}, (m.LABEL_TOPIC,),
                     per=m.LABEL_PARTITION)
        return Measured(Series(m.CONSUMER_LAG_MESSAGES, group, by, per=m.LABEL_PARTITION),
                        Series(m.CONSUMER_LAG_SECONDS, group, by, per=m.LABEL_PARTITION),
                        dlq if sub.dlq.enabled else None, True, sub.consumer_group, channel.resource_name)
    if channel.broker == "sqs-sns":
        queue = queue_name(spec, sub)
        base = {m.LABEL_BROKER: "sqs", m.LABEL_QUEUE: queue}
        by = (m.LABEL_QUEUE,)
        return Measured(Series(m.QUEUE_MESSAGES, base | {m.LABEL_STATE: "visible"}, by),
                        Series(m.QUEUE_OLDEST_MESSAGE_AGE_SECONDS, base, by),
                        Series(m.QUEUE_MESSAGES, base | {m.LABEL_STATE: "dlq"}, by) if sub.dlq.enabled else None,
                        False, queue, queue)
    if channel.broker == "pubsub":
        subscription = f"{channel.resource_name}-{sub.name}"  # as render/gcp_pubsub.py names it
        base = {m.LABEL_BROKER: "pubsub", m.LABEL_SUBSCRIPTION: subscription}
        by = (m.LABEL_SUBSCRIPTION,)
        # terraform/modules/gcp-pubsub gives each dead-letter topic an idle subscription `<subscription>-dlq`
        dlq = Series(m.SUBSCRIPTION_BACKLOG_MESSAGES, base | {m.LABEL_SUBSCRIPTION: f"{subscription}-dlq"}, by)
        return Measured(Series(m.SUBSCRIPTION_BACKLOG_MESSAGES, base, by),
                        Series(m.SUBSCRIPTION_OLDEST_UNACKED_AGE_SECONDS, base, by),
                        dlq if sub.dlq.enabled else None, False, subscription, channel.resource_name)
    if channel.broker == "event-grid" and spec.event_grid is not None:
        # The exporter reads one dead-letter container (target azblob:<container>); Event Grid names the blobs
        # after the event subscription (the module's key, the subscriber's name) in upper case.
        base = {m.LABEL_BROKER: "eventgrid", m.LABEL_TARGET: f"azblob:{spec.event_grid.dead_letter_container_name}",
                m.LABEL_SUBSCRIPTION: sub.name.upper()}
        dlq = Series(m.DEAD_LETTERED_EVENTS, base, (m.LABEL_TARGET, m.LABEL_SUBSCRIPTION))
        return Measured(None, None, dlq if sub.dlq.enabled else None, False, consumer_name(spec, sub),
                        channel.resource_name)
    # eventbridge: no lag of its own (its rules deliver to queues)
    return Measured(None, None, None, False, consumer_name(spec, sub), channel.resource_name)


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')


def _duration(seconds: int) -> str:
    return f"{seconds // 60}m" if seconds % 60 == 0 and seconds else f"{seconds}s"


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


@dataclass(frozen=True)
class Rule:
    alert: str
    expr: str
    for_seconds: int
    labels: dict[str, str]
    summary: str
    description: str
    result_labels: dict[str, str]  # labels the expression's result carries (for the generated tests)
    test: TestCase | None = None


@dataclass(frozen=True)
class TestCase:
    """Input series for a promtool test: `fire` values make the alert fire, `calm` values keep it quiet."""

    series: dict[str, str]  # series selector (with all labels) -> promtool values expression, firing case
    calm: dict[str, str]  # at the threshold (growing: flat, its boundary)
    eval_seconds: int
    value: str | None  # the firing sample's value as {{ $value }} prints it (None: not in the annotations)


def _static_labels(spec: Spec, sub: Subscriber, severity: str) -> dict[str, str]:
    return {"severity": severity, "spec": spec.name, "environment": spec.environment or "base",
            "subscriber": sub.name, "channel": sub.channel, "broker": spec.channels[sub.channel].broker}


def _series_text(series: Series, extra: Mapping[str, str] | None = None) -> str:
    labels = {**series.matchers, **(extra or {})}
    return series.metric + "{" + ",".join(f'{k}="{_escape(v)}"' for k, v in labels.items()) + "}"


def _steady(series: Series, total: float, samples: int) -> dict[str, str]:
    """`total` split over two partitions where the series has them (so the test proves the rule sums them)."""
    if series.per is None:
        return {_series_text(series): f"{_number(total)}x{samples}"}
    first = math.floor(total / 2)
    return {_series_text(series, {series.per: "0"}): f"{_number(first)}x{samples}",
            _series_text(series, {series.per: "1"}): f"{_number(total - first)}x{samples}"}


def subscriber_rules(spec: Spec, sub: Subscriber) -> list[Rule]:
    t = sub.alerts
    what = measured(spec, sub)
    where = f"{spec.name}/{spec.environment or 'base'}"
    hold = t.for_seconds // 60 + 2  # minutes of samples: past `for`, with margin
    eval_at = (t.for_seconds // 60 + 1) * 60
    rules: list[Rule] = []
    if what.lag_messages is not None:
        lag = what.lag_messages
        rules.append(Rule(
            "ConsumerLagHigh", f"{lag.aggregate()} > {t.lag_messages}", t.for_seconds,
            _static_labels(spec, sub, "warning"),
            f"Subscriber {sub.name} of {where} is {{{{ $value }}}} messages behind",
            f"{sub.name} has more than {t.lag_messages} messages waiting on {sub.channel} for "
            f"{_duration(t.for_seconds)}: its consumers are down, stuck or too few for the load.",
            lag.result_labels(),
            TestCase(_steady(lag, t.lag_messages + 1, hold), _steady(lag, t.lag_messages, hold), eval_at,
                     _number(t.lag_messages + 1)),
        ))
        window = GROWING_WINDOW_SECONDS // 60
        grow = f"({lag.aggregate()})"
        rules.append(Rule(
            "ConsumerLagGrowing", f"{grow} > 0 and deriv({grow}[{window}m:1m]) > 0", GROWING_WINDOW_SECONDS,
            _static_labels(spec, sub, "warning"),
            f"Lag of subscriber {sub.name} of {where} has been growing for {window} minutes",
            f"Messages for {sub.name} on {sub.channel} arrive faster than they are processed, steadily for "
            f"{window} minutes: the lag will not recover by itself.",
            lag.result_labels(),
            TestCase({_series_text(lag, {lag.per: "0"} if lag.per else None): "0+10x30"},
                     {_series_text(lag, {lag.per: "0"} if lag.per else None): "500x30"}, 25 * 60, None),
        ))
    if what.lag_seconds is not None:
        age = what.lag_seconds
        rules.append(Rule(
            "ConsumerLagAgeHigh", f"{age.aggregate('max')} > {t.lag_seconds}", t.for_seconds,
            _static_labels(spec, sub, "critical"),
            f"Subscriber {sub.name} of {where} is {{{{ $value }}}}s behind",
            f"The oldest message {sub.name} has not consumed on {sub.channel} is older than {t.lag_seconds}s: "
            "events reach it late, and they expire at the end of the retention period.",
            age.result_labels(),
            TestCase(_max_case(age, t.lag_seconds + 1, hold), _max_case(age, t.lag_seconds, hold), eval_at,
                     _number(t.lag_seconds + 1)),
        ))
    if what.dlq_messages is not None:
        dlq = what.dlq_messages
        if what.dlq_is_counter:
            expr = f"sum by ({', '.join(dlq.by)}) (increase({dlq.selector()}[10m])) > {t.dlq_messages}"
            fire = {_series_text(dlq, {dlq.per or "partition": "0"}): f"5+0x5 {5 + t.dlq_messages + 1}+0x10"}
            calm = {_series_text(dlq, {dlq.per or "partition": "0"}): f"{5 + t.dlq_messages}+0x15"}
            value = None
        else:
            expr = f"{dlq.aggregate()} > {t.dlq_messages}"
            fire = _steady(dlq, t.dlq_messages + 1, 15)
            calm = _steady(dlq, t.dlq_messages, 15)
            value = _number(t.dlq_messages + 1)
        rules.append(Rule(
            "DeadLetterQueueNotEmpty", expr, 0, _static_labels(spec, sub, "warning"),
            f"Dead-letter queue of subscriber {sub.name} of {where} holds messages",
            f"Messages for {sub.name} on {sub.channel} failed every delivery attempt and were dead-lettered "
            f"(more than {t.dlq_messages}): find why, fix, then replay them with `edakit dlq`.",
            dlq.result_labels(),
            TestCase(fire, calm, 8 * 60, value),
        ))
    rules.append(_error_rule(spec, sub, what.consumer, what.destination, eval_at, hold))
    return rules


def _max_case(series: Series, worst: float, samples: int) -> dict[str, str]:
    if series.per is None:
        return {_series_text(series): f"{_number(worst)}x{samples}"}
    return {_series_text(series, {series.per: "0"}): f"{_number(worst)}x{samples}",
            _series_text(series, {series.per: "1"}): f"0x{samples}"}


def _error_rule(spec: Spec, sub: Subscriber, consumer: str, destination: str, eval_at: int, hold: int) -> Rule:
    t = sub.alerts
    group = f'{CONSUMER_GROUP}="{_escape(consumer)}",{DESTINATION}="{_escape(destination)}"'
    count = f"{PROCESS_DURATION}_count"
    by = f"{CONSUMER_GROUP}, {DESTINATION}"
    failed = f'sum by ({by}) (rate({count}{{{group},{ERROR_TYPE}!=""}}[{ERROR_WINDOW}]))'
    total = f"sum by ({by}) (rate({count}{{{group}}}[{ERROR_WINDOW}]))"
    where = f"{spec.name}/{spec.environment or 'base'}"
    ok = count + "{" + group + "}"
    bad = count + "{" + group + f',{ERROR_TYPE}="TimeoutError"' + "}"
    samples = hold + 5
    # Per minute: 100 messages, of which `errors` fail; ok counts only successes (error.type empty).
    errors_fire = math.floor(t.error_ratio * 100) + 1 if t.error_ratio < 1 else None
    fire = {ok: f"0+{100 - errors_fire}x{samples}", bad: f"0+{errors_fire}x{samples}"} if errors_fire else {}
    errors_calm = math.floor(t.error_ratio * 100)
    calm = {ok: f"0+{100 - errors_calm}x{samples}", bad: f"0+{errors_calm}x{samples}"}
    return Rule(
        "HandlerErrorRateHigh", f"{failed} / {total} > {_number(t.error_ratio)}", t.for_seconds,
        _static_labels(spec, sub, "critical"),
        f"Handler of subscriber {sub.name} of {where} fails {{{{ $value | humanizePercentage }}}} of messages",
        f"More than {_number(t.error_ratio * 100)}% of the messages {sub.name} processed in the last "
        f"{ERROR_WINDOW} failed (OpenTelemetry messaging.process.duration with error.type): they are retried "
        "and then dead-lettered.",
        {CONSUMER_GROUP: consumer, DESTINATION: destination},
        TestCase(fire, calm, eval_at + 5 * 60, repr(errors_fire / 100)) if errors_fire else None,
    )


def _follower_rule(alert: str, metric: str, label: str, name: str, severity: str, summary: str,
                   description: str) -> Rule:
    """An event-store follower (relay or projection) whose oldest unhandled event is older than the kit's age."""
    hold = KIT_FOR_SECONDS // 60 + 2
    eval_at = (KIT_FOR_SECONDS // 60 + 1) * 60
    labels = {m.LABEL_TARGET: "postgresql://127.0.0.1/orders", label: name}
    series = metric + "{" + ",".join(f'{k}="{v}"' for k, v in {m.LABEL_BROKER: "eventstore", **labels}.items()) + "}"
    return Rule(alert, f"max by ({m.LABEL_TARGET}, {label}) ({metric}) > {OUTBOX_AGE_SECONDS}", KIT_FOR_SECONDS,
                {"severity": severity}, summary, description, labels,
                TestCase({series: f"{OUTBOX_AGE_SECONDS + 1}x{hold}"}, {series: f"{OUTBOX_AGE_SECONDS}x{hold}"},
                         eval_at, str(OUTBOX_AGE_SECONDS + 1)))


def kit_rules() -> list[Rule]:
    """Rules that belong to no spec: every outbox relay, event-store relay and projection, and the lag exporter."""
    hold = KIT_FOR_SECONDS // 60 + 2
    eval_at = (KIT_FOR_SECONDS // 60 + 1) * 60
    relay = {m.LABEL_RELAY: "postgresql:orders.outbox"}
    relay_series = lambda metric: metric + '{relay="postgresql:orders.outbox"}'  # noqa: E731
    target = m.LAG_SCRAPE_SUCCESS + '{target="kafka://127.0.0.1:9092"}'
    return [
        Rule("OutboxRelayLagging", f"max by ({m.LABEL_RELAY}) ({m.OUTBOX_OLDEST_AGE_SECONDS}) > {OUTBOX_AGE_SECONDS}",
             KIT_FOR_SECONDS, {"severity": "critical"},
             "Outbox relay {{ $labels.relay }} has an unpublished row {{ $value }}s old",
             f"A row has waited more than {OUTBOX_AGE_SECONDS}s in the outbox: the relay is down, cannot reach the "
             "broker, or a poison row blocks its ordering key.", relay,
             TestCase({relay_series(m.OUTBOX_OLDEST_AGE_SECONDS): f"{OUTBOX_AGE_SECONDS + 1}x{hold}"},
                      {relay_series(m.OUTBOX_OLDEST_AGE_SECONDS): f"{OUTBOX_AGE_SECONDS}x{hold}"}, eval_at,
                      str(OUTBOX_AGE_SECONDS + 1))),
        Rule("OutboxDeadLetterRows", f"max by ({m.LABEL_RELAY}) ({m.OUTBOX_DEAD_LETTER_ROWS}) > 0", 0,
             {"severity": "warning"},
             "Outbox relay {{ $labels.relay }} dead-lettered {{ $value }} rows",
             "Rows the relay could not publish after every attempt were moved to the outbox's dead-letter table: "
             "fix the cause, then requeue them with `edakit outbox`.", relay,
             TestCase({relay_series(m.OUTBOX_DEAD_LETTER_ROWS): "1x15"},
                      {relay_series(m.OUTBOX_DEAD_LETTER_ROWS): "0x15"}, 8 * 60, "1")),
        _follower_rule(
            "EventStoreRelayLagging", m.EVENT_STORE_RELAY_LAG_SECONDS, m.LABEL_RELAY, "relay", "critical",
            "Event-store relay {{ $labels.relay }} of {{ $labels.target }} has an unpublished event {{ $value }}s old",
            f"An event has waited more than {OUTBOX_AGE_SECONDS}s in the event store without being published: the "
            "relay is down, cannot reach the broker, or stopped at an event it cannot publish (it never skips one)."),
        _follower_rule(
            "ProjectionLagging", m.EVENT_STORE_PROJECTION_LAG_SECONDS, m.LABEL_PROJECTION, "order_summaries",
            "warning",
            "Projection {{ $labels.projection }} of {{ $labels.target }} is {{ $value }}s behind the event store",
            f"The read model has not applied an event that is more than {OUTBOX_AGE_SECONDS}s old: its projector is "
            "down or failing, and queries answer from stale data (nothing is lost: it resumes from its position)."),
        Rule("LagExporterTargetDown", f"{m.LAG_SCRAPE_SUCCESS} == 0", KIT_FOR_SECONDS, {"severity": "warning"},
             "edakit lag serve cannot read {{ $labels.target }}",
             "The lag exporter's scrapes of this broker or relay fail or time out: its lag alerts cannot fire "
             "while this one does.", {m.LABEL_TARGET: "kafka://127.0.0.1:9092"},
             TestCase({target: f"0x{hold}"}, {target: f"1x{hold}"}, eval_at, None)),
        Rule("LagExporterAbsent", f"absent({m.LAG_SCRAPE_SUCCESS})", KIT_FOR_SECONDS, {"severity": "critical"},
             "No edakit lag serve is scraped",
             "Prometheus has no edakit_lag_scrape_success series: the exporter is down or not scraped, and no "
             "lag, DLQ or outbox alert can fire.", {},
             TestCase({"unrelated_metric": f"1x{hold}"}, {target: f"1x{hold}"}, eval_at, None)),
    ]


def _rule_yaml(rule: Rule, runbook: str) -> dict[str, Any]:
    out: dict[str, Any] = {"alert": rule.alert, "expr": rule.expr}
    if rule.for_seconds:
        out["for"] = _duration(rule.for_seconds)
    out["labels"] = dict(rule.labels)
    out["annotations"] = {"summary": rule.summary, "description": rule.description,
                          "runbook_url": f"{runbook}#{rule.alert.lower()}"}
    return out


def _group_name(spec: Spec) -> str:
    return f"edakit-{spec.name}-{spec.environment or 'base'}"


def spec_rules(specs: list[Spec]) -> list[tuple[str, list[Rule]]]:
    """(group name, rules) per environment of one spec."""
    return [(_group_name(spec), [r for sub in spec.subscribers.values() for r in subscriber_rules(spec, sub)])
            for spec in specs]


def rules_document(groups: list[tuple[str, list[Rule]]], runbook: str = RUNBOOK) -> dict[str, Any]:
    return {"groups": [{"name": name, "rules": [_rule_yaml(r, runbook) for r in rules]} for name, rules in groups]}


def _expand(text: str, labels: Mapping[str, str], value: str | None) -> str:
    for key, label in labels.items():
        text = text.replace(f"{{{{ $labels.{key} }}}}", label)
    if value is None:
        return text
    return text.replace("{{ $value | humanizePercentage }}", _humanize_percentage(float(value))).replace(
        "{{ $value }}", go_float(float(value)))


def go_float(value: float) -> str:
    """A float64 as Go's %v prints it, which is how `{{ $value }}` reads in an alert: the shortest digits that
    round-trip, in exponent form (two exponent digits at least) when the decimal exponent is below -4 or 6 and up:
    1e+06 for a million, 999999 below it."""
    if value == 0:
        return "0"
    sign = "-" if value < 0 else ""
    _, digit_tuple, exponent = Decimal(repr(abs(value))).as_tuple()
    digits = "".join(map(str, digit_tuple)).rstrip("0") or "0"
    point = len("".join(map(str, digit_tuple))) + int(exponent)  # digits before the decimal point
    exp = point - 1
    if exp < -4 or exp >= 6:
        mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        return f"{sign}{mantissa}e{'-' if exp < 0 else '+'}{abs(exp):02d}"
    if point <= 0:
        return f"{sign}0.{'0' * -point}{digits}"
    if point >= len(digits):
        return sign + digits + "0" * (point - len(digits))
    return f"{sign}{digits[:point]}.{digits[point:]}"


def _humanize_percentage(value: float) -> str:
    return f"{value * 100:.4g}%"  # Prometheus's humanizePercentage: %.4g of the value times 100


def tests_document(rules_file: str, groups: list[tuple[str, list[Rule]]], runbook: str = RUNBOOK) -> dict[str, Any]:
    """One promtool test per rule and case: the firing input fires exactly that alert with these labels and
    annotations; the calm input (at the threshold, or falling) fires nothing."""
    tests = []
    for _group, rules in groups:
        for rule in rules:
            if rule.test is None:
                continue
            labels = {**rule.result_labels, **rule.labels}
            annotations = _rule_yaml(rule, runbook)["annotations"]
            expected: dict[str, Any] = {"exp_labels": labels}
            expected["exp_annotations"] = {k: _expand(v, labels, rule.test.value) for k, v in annotations.items()}
            for case, series, alerts in (("fires", rule.test.series, [expected]), ("calm", rule.test.calm, [])):
                tests.append({
                    "name": f"{rule.alert} {labels.get('subscriber', '')} {labels.get('environment', '')} {case}"
                    .replace("  ", " ").strip(),
                    "interval": "1m",
                    "input_series": [{"series": s, "values": v} for s, v in series.items()],
                    "alert_rule_test": [{"eval_time": _duration(rule.test.eval_seconds), "alertname": rule.alert,
                                         "exp_alerts": alerts}],
                })
    return {"rule_files": [rules_file], "evaluation_interval": "1m", "tests": tests}


def dump_yaml(document: dict[str, Any], header: str) -> str:
    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = False
    yaml.width = 4096  # one line per expression: promtool and diffs read them whole
    yaml.sort_base_mapping_type_on_output = False  # type: ignore[assignment]
    buffer = io.StringIO()
    yaml.dump(document, buffer)
    return header + buffer.getvalue()


HEADER = "# Generated by `edakit alerts` from {source}: edit the spec, not this file.\n"


def render_files(spec_sets: Mapping[str, tuple[str, list[Spec]]], runbook: str = RUNBOOK) -> dict[str, str]:
    """Relative path under the repository -> contents, for every spec (name -> (spec file, environments)) and the
    kit-wide rules: what `edakit alerts` writes and `make validate` compares."""
    files: dict[str, str] = {}
    kit = [("edakit-kit", kit_rules())]
    files["alerts/edakit.rules.yml"] = dump_yaml(rules_document(kit, runbook), HEADER.format(source="the kit"))
    files["alerts/tests/edakit.test.yml"] = dump_yaml(
        tests_document("../edakit.rules.yml", kit, runbook), HEADER.format(source="the kit"))
    for name, (source, specs) in sorted(spec_sets.items()):
        for spec, group in zip(specs, spec_rules(specs), strict=True):
            if not group[1]:
                continue
            stem = f"{name}.{spec.environment}" if spec.environment else name
            files[f"alerts/{stem}.rules.yml"] = dump_yaml(rules_document([group], runbook),
                                                          HEADER.format(source=source))
            files[f"alerts/tests/{stem}.test.yml"] = dump_yaml(
                tests_document(f"../{stem}.rules.yml", [group], runbook), HEADER.format(source=source))
    return files


def spec_sets(root: Path) -> dict[str, tuple[str, list[Spec]]]:
    """Every spec of configs/ with all its environments (raises SpecError with every problem)."""
    from edakit.render import spec_files
    from edakit.spec import Problem, SpecError, load_environments

    problems: list[Problem] = []
    sets: dict[str, tuple[str, list[Spec]]] = {}
    for path in spec_files(root):
        try:
            specs = load_environments(path, root=root)
        except SpecError as exc:
            problems += exc.problems
            continue
        if specs:
            sets[specs[0].name] = (str(path.relative_to(root)), specs)
    if problems:
        raise SpecError(problems)
    return sets
