"""One self-contained HTML page documenting a spec: the flow diagram (inline SVG from Graphviz), the servers, every
channel with its messages and bindings, each event's schema, and every subscriber with its filter, retry and DLQ
policy and alert thresholds.

Written by the kit rather than with AsyncAPI's HTML template: that template runs through the AsyncAPI generator,
which installs templates from npm at run time, and this page must build offline. The page loads nothing: a Content
Security Policy forbids every fetch and script, so it renders the same from a file, a CI artifact or a web server.
"""

from __future__ import annotations

import json
import re
from html import escape
from pathlib import Path
from typing import Any

from edakit.asyncapi.diagram import diagram
from edakit.asyncapi.export import export_spec
from edakit.spec import load_spec
from edakit.spec.model import Spec, Subscriber

MAX_SCHEMA_CHARS = 20_000  # a schema longer than this is shown cut (the file is linked by path)
CSS = """
body{font-family:system-ui,Helvetica,Arial,sans-serif;margin:2rem;color:#1f2328;max-width:80rem}
h1{margin-bottom:.2rem} h2{border-bottom:1px solid #d0d7de;padding-bottom:.3rem;margin-top:2rem}
table{border-collapse:collapse;margin:.5rem 0} td,th{border:1px solid #d0d7de;padding:.25rem .6rem;text-align:left;
vertical-align:top} th{background:#f6f8fa} pre{background:#f6f8fa;padding:.6rem;overflow:auto;max-height:24rem}
section.item{border:1px solid #d0d7de;border-radius:6px;padding:.2rem 1rem 1rem;margin:1rem 0}
.diagram svg{max-width:100%;height:auto} nav a{margin-right:1rem} code{background:#f6f8fa;padding:0 .2rem}
"""


def _json(value: Any) -> str:
    return escape(json.dumps(value, indent=2, ensure_ascii=False, sort_keys=False))


def _table(rows: list[tuple[str, Any]]) -> str:
    cells = "".join(f"<tr><th>{escape(k)}</th><td>{v}</td></tr>" for k, v in rows)
    return f"<table>{cells}</table>"


def _anchor(kind: str, name: str) -> str:
    return f"{kind}-{re.sub(r'[^A-Za-z0-9_-]', '_', name)}"


def _svg(spec: Spec) -> str:
    svg = diagram(spec, "svg").decode("utf-8")
    start = svg.find("<svg")
    return svg[start:] if start >= 0 else ""


def _schema_text(spec: Spec, event: str) -> str:
    path = spec.events[event].schema_path
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        return f"(cannot read {escape(spec.events[event].schema)}: {escape(exc.strerror or str(exc))})"
    if len(text) > MAX_SCHEMA_CHARS:
        text = text[:MAX_SCHEMA_CHARS] + "\n… (cut)"
    return escape(text)


def _subscriber(spec: Spec, sub: Subscriber, operation: dict[str, Any]) -> str:
    rows: list[tuple[str, Any]] = [
        ("channel", f'<a href="#{_anchor("channel", sub.channel)}">{escape(sub.channel)}</a>'),
        ("parallelism", sub.parallelism),
    ]
    if sub.consumer_group:
        rows.append(("consumer group", escape(sub.consumer_group)))
    if sub.filter is not None:
        rows.append(("filter", f"scope {escape(sub.filter.scope)}<pre>{_json(sub.filter.policy)}</pre>"))
    else:
        rows.append(("filter", "none: every message of the channel"))
    rows.append(("retry", escape(f"backoff {sub.retry.min_backoff_seconds}s to {sub.retry.max_backoff_seconds}s, "
                                 f"events older than {sub.retry.max_event_age_seconds}s are not retried")))
    dlq = operation.get("x-edakit-dlq", {})
    dlq_text = (f"after {sub.dlq.max_receive_count} deliveries to {dlq.get('name', 'the DLQ')}"
                + (f", kept {sub.dlq.retention_hours} h" if sub.dlq.retention_hours is not None else "")
                if sub.dlq.enabled else "disabled")
    rows.append(("DLQ", escape(dlq_text)))
    if dlq.get("retryTopics"):
        rows.append(("retry topics", "<br>".join(escape(t) for t in dlq["retryTopics"])))
    alerts = sub.alerts
    rows.append(("alert thresholds", _table([
        ("lag (messages)", alerts.lag_messages), ("lag (seconds)", alerts.lag_seconds),
        ("DLQ messages", alerts.dlq_messages), ("error ratio", alerts.error_ratio),
        ("for (seconds)", alerts.for_seconds)])))
    if operation.get("bindings"):
        rows.append(("bindings", f"<pre>{_json(operation['bindings'])}</pre>"))
    description = f"<p>{escape(sub.description)}</p>" if sub.description else ""
    return (f'<section class="item subscriber" id="{_anchor("subscriber", sub.name)}">'
            f"<h3>Subscriber {escape(sub.name)}</h3>{description}{_table(rows)}</section>")


def page(spec: Spec, document: dict[str, Any]) -> str:
    channels_doc = document.get("channels", {})
    operations = document.get("operations", {})
    parts = [f"<h1>{escape(spec.name)}</h1>",
             f"<p>{escape(spec.description or '')}</p>",
             _table([("broker", escape(spec.broker)), ("environment", escape(spec.environment or "base")),
                     ("environments", escape(", ".join(spec.environments) or "none")),
                     ("pattern", escape(spec.pattern or "none"))]),
             '<nav><a href="#flow">Flow</a><a href="#servers">Servers</a><a href="#channels">Channels</a>'
             '<a href="#messages">Messages</a><a href="#subscribers">Subscribers</a></nav>',
             f'<h2 id="flow">Flow</h2><div class="diagram">{_svg(spec)}</div>',
             '<h2 id="servers">Servers</h2>',
             _table([(name, escape(f"{s['protocol']}://{s['host']}") + (f" — {escape(s['description'])}"
                                                                          if s.get("description") else ""))
                     for name, s in document.get("servers", {}).items()]),
             '<h2 id="channels">Channels</h2>']
    for channel in spec.channels.values():
        exported = channels_doc.get(channel.name, {})
        subs = ", ".join(f'<a href="#{_anchor("subscriber", s.name)}">{escape(s.name)}</a>'
                         for s in spec.subscribers_of(channel.name)) or "none"
        rows = [("address", f"<code>{escape(exported.get('address', channel.resource_name))}</code>"),
                ("broker", escape(channel.broker)),
                ("events", ", ".join(f'<a href="#{_anchor("message", e)}">{escape(e)}</a>' for e in channel.events)),
                ("subscribers", subs)]
        if channel.attribute_headers or channel.native_attributes:
            rows.append(("declared attributes", escape(", ".join([*channel.attribute_headers,
                                                                   *channel.native_attributes]))))
        if exported.get("bindings"):
            rows.append(("bindings", f"<pre>{_json(exported['bindings'])}</pre>"))
        description = f"<p>{escape(channel.description)}</p>" if channel.description else ""
        parts.append(f'<section class="item channel" id="{_anchor("channel", channel.name)}">'
                     f"<h3>Channel {escape(channel.name)}</h3>{description}{_table(rows)}</section>")
    parts.append('<h2 id="messages">Messages</h2>')
    for event in spec.events.values():
        rows = [("schema", f"<code>{escape(event.schema)}</code>"), ("version", event.version),
                ("domain", escape(event.domain or "none"))]
        description = f"<p>{escape(event.description)}</p>" if event.description else ""
        parts.append(f'<section class="item message" id="{_anchor("message", event.name)}">'
                     f"<h3>Message {escape(event.name)}</h3>{description}{_table(rows)}"
                     f"<pre>{_schema_text(spec, event.name)}</pre></section>")
    parts.append('<h2 id="subscribers">Subscribers</h2>')
    for sub in spec.subscribers.values():
        parts.append(_subscriber(spec, sub, operations.get(f"receive-{sub.name}", {})))
    if spec.claim_check is not None:
        cc = spec.claim_check
        parts.append('<h2 id="claim-check">Claim check</h2>' + _table([
            ("store", escape(f"{cc.store}: {cc.name}")), ("payloads expire after", f"{cc.payload_expiration_days} d"),
            ("channels", escape(", ".join(cc.channels or spec.channels)))]))
    body = "\n".join(parts)
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; "
        "img-src data:\">"
        f"<title>{escape(spec.name)} — eda-kit</title><style>{CSS}</style></head>\n<body>\n{body}\n</body></html>\n"
    )


def write_site(spec_path: str | Path, env: str | None, out: Path) -> Path:
    """Write the page for the spec (and environment) to `out`; raises SpecError for a bad spec."""
    spec = load_spec(spec_path, env)
    document = export_spec(spec_path, env, out_dir=out.parent.resolve())
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(page(spec, document), encoding="utf-8")
    return out
