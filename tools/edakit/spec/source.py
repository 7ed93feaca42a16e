"""YAML -> plain data plus the line/column of every key, with duplicate keys, syntax errors and inputs beyond
the kit's limits (edakit.spec.limits: size, nesting, alias expansion) as problems."""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.composer import Composer
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.events import AliasEvent, MappingStartEvent, SequenceStartEvent
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from ruamel.yaml.reader import ReaderError

from edakit.spec import limits
from edakit.spec.errors import KeyPath, Problem, format_path

# Tags whose Python values are not JSON data: keep the scalar's text so the schema reports a clear type error.
_TEXT_TAGS = {"tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:binary"}
# A "\ud800" escape gives a lone UTF-16 surrogate: not a character, and it breaks every later encode().
_SURROGATE = re.compile("[\ud800-\udfff]")
_NOT_UNICODE = "a \\uD800-\\uDFFF escape on its own is not a Unicode character; expected Unicode text"


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


def written(doc: Document, *path: str) -> tuple[str, ...]:
    """`path` if the spec writes it, else its nearest written ancestor: problems point at what the user wrote."""
    while path and path not in doc.positions:
        path = path[:-1]
    return path


def first_written(doc: Document, *paths: tuple[str, ...]) -> tuple[str, ...]:
    """The first of `paths` the spec writes (the last one is the fallback)."""
    return next((path for path in paths if path in doc.positions), paths[-1])


class _LimitExceeded(MarkedYAMLError):
    """A node beyond a limit of edakit.spec.limits, raised while composing; `path` is where it is."""

    def __init__(self, message: str, mark: object, path: KeyPath) -> None:
        super().__init__(problem=message, problem_mark=mark)
        self.path = path


class _BoundedComposer(Composer):
    """ruamel's composer that refuses, at the node that crosses it, more than limits.MAX_NODES nodes, nesting
    deeper than limits.MAX_DEPTH and alias references expanding to more than limits.MAX_ALIAS_EXPANSION nodes.
    An alias adds its anchor's whole expanded subtree (aliases inside it included) to the expansion and that
    subtree's height to the depth, so what _build walks is bounded before it starts."""

    def __init__(self, loader: object = None) -> None:
        super().__init__(loader)
        self.key_path: list[str | int] = []
        self.open: list[list[int]] = []  # per open collection: [expanded nodes below it, height below it]
        self.anchored: dict[int, tuple[int, int]] = {}  # id(anchored node) -> (expanded nodes, height)
        self.expanded = 0
        self.nodes = 0

    def compose_node(self, parent: object, index: object) -> Node:
        event = self.parser.peek_event()
        part = index.value if isinstance(index, ScalarNode) else index if isinstance(index, int) else None
        path = (*self.key_path, part) if part is not None else tuple(self.key_path)
        if isinstance(event, AliasEvent):
            node = super().compose_node(parent, index)
            # an alias of a still open ancestor is not in `anchored`: _build reports the cycle
            size, height = self.anchored.get(id(node), (1, 0))
            self.expanded += size
            if self.expanded > limits.MAX_ALIAS_EXPANSION:
                raise _LimitExceeded(f"YAML aliases expand to more than {limits.MAX_ALIAS_EXPANSION} nodes; "
                                     "expected a document whose aliases repeat little (write the values out)",
                                     event.start_mark, path)
            self._check_depth(len(self.open) + height, event, path)
            self._close(size, height)
            return node
        self.nodes += 1
        if self.nodes > limits.MAX_NODES:
            raise _LimitExceeded(f"more than {limits.MAX_NODES} values (mappings, sequences, scalars and keys); "
                                 "expected a smaller document", event.start_mark, path)
        collection = isinstance(event, MappingStartEvent | SequenceStartEvent)
        if collection:
            self._check_depth(len(self.open) + 1, event, path)
            self.open.append([0, 0])
        if part is not None:
            self.key_path.append(part)
        node = super().compose_node(parent, index)
        if part is not None:
            self.key_path.pop()
        size, height = (1, 0)
        if collection:
            below, below_height = self.open.pop()
            size, height = 1 + below, 1 + below_height
        if node.anchor is not None:
            self.anchored[id(node)] = (size, height)
        self._close(size, height)
        return node

    def _check_depth(self, depth: int, event: object, path: KeyPath) -> None:
        if depth > limits.MAX_DEPTH:
            raise _LimitExceeded(f"nested more than {limits.MAX_DEPTH} levels deep; expected at most "
                                 f"{limits.MAX_DEPTH} levels of mappings and sequences", event.start_mark, path)

    def _close(self, size: int, height: int) -> None:
        if self.open:
            self.open[-1][0] += size
            self.open[-1][1] = max(self.open[-1][1], height)


def read_document(path: str | Path, *, what: str, max_bytes: int) -> tuple[Document, list[Problem]]:
    """Read and parse one YAML (or JSON) file within the kit's limits: how the kit reads a spec or an example event
    (a saga file takes the same two steps, limits.read_text then parse, in saga.loader). Problems (unreadable, too
    large, not UTF-8, invalid YAML, too deep, too many values) come back located."""
    file = str(path)
    text, problems = limits.read_text(path, max_bytes=max_bytes, what=what)
    if text is None:
        return Document(file=file, data=None, positions={(): (1, 1)}), problems
    return parse(text, file, what=what, max_bytes=max_bytes)


def parse(text: str, file: str, *, what: str = "spec",
          max_bytes: int = limits.MAX_SPEC_BYTES) -> tuple[Document, list[Problem]]:
    """Parse one YAML document; syntax errors, duplicate keys and inputs beyond the limits come back as
    problems, never exceptions."""
    document = Document(file=file, data=None, positions={(): (1, 1)})
    too_large = limits.text_too_large(text, file, max_bytes=max_bytes, what=what)
    if too_large:
        return document, [too_large]
    yaml = YAML(typ="safe", pure=True)
    yaml.Composer = _BoundedComposer
    try:
        root = yaml.compose(text)
    except _LimitExceeded as exc:
        mark = exc.problem_mark
        return document, [Problem(file, mark.line + 1, mark.column + 1, _short_path(exc.path), exc.problem)]
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        context = f"{exc.context}, " if exc.context else ""
        return document, [Problem(file, line, column, "(root)", f"invalid YAML: {context}{exc.problem}")]
    except ReaderError as exc:  # a control character YAML does not allow; `position` counts characters
        line = text.count("\n", 0, exc.position) + 1
        column = exc.position - (text.rfind("\n", 0, exc.position) + 1) + 1
        message = f"invalid YAML: the character U+{exc.character:04X} is not allowed in YAML ({exc.reason})"
        return document, [Problem(file, line, column, "(root)", message)]
    except YAMLError as exc:
        return document, [Problem(file, 1, 1, "(root)", f"invalid YAML: {' '.join(str(exc).split())}")]
    if root is None:
        expected = "a mapping with at least `name`" if what == "spec" else "a mapping"
        return document, [Problem(file, 1, 1, "(root)", f"the {what} is empty; expected {expected}")]
    problems: list[Problem] = []
    document.data = _build(root, (), document, problems, yaml, set())
    return document, problems


def _build(node: Node, path: KeyPath, doc: Document, problems: list[Problem], yaml: YAML, stack: set[int]) -> Any:
    """Plain data from a composed node; `stack` holds the nodes being built above this one (only an alias can
    repeat one). Depth and alias expansion were bounded by the composer."""
    if id(node) in stack:  # an alias that contains itself would never end
        problems.append(doc.problem(path, "recursive YAML alias; expected plain data"))
        return None
    stack.add(id(node))
    try:
        return _build_node(node, path, doc, problems, yaml, stack)
    finally:
        stack.discard(id(node))


def _build_node(node: Node, path: KeyPath, doc: Document, problems: list[Problem], yaml: YAML,
                stack: set[int]) -> Any:
    if isinstance(node, MappingNode):
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, ScalarNode) or str(key_node.tag) != "tag:yaml.org,2002:str":
                line, column = key_node.start_mark.line + 1, key_node.start_mark.column + 1
                problems.append(Problem(doc.file, line, column, format_path(path), "keys must be plain strings"))
                continue
            key = key_node.value
            position = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            if _SURROGATE.search(key):
                key = _SURROGATE.sub("\ufffd", key)
                problems.append(Problem(doc.file, *position, format_path((*path, key)), _NOT_UNICODE))
            child = (*path, key)
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
        value = yaml.constructor.construct_object(node, deep=True)
        if isinstance(value, str) and _SURROGATE.search(value):
            problems.append(doc.problem(path, _NOT_UNICODE))
            return _SURROGATE.sub("\ufffd", value)
        return value
    except MarkedYAMLError as exc:  # e.g. a custom tag such as `!Ref x`
        problems.append(doc.problem(path, f"unsupported YAML value: {exc.problem}"))
    except (ValueError, LookupError, ArithmeticError, TypeError):
        # ruamel's scalar constructors fail in their own ways: `!!float abc` (ValueError), `!!bool maybe`
        # (KeyError), an empty `!!float` (IndexError), an integer of more than 4300 digits (ValueError)
        problems.append(doc.problem(path, f"unsupported YAML value: {_invalid_scalar(node)}"))
    return node.value  # the problem is reported once; the text keeps the schema from adding a type error


def _short_path(path: KeyPath) -> str:
    """A key path a hundred levels deep, as its first levels and a count: one readable line."""
    return format_path(path) if len(path) <= 8 else f"{format_path(path[:6])}...({len(path) - 6} more levels)"


def _invalid_scalar(node: ScalarNode) -> str:
    tag = str(node.tag).removeprefix("tag:yaml.org,2002:")
    digits = sum(ch.isdigit() for ch in node.value)
    if tag == "int" and digits > sys.get_int_max_str_digits():
        return f"an integer of {digits} digits; expected at most {sys.get_int_max_str_digits()}"
    shown = node.value if len(node.value) <= 40 else node.value[:40] + "..."
    return f"{shown!r} is not a valid !!{tag}"
