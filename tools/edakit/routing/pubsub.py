"""Google Cloud Pub/Sub subscription filters: parser (errors with positions), printer, evaluator.

Grammar (Pub/Sub "Filter messages" docs); AND and OR may not be mixed without parentheses:
    filter    := term (("AND" term)+ | ("OR" term)+)?
    term      := ("NOT" | "-") term | "(" filter ")" | predicate
    predicate := "attributes" "." key ("=" | "!=") string | "attributes" ":" key
               | "hasPrefix" "(" "attributes" "." key "," string ")"
    key       := [A-Za-z0-9_-]+ | string
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from edakit.routing.errors import InvalidPubSubFilter

MAX_FILTER_BYTES = 256
_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
_ESCAPES = {'"': '"', "'": "'", "\\": "\\", "n": "\n", "t": "\t", "r": "\r"}


@dataclass(frozen=True)
class Has:
    key: str


@dataclass(frozen=True)
class Equals:
    key: str
    value: str
    negated: bool = False  # `!=`: also true when the attribute is absent


@dataclass(frozen=True)
class HasPrefix:
    key: str
    prefix: str


@dataclass(frozen=True)
class Not:
    operand: Expr


@dataclass(frozen=True)
class And:
    operands: tuple[Expr, ...]


@dataclass(frozen=True)
class Or:
    operands: tuple[Expr, ...]


Expr = Has | Equals | HasPrefix | Not | And | Or


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def fail(self, message: str, position: int | None = None) -> InvalidPubSubFilter:
        return InvalidPubSubFilter(message, self.pos if position is None else position)

    def skip_space(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos].isspace():
            self.pos += 1

    def peek_word(self, word: str) -> bool:
        end = self.pos + len(word)
        return self.text.startswith(word, self.pos) and (end == len(self.text) or not _word_char(self.text[end]))

    def expect(self, token: str) -> None:
        self.skip_space()
        if not self.text.startswith(token, self.pos):
            raise self.fail(f"expected {token!r}")
        self.pos += len(token)

    def parse(self) -> Expr:
        expr = self.filter()
        self.skip_space()
        if self.pos != len(self.text):
            raise self.fail("unexpected text after the end of the filter")
        return expr

    def filter(self) -> Expr:
        operands = [self.term()]
        operator = None
        while True:
            self.skip_space()
            word = next((w for w in ("AND", "OR") if self.peek_word(w)), None)
            if word is None:
                break
            if operator is not None and word != operator:
                raise self.fail("AND and OR cannot be mixed without parentheses")
            operator = word
            self.pos += len(word)
            operands.append(self.term())
        if operator is None:
            return operands[0]
        return And(tuple(operands)) if operator == "AND" else Or(tuple(operands))

    def term(self) -> Expr:
        self.skip_space()
        if self.peek_word("NOT"):
            self.pos += 3
            return Not(self.term())
        if self.text.startswith("-", self.pos):
            self.pos += 1
            return Not(self.term())
        if self.text.startswith("(", self.pos):
            self.pos += 1
            expr = self.filter()
            self.expect(")")
            return expr
        if self.peek_word("hasPrefix"):
            self.pos += len("hasPrefix")
            self.expect("(")
            self.skip_space()
            key = self.attribute_key(".")
            self.expect(",")
            prefix = self.string()
            self.expect(")")
            return HasPrefix(key, prefix)
        if self.text.startswith("attributes:", self.pos):
            return Has(self.attribute_key(":"))
        if self.text.startswith("attributes.", self.pos):
            key = self.attribute_key(".")
            self.skip_space()
            for operator in ("!=", "="):
                if self.text.startswith(operator, self.pos):
                    self.pos += len(operator)
                    return Equals(key, self.string(), negated=operator == "!=")
            raise self.fail("expected '=' or '!=' after an attribute key")
        raise self.fail("expected attributes.KEY, attributes:KEY, hasPrefix(...), NOT, '-' or '('")

    def attribute_key(self, separator: str) -> str:
        if not self.text.startswith(f"attributes{separator}", self.pos):
            raise self.fail(f"expected 'attributes{separator}'")
        self.pos += len("attributes") + 1
        if self.text.startswith('"', self.pos):
            return self.string()
        match = _BARE_KEY.match(self.text, self.pos)
        if match is None:
            raise self.fail("expected an attribute key (letters, digits, '_', '-', or a quoted string)")
        self.pos = match.end()
        return match.group()

    def string(self) -> str:
        self.skip_space()
        start = self.pos
        if not self.text.startswith('"', self.pos):
            raise self.fail('expected a string in double quotes')
        self.pos += 1
        chars = []
        while self.pos < len(self.text):
            ch = self.text[self.pos]
            if ch == '"':
                self.pos += 1
                return "".join(chars)
            if ch == "\\":
                escaped = self.text[self.pos + 1:self.pos + 2]
                if escaped not in _ESCAPES:
                    raise self.fail(f"invalid escape sequence \\{escaped}")
                chars.append(_ESCAPES[escaped])
                self.pos += 2
                continue
            chars.append(ch)
            self.pos += 1
        raise self.fail("unterminated string", start)


def _word_char(ch: str) -> bool:
    return ch.isalnum() or ch in "_-.:"


def parse_pubsub_filter(text: str) -> Expr | None:
    """The filter's syntax tree, or None for the empty filter (which delivers everything)."""
    size = len(text.encode("utf-8", "surrogatepass"))  # a lone surrogate (JSON "\\ud800") is 3 bytes, not a crash
    if size > MAX_FILTER_BYTES:
        raise InvalidPubSubFilter(f"filter is {size} bytes; the maximum is {MAX_FILTER_BYTES}", MAX_FILTER_BYTES)
    if not text.strip():
        return None
    return _Parser(text).parse()


def validate_pubsub_filter(text: str) -> None:
    parse_pubsub_filter(text)


def _quote(value: str) -> str:
    reverse = {v: k for k, v in _ESCAPES.items() if k != "'"}
    return '"' + "".join("\\" + reverse[c] if c in reverse else c for c in value) + '"'


def _key(key: str) -> str:
    return key if _BARE_KEY.fullmatch(key) else _quote(key)


def format_pubsub_filter(expr: Expr) -> str:
    """Canonical text for a syntax tree; parse_pubsub_filter(format_pubsub_filter(e)) == e."""
    def operand(e: Expr) -> str:
        return f"({format_pubsub_filter(e)})" if isinstance(e, And | Or) else format_pubsub_filter(e)

    match expr:
        case Has(key):
            return f"attributes:{_key(key)}"
        case Equals(key, value, negated):
            return f"attributes.{_key(key)} {'!=' if negated else '='} {_quote(value)}"
        case HasPrefix(key, prefix):
            return f"hasPrefix(attributes.{_key(key)}, {_quote(prefix)})"
        case Not(inner):
            return f"NOT {operand(inner)}"
        case And(operands):
            return " AND ".join(operand(e) for e in operands)
        case Or(operands):
            return " OR ".join(operand(e) for e in operands)
    raise TypeError(f"not a Pub/Sub filter expression: {expr!r}")


def evaluate(expr: Expr, attributes: dict[str, str]) -> bool:
    match expr:
        case Has(key):
            return key in attributes
        case Equals(key, value, negated):
            return (attributes.get(key) == value) != negated
        case HasPrefix(key, prefix):
            return key in attributes and attributes[key].startswith(prefix)
        case Not(inner):
            return not evaluate(inner, attributes)
        case And(operands):
            return all(evaluate(e, attributes) for e in operands)
        case Or(operands):
            return any(evaluate(e, attributes) for e in operands)
    raise TypeError(f"not a Pub/Sub filter expression: {expr!r}")


def _explain(expr: Expr, attributes: dict[str, str]) -> list[str]:
    if evaluate(expr, attributes):
        return []
    if isinstance(expr, And):
        return [reason for e in expr.operands for reason in _explain(e, attributes)]
    key = getattr(expr, "key", None)
    seen = "" if key is None else f" (attributes[{key!r}] is {attributes[key]!r})" if key in attributes else (
        f" (attribute {key!r} is absent)")
    return [f"{format_pubsub_filter(expr)} is false{seen}"]


def explain_pubsub(text: str, attributes: dict[str, str]) -> list[str]:
    """Why a message with these attributes is not delivered (one line per failed AND operand); empty if it is."""
    expr = parse_pubsub_filter(text)
    return [] if expr is None else _explain(expr, attributes)


def pubsub_filter_matches(text: str, attributes: dict[str, str]) -> bool:
    return not explain_pubsub(text, attributes)
