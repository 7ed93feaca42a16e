"""`edakit diagram`: the flow graph of each spec (publishers, channels, subscribers with abridged filters, retry
topics, DLQs, claim-check store, saga steps), rendered by Graphviz and written as Mermaid; the README diagram files
are generated and checked to be current."""

from __future__ import annotations

import html
import json
import re
import shutil

from click.testing import CliRunner
from asyncapi_paths import CONFIGS
from hypothesis import given, settings
from hypothesis import strategies as st

from edakit.asyncapi.diagram import (
    _dot_text,
    _mermaid_text,
    abridged,
    diagram,
    flow,
    stale_readme_diagrams,
    to_dot,
    write_readme_diagrams,
)
from edakit.asyncapi.export import dead_letter_names
from edakit.cli import main
from edakit.spec import load_spec


def test_kafka_flow_has_every_subscriber_its_retry_topics_and_dlq(repo_root):
    spec = load_spec(repo_root / "configs/order-events-kafka.yaml", "prod")
    graph = flow(spec)
    kinds = {node.id: node.kind for node in graph.nodes.values()}
    assert kinds["ch:order-placed"] == "channel"
    assert {n for n, k in kinds.items() if k == "subscriber"} == {"sub:email", "sub:billing", "sub:audit"}
    billing_dlq = dead_letter_names(spec, spec.subscribers["billing"])["dlq"]
    assert graph.nodes["dlq:billing"].label == f"DLQ {billing_dlq}"
    assert graph.nodes["retry:billing"].label.startswith("3 retry topic(s)")
    assert any(e.source == "sub:billing" and e.target == "dlq:billing" and "4 deliveries" in e.label
               for e in graph.edges)
    assert "publishers: User:order-service" in graph.nodes["pub:order-placed"].label


def test_sns_flow_labels_filters_abridged(repo_root):
    graph = flow(load_spec(repo_root / "configs/order-events-sns.yaml"))
    labels = {(e.source, e.target): e.label for e in graph.edges}
    assert labels[("ch:order-placed", "sub:email")] == 'filter {"event_type":["OrderPlaced"]}'
    assert labels[("ch:order-placed", "sub:billing")].startswith('filter {"total_amount"')
    assert len(labels[("ch:order-placed", "sub:billing")]) <= len("filter ") + 40
    assert labels[("ch:order-placed", "sub:audit")] == ""
    assert "retry:email" not in graph.nodes  # SQS redelivers itself: no retry topics


def test_claim_check_store_and_saga_steps_are_drawn(repo_root):
    claims = flow(load_spec(repo_root / "configs/order-claim-check.yaml"))
    assert claims.nodes["store"].kind == "store"
    assert {(e.source, e.target) for e in claims.edges if e.dashed} >= {
        ("pub:order-documents", "store"), ("store", "sub:invoicing"), ("store", "sub:archive")}
    saga = flow(load_spec(repo_root / "configs/order-saga.yaml"))
    steps = [n.id for n in saga.nodes.values() if n.kind == "step" and n.id.startswith("step:")]
    assert steps == ["step:CreateOrder", "step:ProcessPayment", "step:ShipOrder"]
    assert [(e.source, e.target) for e in saga.edges if e.label in ("starts", "then")] == [
        ("saga", "step:CreateOrder"), ("step:CreateOrder", "step:ProcessPayment"),
        ("step:ProcessPayment", "step:ShipOrder")]
    assert "undo:CreateOrder" in saga.nodes


def test_every_config_renders_to_svg_and_mermaid_naming_every_channel_and_subscriber(repo_root):
    for path in CONFIGS:
        spec = load_spec(path)
        svg = html.unescape(diagram(spec, "svg").decode())  # Graphviz writes "-" as &#45;
        mermaid = diagram(spec, "mermaid").decode()
        assert svg.lstrip().startswith("<?xml") and "</svg>" in svg
        assert mermaid.startswith("flowchart LR\n")
        for name in [*spec.channels, *spec.subscribers]:
            assert name in svg, (path, name)
            assert name in mermaid, (path, name)
    png = diagram(load_spec(repo_root / "configs/order-events-kafka.yaml"), "png")
    assert png[:8] == b"\x89PNG\r\n\x1a\n"


def test_diagram_cli_formats_and_a_bad_spec(repo_root, tmp_path):
    runner = CliRunner()
    result = runner.invoke(main, ["diagram", str(repo_root / "configs/order-events-kafka.yaml"), "--format", "dot"])
    assert result.exit_code == 0 and result.output.startswith('digraph "orders-kafka"')
    out = tmp_path / "d.svg"
    result = runner.invoke(main, ["diagram", str(repo_root / "configs/order-events-sns.yaml"), "-o", str(out)])
    assert result.exit_code == 0 and "<svg" in out.read_text()
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: [\n", encoding="utf-8")
    result = runner.invoke(main, ["diagram", str(bad)])
    assert result.exit_code == 2 and "Traceback" not in result.output


def test_readme_diagrams_are_written_and_checked_current(repo_root, tmp_path):
    (tmp_path / "pyproject.toml").write_text("", encoding="utf-8")
    (tmp_path / "configs").mkdir()
    shutil.copy(repo_root / "configs/order-events-sns.yaml", tmp_path / "configs")
    shutil.copytree(repo_root / "schemas/order-events", tmp_path / "schemas/order-events")
    files = ["docs/diagrams/order-fanout.svg", "docs/diagrams/order-fanout.mmd", "docs/diagrams/order-fanout.dot"]
    assert len(stale_readme_diagrams(tmp_path)) == 3  # missing
    written = write_readme_diagrams(tmp_path)
    assert [p.relative_to(tmp_path).as_posix() for p in written] == files
    assert stale_readme_diagrams(tmp_path) == []
    # the SVG's bytes vary with the Graphviz version: another drawing of the same source is still current
    svg = tmp_path / files[0]
    svg.write_text(svg.read_text().replace("</svg>", "<!-- another dot version -->\n</svg>"), encoding="utf-8")
    assert stale_readme_diagrams(tmp_path) == []
    spec = tmp_path / "configs/order-events-sns.yaml"
    spec.write_text(spec.read_text().replace("  audit:\n", "  auditing:\n"), encoding="utf-8")
    assert [p.split(":")[0] for p in stale_readme_diagrams(tmp_path)] == files


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=60))
def test_labels_are_escaped_for_dot_and_mermaid(text):
    dot = _dot_text(text)
    assert "\n" not in dot
    assert not re.search(r'(?<!\\)(\\\\)*"', dot)  # every double quote escaped
    mermaid = _mermaid_text(text)
    assert '"' not in mermaid and "\n" not in mermaid
    assert mermaid.count("<") == mermaid.count("<br/>") == text.count("\n")  # only the line breaks are markup


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.text(max_size=10), st.lists(st.text(max_size=10), max_size=3), max_size=4)
       | st.text(max_size=100))
def test_abridged_filters_stay_short_and_keep_short_ones_whole(policy):
    text = abridged(policy)
    assert len(text) <= 40 and "\n" not in text
    if not text.endswith("…"):
        assert text == " ".join((policy if isinstance(policy, str) else
                                 json.dumps(policy, separators=(",", ":"), sort_keys=True)).split())


def test_a_label_with_quotes_and_newlines_still_renders(repo_root):
    from edakit.asyncapi.diagram import Edge, Flow, Node, render

    graph = Flow('odd "name"\\')
    graph.add(Node('a"b', 'say "hi"\\\nnext line', "channel"))
    graph.add(Node("c", "{x}|<y>", "subscriber"))
    graph.edges.append(Edge('a"b', "c", 'filter {"k":["v"]}'))
    assert b"say &quot;hi&quot;" in render(to_dot(graph), "svg")
