"""Read a Terraform module's `variable` and `output` blocks (python-hcl2's parse tree) into documentation records."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import hcl2
from lark import Tree
from lark.exceptions import UnexpectedInput

from edakit.docs.errors import fail
from edakit.docs.hcl import expression_text, subtrees, template_text, token_text


@dataclass(frozen=True)
class Variable:
    name: str
    type: str  # Terraform source text; "any" when the block has no type constraint
    default: str | None  # Terraform source text; None when the variable is required
    description: str
    sensitive: bool
    nullable: bool
    validations: tuple[str, ...]  # each rule's error_message (runtime parts as hcl.RUNTIME_VALUE)


@dataclass(frozen=True)
class Output:
    name: str
    description: str
    sensitive: bool


@dataclass(frozen=True)
class Module:
    variables: tuple[Variable, ...]
    outputs: tuple[Output, ...]


@dataclass(frozen=True)
class HclFile:
    path: Path
    text: str  # the source, which parse-tree positions (meta.start_pos/end_pos, line) index into
    tree: Tree

    def blocks(self) -> list[Tree]:
        """The top-level blocks, in source order."""
        (body,) = subtrees(self.tree)
        return [node for node in subtrees(body) if node.data == "block"]


def read_module(path: Path) -> Module:
    """Variables and outputs of every `*.tf` file in `path`, in file name then source order."""
    variables: list[Variable] = []
    outputs: list[Output] = []
    for file in sorted(path.glob("*.tf")):
        for block in parse_file(file).blocks():
            kind, labels, body = block_parts(block)
            if kind == "variable":
                variables.append(_variable(file, block, labels, body))
            elif kind == "output":
                outputs.append(_output(file, block, labels, body))
    return Module(tuple(variables), tuple(outputs))


def parse_file(file: Path) -> HclFile:
    try:
        text = file.read_text(encoding="utf-8")
        return HclFile(file, text, hcl2.parses_to_tree(text))
    except UnexpectedInput as exc:
        raise fail(file, exc.line if exc.line > 0 else None, f"not valid HCL: {str(exc).splitlines()[0]}") from exc
    except UnicodeDecodeError as exc:
        raise fail(file, None, f"not UTF-8 text: {exc.reason}") from exc


def block_parts(block: Tree) -> tuple[str, list[str], Tree]:
    """`variable "name" { ... }` -> ("variable", ["name"], body)."""
    kind, *labels, body = subtrees(block)
    return token_text(kind), [_label(label) for label in labels], body


def _label(node: Tree) -> str:
    return template_text(node) if node.data == "string" else token_text(node)


def body_items(body: Tree) -> tuple[dict[str, Tree], list[Tree]]:
    """A block body as its attributes (name -> expression) and nested blocks."""
    attributes: dict[str, Tree] = {}
    nested: list[Tree] = []
    for node in subtrees(body):
        if node.data == "attribute":
            name, expression = subtrees(node)
            attributes[token_text(name)] = expression
        else:
            nested.append(node)
    return attributes, nested


def _single_label(file: Path, block: Tree, kind: str, labels: list[str]) -> str:
    if len(labels) != 1:
        raise fail(file, block.meta.line, f"{kind} block needs exactly one label (its name), found {len(labels)}")
    return labels[0]


def _variable(file: Path, block: Tree, labels: list[str], body: Tree) -> Variable:
    name = _single_label(file, block, "variable", labels)
    attributes, nested = body_items(body)
    validations = []
    for validation in nested:
        kind, _, validation_body = block_parts(validation)
        if kind != "validation":
            continue
        rule, _ = body_items(validation_body)
        if "error_message" not in rule:
            raise fail(file, validation.meta.line, f'variable "{name}": validation block needs an error_message')
        validations.append(template_text(rule["error_message"]))
    return Variable(
        name=name,
        type=expression_text(file, attributes["type"]) if "type" in attributes else "any",
        default=expression_text(file, attributes["default"]) if "default" in attributes else None,
        description=template_text(attributes["description"]) if "description" in attributes else "",
        sensitive=_flag(file, name, attributes, "sensitive", default=False),
        nullable=_flag(file, name, attributes, "nullable", default=True),
        validations=tuple(validations),
    )


def _output(file: Path, block: Tree, labels: list[str], body: Tree) -> Output:
    name = _single_label(file, block, "output", labels)
    attributes, _ = body_items(body)
    return Output(
        name=name,
        description=template_text(attributes["description"]) if "description" in attributes else "",
        sensitive=_flag(file, name, attributes, "sensitive", default=False),
    )


def _flag(file: Path, name: str, attributes: dict[str, Tree], key: str, *, default: bool) -> bool:
    if key not in attributes:
        return default
    text = expression_text(file, attributes[key])
    if text not in ("true", "false"):
        raise fail(file, attributes[key].meta.line, f'"{name}": {key} must be true or false, found {text}')
    return text == "true"


def variable_defaults(path: Path) -> dict[str, str]:
    """Every default a module's variables declare, as Terraform source text: `"<variable>"` for a variable's own
    default, `"<variable>.<attribute>[.<attribute>...]"` for an `optional(type, default)` attribute of its object
    type (through map/list/set/optional). What the broker profiles restate is tested against this."""
    defaults: dict[str, str] = {}
    for file in sorted(path.glob("*.tf")):
        for block in parse_file(file).blocks():
            kind, labels, body = block_parts(block)
            if kind != "variable":
                continue
            name = _single_label(file, block, "variable", labels)
            attributes, _ = body_items(body)
            if "default" in attributes:
                defaults[name] = expression_text(file, attributes["default"])
            if "type" in attributes:
                defaults |= _optional_defaults(file, attributes["type"], name)
    return defaults


def _optional_defaults(file: Path, node: Tree, prefix: str) -> dict[str, str]:
    """The optional() defaults inside a type constraint, keyed `prefix.<attribute>...`."""
    while node.data == "expr_term" and len(subtrees(node)) == 1:
        node = subtrees(node)[0]
    if node.data != "function_call":
        return {}
    function, *rest = subtrees(node)
    arguments = subtrees(rest[0]) if rest else []
    kind = token_text(function)
    if kind in ("map", "list", "set") and arguments:
        return _optional_defaults(file, arguments[0], prefix)
    if kind != "object" or not arguments:
        return {}
    shape = arguments[0]
    while shape.data == "expr_term":
        shape = subtrees(shape)[0]
    found: dict[str, str] = {}
    for element in (e for e in subtrees(shape) if e.data == "object_elem"):
        key, value = subtrees(element)
        attribute = f"{prefix}.{token_text(key)}"
        inner = value
        while inner.data == "expr_term" and len(subtrees(inner)) == 1:
            inner = subtrees(inner)[0]
        if inner.data == "function_call" and token_text(subtrees(inner)[0]) == "optional":
            optional = subtrees(subtrees(inner)[1])
            if len(optional) == 2:
                found[attribute] = expression_text(file, optional[1])
            found |= _optional_defaults(file, optional[0], attribute)
        else:
            found |= _optional_defaults(file, value, attribute)
    return found
