"""HCL expressions from python-hcl2's parse tree: constants as one line of Terraform source, strings as their text."""

from __future__ import annotations

import re
from pathlib import Path

from lark import Token, Tree

from edakit.docs.errors import fail

# Stands in for a value only known when Terraform evaluates the template (an interpolation or a directive).
RUNTIME_VALUE = "…"

_HCL_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", '"': '"', "\\": "\\"}
_ESCAPE_SEQUENCE = re.compile(r"\\(?:u([0-9A-Fa-f]{4})|U([0-9A-Fa-f]{8})|(.))", re.S)
_HEREDOC = re.compile(r"<<(-?)([A-Za-z][A-Za-z0-9._-]*)\r?\n(.*?)^[ \t]*\2\r?\n?\Z", re.S | re.M)


def subtrees(node: Tree) -> list[Tree]:
    """Child nodes that carry meaning (no punctuation tokens, newlines or comments)."""
    return [child for child in node.children if isinstance(child, Tree) and child.data != "new_line_or_comment"]


def token_text(node: Tree) -> str:
    return "".join(str(token) for token in node.scan_values(lambda value: isinstance(value, Token)))


def expression_text(file: Path, node: Tree) -> str:
    """A constant expression (type constraint or default) as one line of Terraform source: `{ a = 1, b = ["x"] }`."""
    kind = node.data
    parts = subtrees(node)
    if kind == "expr_term":
        inner = expression_text(file, parts[0])
        return f"({inner})" if _starts_with_token(node, "LPAR") else inner
    if kind in ("identifier", "literal_value", "int_lit", "float_lit", "keyword"):
        return token_text(node)
    if kind == "string":
        return _quoted(file, node)
    if kind in ("heredoc_template", "heredoc_template_trim"):
        return _quote_value(_heredoc_body(str(node.children[0])))
    if kind == "tuple":
        return "[" + ", ".join(expression_text(file, item) for item in parts) + "]"
    if kind == "object":
        elements = [_object_element(file, element) for element in parts]
        return "{ " + ", ".join(elements) + " }" if elements else "{}"
    if kind == "function_call":
        names = [token_text(part) for part in parts if part.data == "identifier"]
        arguments = [part for part in parts if part.data == "arguments"]
        text = "::".join(names) + "("
        if arguments:
            text += ", ".join(expression_text(file, argument) for argument in subtrees(arguments[0]))
            text += "..." if _ends_with_token(arguments[0], "ELLIPSIS") else ""
        return text + ")"
    if kind == "unary_op":
        return str(node.children[0]) + expression_text(file, parts[0])
    if kind == "binary_op":
        left, term = parts
        operator, right = subtrees(term)
        return f"{expression_text(file, left)} {token_text(operator)} {expression_text(file, right)}"
    if kind == "conditional":
        condition, if_true, if_false = parts
        return " ".join([expression_text(file, condition), "?", expression_text(file, if_true), ":",
                         expression_text(file, if_false)])
    # References, for expressions, indexes and splats: Terraform itself rejects them in types and defaults.
    raise fail(file, node.meta.line, f"expected a constant value (literal, object, tuple or type), found {kind}")


def _object_element(file: Path, element: Tree) -> str:
    key, value = subtrees(element)
    return f"{expression_text(file, subtrees(key)[0])} = {expression_text(file, value)}"


def _starts_with_token(node: Tree, token_type: str) -> bool:
    return isinstance(node.children[0], Token) and node.children[0].type == token_type


def _ends_with_token(node: Tree, token_type: str) -> bool:
    return isinstance(node.children[-1], Token) and node.children[-1].type == token_type


def _quote_value(text: str) -> str:
    """A heredoc's text as the quoted string with the same value."""
    for char, escaped in (("\\", "\\\\"), ('"', '\\"'), ("\n", "\\n"), ("\r", "\\r"), ("\t", "\\t")):
        text = text.replace(char, escaped)
    return f'"{text}"'


def _quoted(file: Path, node: Tree) -> str:
    """A quoted template's source text, rebuilt from its parts (an interpolation rendered like any expression)."""
    text = '"'
    for part in subtrees(node):
        (piece,) = part.children
        if isinstance(piece, Token):
            text += str(piece)
        elif piece.data == "interpolation":
            text += "${" + expression_text(file, subtrees(piece)[0]) + "}"
        else:
            raise fail(file, piece.meta.line, "expected a constant string, found a template directive")
    return text + '"'


def template_text(node: Tree) -> str:
    """A string or heredoc's value; interpolations and directives, known only at plan time, become RUNTIME_VALUE."""
    if node.data == "expr_term":
        return template_text(subtrees(node)[0])
    if node.data in ("heredoc_template", "heredoc_template_trim"):
        return _runtime_parts(_heredoc_body(str(node.children[0])))
    if node.data != "string":
        return RUNTIME_VALUE
    text = ""
    for part in subtrees(node):
        (piece,) = part.children
        if isinstance(piece, Tree):
            text += RUNTIME_VALUE
        elif piece.type == "STRING_CHARS":
            text += _unescape(str(piece))
        else:  # $${ and %%{ escape a literal ${ and %{
            text += str(piece)[1:]
    return text


def _unescape(chars: str) -> str:
    def replace(match: re.Match[str]) -> str:
        code = match.group(1) or match.group(2)
        if code:
            return chr(int(code, 16))
        return _HCL_ESCAPES.get(match.group(3), match.group(0))

    return _ESCAPE_SEQUENCE.sub(replace, chars)


def _heredoc_body(token: str) -> str:
    """The text of `<<EOT`/`<<-EOT` heredoc; the indented form drops the common leading spaces of non-blank lines."""
    match = _HEREDOC.match(token)
    assert match, token  # the grammar's HEREDOC terminals guarantee this shape
    trim, _, body = match.groups()
    lines = body.split("\n")
    if trim:
        indent = min((len(line) - len(line.lstrip(" ")) for line in lines if line.strip()), default=0)
        lines = [line[indent:] for line in lines]
    return "\n".join(lines)


def _runtime_parts(text: str) -> str:
    """Replace `${...}`/`%{...}` in heredoc text by RUNTIME_VALUE; `$${` and `%%{` stay literal `${` and `%{`."""
    out, index = "", 0
    while index < len(text):
        if text.startswith(("$${", "%%{"), index):
            out, index = out + text[index + 1:index + 3], index + 3
        elif text.startswith(("${", "%{"), index):
            depth, index = 1, index + 2
            while index < len(text) and depth:
                depth += {"{": 1, "}": -1}.get(text[index], 0)
                index += 1
            out += RUNTIME_VALUE
        else:
            out, index = out + text[index], index + 1
    return out
