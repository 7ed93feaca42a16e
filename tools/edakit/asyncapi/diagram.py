"""The event flow a spec builds, as a graph: publishers -> channels -> subscribers (with their filters, abridged),
each subscriber's retry topics and DLQ, the claim-check store, and the saga's steps.

One graph (`flow`), two notations: Graphviz dot (`to_dot`, rendered to svg/png by the `dot` program of Debian's
graphviz package) and Mermaid (`to_mermaid`, for READMEs). Labels are escaped for each notation.
"""

from __future__ import annotations

import hashlib

import json
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from edakit.asyncapi.export import dead_letter_names
from edakit.spec.model import Spec

FILTER_CHARS = 40
DOT_TIMEOUT_SECONDS = 30


@dataclass(frozen=True)
class Node:
    id: str
    label: str
    kind: str  # publisher | channel | subscriber | retry | dlq | store | saga | step


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    label: str = ""
    dashed: bool = False


@dataclass
class Flow:
    title: str
    nodes: dict[str, Node] = field(default_factory=dict)
    edges: list[Edge] = field(default_factory=list)

    def add(self, node: Node) -> str:
        self.nodes.setdefault(node.id, node)
        return node.id


def abridged(policy: object, limit: int = FILTER_CHARS) -> str:
    """A filter policy in one short line: compact JSON (or the pattern text), cut with an ellipsis."""
    text = policy if isinstance(policy, str) else json.dumps(policy, separators=(",", ":"), sort_keys=True)
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def flow(spec: Spec) -> Flow:
    graph = Flow(spec.name + (f" ({spec.environment})" if spec.environment else ""))
    store = None
    if spec.claim_check is not None:
        store = graph.add(Node("store", f"claim-check {spec.claim_check.store}: {spec.claim_check.name}", "store"))
    offloaded = set(spec.claim_check.channels or spec.channels) if spec.claim_check else set()
    for channel in spec.channels.values():
        producers = channel.kafka.producers if channel.kafka and channel.kafka.producers else ()
        publisher = graph.add(Node(f"pub:{channel.name}", "publishers: " + (", ".join(producers) or "any"),
                                   "publisher"))
        topic = graph.add(Node(f"ch:{channel.name}", f"{channel.name}\n{channel.broker}: {channel.resource_name}",
                               "channel"))
        graph.edges.append(Edge(publisher, topic, ", ".join(channel.events)))
        if store and channel.name in offloaded:
            graph.edges.append(Edge(publisher, store, "offloads payload", dashed=True))
        for sub in spec.subscribers_of(channel.name):
            node = graph.add(Node(f"sub:{sub.name}", f"{sub.name}\nparallelism {sub.parallelism}", "subscriber"))
            label = f"filter {abridged(sub.filter.policy)}" if sub.filter else ""
            graph.edges.append(Edge(topic, node, label))
            names = dead_letter_names(spec, sub)
            if names["retry"]:
                retry = graph.add(Node(f"retry:{sub.name}", f"{len(names['retry'])} retry topic(s)\n"
                                       f"{names['retry'][0]}…", "retry"))
                graph.edges.append(Edge(node, retry, "fails", dashed=True))
                graph.edges.append(Edge(retry, node, f"after {sub.retry.min_backoff_seconds}s+", dashed=True))
            if names["dlq"]:
                dlq = graph.add(Node(f"dlq:{sub.name}", f"DLQ {names['dlq']}", "dlq"))
                graph.edges.append(Edge(node, dlq, f"after {sub.dlq.max_receive_count} deliveries", dashed=True))
            if store and channel.name in offloaded:
                graph.edges.append(Edge(store, node, "fetches payload", dashed=True))
    if spec.saga is not None:
        _saga(spec, graph)
    return graph


def _saga(spec: Spec, graph: Flow) -> None:
    from edakit.saga.loader import SagaError, load_saga

    try:
        saga = load_saga(spec.saga.definition_path)
    except SagaError:
        graph.add(Node("saga", f"saga {spec.saga.definition} (does not load)", "saga"))
        return
    previous = graph.add(Node("saga", f"saga {saga.name}", "saga"))
    for step in saga.steps:
        node = graph.add(Node(f"step:{step.name}", f"{step.name}\n{step.action.service}", "step"))
        graph.edges.append(Edge(previous, node, "then" if previous != "saga" else "starts"))
        if step.compensation is not None:
            undo = graph.add(Node(f"undo:{step.name}", f"undo {step.name}\n{step.compensation.service}", "step"))
            graph.edges.append(Edge(node, undo, "compensate", dashed=True))
        if step.channel and f"ch:{step.channel}" in graph.nodes:
            graph.edges.append(Edge(node, f"ch:{step.channel}", "commands", dashed=True))
        previous = node


SHAPES = {"publisher": ("box", "#e8f0fe"), "channel": ("cds", "#fde7c7"), "subscriber": ("box", "#e6f4ea"),
          "retry": ("box", "#fff8d6"), "dlq": ("box", "#fbe2e2"), "store": ("cylinder", "#ede7f6"),
          "saga": ("oval", "#e0f2f1"), "step": ("box", "#e0f2f1")}


def _dot_text(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def to_dot(graph: Flow) -> str:
    lines = [f'digraph "{_dot_text(graph.title)}" {{', "  rankdir=LR;",
             f'  label="{_dot_text(graph.title)}"; labelloc=t; fontname="Helvetica";',
             '  node [fontname="Helvetica", fontsize=11, style="rounded,filled"];',
             '  edge [fontname="Helvetica", fontsize=9];']
    for node in graph.nodes.values():
        shape, colour = SHAPES[node.kind]
        lines.append(f'  "{_dot_text(node.id)}" [label="{_dot_text(node.label)}", shape={shape}, '
                     f'fillcolor="{colour}"];')
    for edge in graph.edges:
        style = ", style=dashed" if edge.dashed else ""
        lines.append(f'  "{_dot_text(edge.source)}" -> "{_dot_text(edge.target)}" '
                     f'[label="{_dot_text(edge.label)}"{style}];')
    lines.append("}")
    return "\n".join(lines) + "\n"


def _mermaid_text(text: str) -> str:
    # Mermaid labels in "...": a double quote and markup characters as HTML entities, line breaks as <br/>.
    for char, entity in (("&", "#amp;"), ('"', "#quot;"), ("<", "#lt;"), (">", "#gt;")):
        text = text.replace(char, entity)
    return text.replace("\n", "<br/>")


MERMAID_SHAPES = {"publisher": ('["', '"]'), "channel": ('[/"', '"/]'), "subscriber": ('["', '"]'),
                  "retry": ('["', '"]'), "dlq": ('["', '"]'), "store": ('[("', '")]'), "saga": ('(["', '"])'),
                  "step": ('["', '"]')}


def to_mermaid(graph: Flow) -> str:
    ids = {node_id: f"n{i}" for i, node_id in enumerate(graph.nodes)}
    lines = ["flowchart LR"]
    for node in graph.nodes.values():
        start, end = MERMAID_SHAPES[node.kind]
        lines.append(f"  {ids[node.id]}{start}{_mermaid_text(node.label)}{end}")
    for edge in graph.edges:
        arrow = "-.->" if edge.dashed else "-->"
        label = f'|"{_mermaid_text(edge.label)}"|' if edge.label else ""
        lines.append(f"  {ids[edge.source]} {arrow}{label} {ids[edge.target]}")
    return "\n".join(lines) + "\n"


class GraphvizMissing(RuntimeError):
    """`dot` is not on PATH (Debian: apt-get install graphviz; scripts/setup-system.sh does)."""


def render(dot_source: str, fmt: str) -> bytes:
    """svg or png bytes from Graphviz `dot`."""
    dot = shutil.which("dot")
    if dot is None:
        raise GraphvizMissing("Graphviz `dot` not found: install Debian's graphviz (scripts/setup-system.sh)")
    result = subprocess.run([dot, f"-T{fmt}"], input=dot_source.encode(), capture_output=True,
                            timeout=DOT_TIMEOUT_SECONDS, check=False)
    if result.returncode != 0:
        raise GraphvizMissing(f"dot -T{fmt} failed: {' '.join(result.stderr.decode(errors='replace').split())}")
    return result.stdout


def diagram(spec: Spec, fmt: str) -> bytes:
    graph = flow(spec)
    if fmt == "mermaid":
        return to_mermaid(graph).encode()
    if fmt == "dot":
        return to_dot(graph).encode()
    return render(to_dot(graph), fmt)


README_SPEC = "configs/order-events-sns.yaml"
README_DIAGRAMS = ("docs/diagrams/order-fanout.svg", "docs/diagrams/order-fanout.mmd", "docs/diagrams/order-fanout.dot")
# The SVG's bytes depend on the Graphviz version that drew it; what must be current is the graph it was drawn from.
# The SVG carries the SHA-256 of its dot source, so staleness is checked on the dot and Mermaid text alone.
SOURCE_MARK = "<!-- edakit diagram source sha256: {} -->"


def _marked_svg(dot_source: str) -> bytes:
    svg = render(dot_source, "svg").decode()
    mark = SOURCE_MARK.format(hashlib.sha256(dot_source.encode()).hexdigest())
    head, sep, rest = svg.partition("?>")  # after the XML declaration when there is one
    return ((head + sep + "\n" + mark + rest) if sep else (mark + "\n" + svg)).encode()


def readme_diagrams(root: Path, *, draw: bool = True) -> dict[Path, bytes]:
    """The README's fan-out diagram (svg, Mermaid and its dot source) as generated from configs/order-events-sns.yaml;
    without `draw`, the SVG's value is only the source mark it must carry."""
    from edakit.spec import load_spec

    graph = flow(load_spec(root / README_SPEC))
    dot_source = to_dot(graph)
    svg = _marked_svg(dot_source) if draw else SOURCE_MARK.format(hashlib.sha256(dot_source.encode()).hexdigest()).encode()
    return {root / README_DIAGRAMS[0]: svg, root / README_DIAGRAMS[1]: to_mermaid(graph).encode(),
            root / README_DIAGRAMS[2]: dot_source.encode()}


def write_readme_diagrams(root: Path) -> list[Path]:
    """Write the README diagram files (make validate's generator); returns the paths written."""
    written = []
    for path, content in readme_diagrams(root).items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
        written.append(path)
    return written


def stale_readme_diagrams(root: Path) -> list[str]:
    """Problems when the committed README diagram files are missing or not what the spec generates now (the SVG:
    when it was not drawn from the current dot source; its bytes vary with the Graphviz version)."""
    problems = []
    svg_path = root / README_DIAGRAMS[0]
    for path, content in readme_diagrams(root, draw=False).items():
        if not path.is_file():
            problems.append(f"{path.relative_to(root)}: missing; run `edakit diagram --readme`")
        elif (content not in path.read_bytes()) if path == svg_path else (path.read_bytes() != content):
            problems.append(f"{path.relative_to(root)}: not current with {README_SPEC}; run `edakit diagram --readme`")
    return problems
