"""Spec -> one Grafana dashboard (`dashboards/<spec>.json`), built with grafana-foundation-sdk, not written by hand.

The event flow of every environment of the spec, one row each: publish and consume rates per channel, lag per
subscriber in messages and in seconds, DLQ depth, outbox age, event-store relay and projection lag, handler p95 and error rate, and the rates of retried,
dead-lettered and duplicate-skipped deliveries (the runtime's `edakit.messages.*` counters). The queries read the
same series as the generated alert rules (`alerts.measured`), so a panel shows what an alert fires on.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from grafana_foundation_sdk.builders.dashboard import Dashboard, DatasourceVariable, Row
from grafana_foundation_sdk.builders.prometheus import Dataquery
from grafana_foundation_sdk.builders.timeseries import Panel as Timeseries
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models.dashboard import DataSourceRef

from edakit.observability import metrics_names as m
from edakit.observability.alerts import (
    CONSUMER_GROUP,
    DESTINATION,
    ERROR_TYPE,
    PROCESS_DURATION,
    SENT_MESSAGES,
    CONSUMED_MESSAGES,
    Series,
    measured,
)
from edakit.spec.model import Spec

# The runtime's own counters (edakit.runtime.middleware.metrics) as a Prometheus exporter writes them.
DECISIONS = (("edakit_messages_retried_total", "retried"), ("edakit_messages_dead_lettered_total", "dead-lettered"),
             ("edakit_messages_duplicates_skipped_total", "duplicates skipped"))
DATASOURCE = DataSourceRef(type_val="prometheus", uid="${datasource}")
RATE = "[$__rate_interval]"


_RE2_SPECIAL = re.compile(r"([\\.+*?()|\[\]{}^$])")


def _regex(values: list[str]) -> str:
    """An RE2 alternation matching exactly `values`, escaped for a PromQL string."""
    escaped = (_RE2_SPECIAL.sub(r"\\\1", value) for value in sorted(set(values)))
    return "|".join(escaped).replace("\\", "\\\\")


def _panel(title: str, unit: str, description: str, targets: list[tuple[str, str]]) -> Timeseries:
    panel = Timeseries().title(title).description(description).unit(unit).min(0).datasource(DATASOURCE)
    panel = panel.height(8).span(8)
    for index, (expr, legend) in enumerate(targets):
        panel = panel.with_target(Dataquery().expr(expr).legend_format(legend).ref_id(chr(ord("A") + index)))
    return panel


def _per_subscriber(spec: Spec, pick: str, op: str) -> list[tuple[str, str]]:
    targets = []
    for sub in spec.subscribers.values():
        series: Series | None = getattr(measured(spec, sub), pick)
        if series is not None:
            targets.append((series.aggregate(op), sub.name))
    return targets


def _environment_row(spec: Spec, dashboard: Dashboard, collapsed: bool) -> Dashboard:
    env = spec.environment or "base"
    topics = [c.resource_name for c in spec.channels.values()]
    consumers = {sub.name: measured(spec, sub) for sub in spec.subscribers.values()}
    groups = _regex([c.consumer for c in consumers.values()])
    destinations = _regex([c.destination for c in consumers.values()])
    in_groups = f'{CONSUMER_GROUP}=~"{groups}",{DESTINATION}=~"{destinations}"'
    dashboard = dashboard.with_row(Row(f"{env}").collapsed(collapsed))
    dashboard = dashboard.with_panel(_panel(
        "Published per channel", "msg/s", "OpenTelemetry messaging.client.sent.messages, per topic.",
        [(f'sum by ({DESTINATION}) (rate({SENT_MESSAGES}{{{DESTINATION}=~"{_regex(topics)}"}}{RATE}))',
          f"{{{{{DESTINATION}}}}}")]))
    dashboard = dashboard.with_panel(_panel(
        "Consumed per subscriber", "msg/s", "OpenTelemetry messaging.client.consumed.messages, per consumer group.",
        [(f"sum by ({CONSUMER_GROUP}) (rate({CONSUMED_MESSAGES}{{{in_groups}}}{RATE}))",
          f"{{{{{CONSUMER_GROUP}}}}}")]))
    for title, unit, description, pick, op in (
        ("Lag per subscriber (messages)", "short", "edakit lag serve: messages not yet consumed.", "lag_messages",
         "sum"),
        ("Lag per subscriber (age)", "s", "edakit lag serve: age of the oldest message not yet consumed.",
         "lag_seconds", "max"),
        ("Dead-letter queue depth", "short", "Messages that failed every attempt (Kafka: DLQ topic end offset).",
         "dlq_messages", "sum"),
    ):
        if targets := _per_subscriber(spec, pick, op):  # a broker without the figure gets no empty panel
            dashboard = dashboard.with_panel(_panel(title, unit, description, targets))
    dashboard = dashboard.with_panel(_panel(
        "Outbox oldest unpublished row", "s", "edakit lag serve: per outbox relay.",
        [(f"max by ({m.LABEL_RELAY}) ({m.OUTBOX_OLDEST_AGE_SECONDS})", f"{{{{{m.LABEL_RELAY}}}}}")]))
    dashboard = dashboard.with_panel(_panel(
        "Event-store relay and projection lag", "s",
        "edakit lag serve --store: age of the oldest event each relay has not published and each projection has not "
        "applied.",
        [(f"max by ({m.LABEL_TARGET}, {m.LABEL_RELAY}) ({m.EVENT_STORE_RELAY_LAG_SECONDS})",
          f"relay {{{{{m.LABEL_RELAY}}}}}"),
         (f"max by ({m.LABEL_TARGET}, {m.LABEL_PROJECTION}) ({m.EVENT_STORE_PROJECTION_LAG_SECONDS})",
          f"projection {{{{{m.LABEL_PROJECTION}}}}}")]))
    dashboard = dashboard.with_panel(_panel(
        "Handler p95", "s", "OpenTelemetry messaging.process.duration, 95th percentile per consumer group.",
        [(f"histogram_quantile(0.95, sum by (le, {CONSUMER_GROUP}) "
          f"(rate({PROCESS_DURATION}_bucket{{{in_groups}}}{RATE})))", f"{{{{{CONSUMER_GROUP}}}}}")]))
    dashboard = dashboard.with_panel(_panel(
        "Handler error rate", "percentunit", "Share of processed messages whose processing set error.type.",
        [(f'sum by ({CONSUMER_GROUP}) (rate({PROCESS_DURATION}_count{{{in_groups},{ERROR_TYPE}!=""}}{RATE})) / '
          f"sum by ({CONSUMER_GROUP}) (rate({PROCESS_DURATION}_count{{{in_groups}}}{RATE}))",
          f"{{{{{CONSUMER_GROUP}}}}}")]))
    dashboard = dashboard.with_panel(_panel(
        "Retried, dead-lettered, duplicates skipped", "msg/s",
        "Deliveries retry() nacked or dead-lettered and the idempotency middleware skipped, per consumer group.",
        [(f"sum by ({CONSUMER_GROUP}) (rate({metric}{{{in_groups}}}{RATE}))", f"{{{{{CONSUMER_GROUP}}}}} {what}")
         for metric, what in DECISIONS]))
    return dashboard


def dashboard(specs: list[Spec], source: str) -> Dashboard:
    """The dashboard of one spec: a row per environment (the first open, the others collapsed)."""
    name = specs[0].name
    board = (
        Dashboard(f"eda-kit / {name}")
        .uid(f"edakit-{name}"[:40])
        .description(f"Event flow of {source}, generated by `edakit dashboards`: edit the spec, not this file.")
        .tags(["edakit", "generated", specs[0].broker])
        .time("now-6h", "now")
        .refresh("1m")
        .with_variable(DatasourceVariable("datasource").label("Prometheus").type("prometheus"))
    )
    for index, spec in enumerate(specs):
        board = _environment_row(spec, board, collapsed=index > 0)
    return board


def render_files(spec_sets: Mapping[str, tuple[str, list[Spec]]]) -> dict[str, str]:
    """Relative path -> JSON, one dashboard per spec that has subscribers."""
    encoder = JSONEncoder(sort_keys=True, indent=2)
    return {
        f"dashboards/{name}.json": encoder.encode(dashboard(specs, source).build()) + "\n"
        for name, (source, specs) in sorted(spec_sets.items())
        if any(spec.subscribers for spec in specs)
    }
