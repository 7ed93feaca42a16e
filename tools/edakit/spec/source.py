"""YAML -> plain data plus the line/column of every key, with duplicate keys and syntax errors as problems."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from edakit.spec.errors import KeyPath, Problem, format_path

# Tags whose Python values are not JSON data: keep the scalar's text so the schema reports a clear type error.
_TEXT_TAGS = {"tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:binary"}


@dataclass
class Document:
    """Parsed spec: `data` is JSON-shaped; `positions` maps each key path to its 1-based (line, column).

    After an environment merge, `origins` maps a merged key path to where its value is written
    (`subscribers.billing.dlq` -> `environments.prod.subscribers.billing.dlq`), so problems name the written key.
    """

    file: str
    data: Any
    positions: dict[KeyPath, tuple[int, int]] = field(default_factory=dict)
    origins: dict[KeyPath, KeyPath] = field(default_factory=dict)

    def locate(self, path: KeyPath) -> tuple[int, int]:
        """Position of `path`, or of its nearest ancestor that exists (a missing key is reported at its parent)."""
        for end in range(len(path), -1, -1):
            if path[:end] in self.positions:
                return self.positions[path[:end]]
        return (1, 1)

    def written_path(self, path: KeyPath) -> KeyPath:
        for end in range(len(path), 0, -1):
            if path[:end] in self.origins:
                return self.origins[path[:end]] + path[end:]
        return path

    def problem(self, path: KeyPath, message: str) -> Problem:
        line, column = self.locate(path)
        return Problem(self.file, line, column, format_path(self.written_path(path)), message)


def parse(text: str, file: str) -> tuple[Document, list[Problem]]:
    """Parse one YAML document; syntax errors and duplicate keys come back as problems, never exceptions."""
    yaml = YAML(typ="safe", pure=True)
    document = Document(file=file, data=None, positions={(): (1, 1)})
    try:
        root = yaml.compose(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        context = f"{exc.context}, " if exc.context else ""
        return document, [Problem(file, line, column, "(root)", f"invalid YAML: {context}{exc.problem}")]
    except YAMLError as exc:
        return document, [Problem(file, 1, 1, "(root)", f"invalid YAML: {exc}")]
    if root is None:
        return document, [Problem(file, 1, 1, "(root)", "the spec is empty; expected a mapping with at least `name`")]
    problems: list[Problem] = []
    document.data = _build(root, (), document, problems, yaml, frozenset())
    return document, problems


def _build(
    node: Node, path: KeyPath, doc: Document, problems: list[Problem], yaml: YAML, stack: frozenset[int]
) -> Any:
    if id(node) in stack:  # an alias that contains itself would never end
        problems.append(doc.problem(path, "recursive YAML alias; expected plain data"))
        return None
    stack = stack | {id(node)}
    if isinstance(node, MappingNode):
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, ScalarNode) or str(key_node.tag) != "tag:yaml.org,2002:str":
                line, column = key_node.start_mark.line + 1, key_node.start_mark.column + 1
                problems.append(Problem(doc.file, line, column, format_path(path), "keys must be plain strings"))
                continue
            key = key_node.value
            child = (*path, key)
            position = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            if key in result:
                first_line, _ = doc.positions[child]
                message = f"duplicate key (first defined on line {first_line})"
                problems.append(Problem(doc.file, *position, format_path(child), message))
                continue
            doc.positions[child] = position
            result[key] = _build(value_node, child, doc, problems, yaml, stack)
        return result
    if isinstance(node, SequenceNode):
        items = []
        for index, item in enumerate(node.value):
            doc.positions[(*path, index)] = (item.start_mark.line + 1, item.start_mark.column + 1)
            items.append(_build(item, (*path, index), doc, problems, yaml, stack))
        return items
    if str(node.tag) in _TEXT_TAGS:
        return node.value
    try:
        return yaml.constructor.construct_object(node, deep=True)
    except MarkedYAMLError as exc:  # e.g. a custom tag such as `!Ref x`
        problems.append(doc.problem(path, f"unsupported YAML value: {exc.problem}"))
        return node.value  # the problem is reported once; the text keeps the schema from adding a type error
