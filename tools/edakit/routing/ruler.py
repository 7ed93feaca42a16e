"""The JSON pattern language shared by EventBridge event patterns and SNS filter policies.

Both services run the same matcher (the one open-sourced as aws/event-ruler): a pattern is compiled from JSON,
the event is flattened to dot-joined paths with lists of leaf values, and a field matches when any of its
conditions matches any leaf at that path. `Dialect` carries what differs: allowed match types and error prefix.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from edakit.redact import shorten  # a bad value is quoted, never all of a huge one
from edakit.routing.errors import InvalidFilterError
from edakit.spec.limits import MAX_DEPTH, json_too_deep, nesting_depth_exceeded

Leaf = str | Decimal | bool | None
Flat = dict[str, list[Leaf]]

MATCH_TYPES = frozenset(
    {"prefix", "suffix", "equals-ignore-case", "wildcard", "anything-but", "numeric", "exists", "cidr"})
NUMERIC_OPERATORS = ("=", "<", "<=", ">", ">=")
OR_KEY = "$or"


@dataclass(frozen=True)
class Dialect:
    """What one service accepts: match types, anything-but forms, numeric bounds, and how errors read."""

    error: Callable[[str], InvalidFilterError]
    match_types: frozenset[str]
    anything_but_forms: frozenset[str]
    numeric_limit: Decimal


# --- conditions --------------------------------------------------------------------------------------------


def as_number(value: Any) -> Decimal | None:
    """JSON numbers (never booleans) as Decimal, so 300 == 300.0 and floats compare by their decimal text."""
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        return None
    number = Decimal(str(value))
    return number if number.is_finite() else None  # JSON has no NaN or Infinity


def leaf(value: Any) -> Leaf:
    number = as_number(value)
    return number if number is not None else value


def _equal(expected: Leaf, actual: Leaf) -> bool:
    # type-strict: the string "300" is not the number 300, and True is not 1
    if isinstance(expected, Decimal) or isinstance(actual, Decimal):
        return isinstance(expected, Decimal) and isinstance(actual, Decimal) and expected == actual
    return type(expected) is type(actual) and expected == actual


def wildcard_regex(pattern: str) -> re.Pattern[str]:
    parts, i = [], 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\":
            parts.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        parts.append(".*" if ch == "*" else re.escape(ch))
        i += 1
    return re.compile("".join(parts), re.DOTALL)


@dataclass(frozen=True)
class Condition:
    """One element of a field's condition list; `spec` is the JSON it was compiled from (for explanations)."""

    spec: Any
    test: Callable[[Leaf], bool]
    exists: bool | None = None  # set only for {"exists": ...}, which looks at presence, not at leaves

    def matches(self, present: bool, leaves: list[Leaf]) -> bool:
        if self.exists is not None:
            return present == self.exists
        return any(self.test(v) for v in leaves)


def _string_test(check: Callable[[str], bool]) -> Callable[[Leaf], bool]:
    return lambda v: isinstance(v, str) and check(v)


def _numeric_test(ranges: list[tuple[str, Decimal]]) -> Callable[[Leaf], bool]:
    compare = {"=": Decimal.__eq__, "<": Decimal.__lt__, "<=": Decimal.__le__, ">": Decimal.__gt__,
               ">=": Decimal.__ge__}
    return lambda v: isinstance(v, Decimal) and all(compare[op](v, bound) for op, bound in ranges)


def _cidr_test(network: ipaddress.IPv4Network | ipaddress.IPv6Network) -> Callable[[Leaf], bool]:
    def test(v: Leaf) -> bool:
        if not isinstance(v, str):
            return False
        try:
            return ipaddress.ip_address(v) in network
        except ValueError:
            return False
    return test


# --- compilation (validation happens here: one pass, the service's error text) -----------------------------


@dataclass
class Node:
    """AND of fields and of `$or` groups; each group is satisfied by any one of its alternatives."""

    fields: dict[str, list[Condition]] = field(default_factory=dict)
    any_of: list[list[Node]] = field(default_factory=list)


def is_or_group(value: Any) -> bool:
    """`$or` is an operator only for an array of ≥2 objects whose keys are not match types (else a field name)."""
    return (isinstance(value, list) and len(value) >= 2 and all(isinstance(v, dict) for v in value)
            and not any(k in MATCH_TYPES for v in value for k in v))


def compile_pattern(pattern: dict[str, Any], dialect: Dialect, *, nested: bool = True,
                    prefix: str = "", into: Node | None = None) -> Node:
    """Compile (and validate) a pattern object; nested objects join their keys with dots into the same node."""
    node = Node() if into is None else into
    for key, value in pattern.items():
        path = f"{prefix}{key}"
        if key == OR_KEY and is_or_group(value):
            node.any_of.append([compile_pattern(alt, dialect, nested=nested, prefix=prefix) for alt in value])
        elif isinstance(value, dict):
            if not nested:
                raise dialect.error("Filter policy scope MessageAttributes does not support nested filter policy")
            compile_pattern(value, dialect, prefix=f"{path}.", into=node)
        elif isinstance(value, list):
            if not value:
                raise dialect.error("Empty arrays are not allowed")
            node.fields.setdefault(path, []).extend(compile_condition(v, dialect) for v in value)
        else:
            raise dialect.error(f'"{shorten(key)}" must be an object or an array')
    return node


def compile_condition(spec: Any, dialect: Dialect) -> Condition:
    if isinstance(spec, str | int | float | bool) or spec is None:
        expected = leaf(spec)
        return Condition(spec, lambda v: _equal(expected, v))
    if not isinstance(spec, dict):
        raise dialect.error("Match value must be String, number, true, false, or null")
    if len(spec) != 1:
        raise dialect.error("Only one key allowed in match expression")
    ((kind, arg),) = spec.items()
    if kind not in dialect.match_types:
        raise dialect.error(f"Unrecognized match type {shorten(kind)}")
    compilers: dict[str, Callable[[Any, Dialect], Callable[[Leaf], bool]]] = {
        "prefix": lambda a, d: _affix(a, d, "prefix", str.startswith),
        "suffix": lambda a, d: _affix(a, d, "suffix", str.endswith),
        "equals-ignore-case": _equals_ignore_case,
        "wildcard": lambda a, d: _string_test(wildcard_regex(_wildcard_text(a, d)).fullmatch),
        "numeric": _numeric,
        "cidr": _cidr,
        "anything-but": _anything_but,
    }
    if kind == "exists":
        if not isinstance(arg, bool):
            raise dialect.error("exists match pattern must be either true or false.")
        return Condition(spec, lambda v: False, exists=arg)
    return Condition(spec, compilers[kind](arg, dialect))


def _affix(arg: Any, dialect: Dialect, kind: str, check: Callable[[str, str], bool]) -> Callable[[Leaf], bool]:
    if isinstance(arg, dict) and list(arg) == ["equals-ignore-case"] and isinstance(arg["equals-ignore-case"], str):
        folded = arg["equals-ignore-case"].casefold()
        return _string_test(lambda v: check(v.casefold(), folded))
    if not isinstance(arg, str):
        raise dialect.error(f"{kind} match pattern must be a string")
    return _string_test(lambda v: check(v, arg))


def _equals_ignore_case(arg: Any, dialect: Dialect) -> Callable[[Leaf], bool]:
    if not isinstance(arg, str):
        raise dialect.error("equals-ignore-case match pattern must be a string")
    folded = arg.casefold()
    return _string_test(lambda v: v.casefold() == folded)


def _wildcard_text(arg: Any, dialect: Dialect) -> str:
    if not isinstance(arg, str):
        raise dialect.error("wildcard match pattern must be a string")
    i = 0
    while i < len(arg):
        if arg[i] == "\\":
            if i + 1 >= len(arg) or arg[i + 1] not in "*\\":
                raise dialect.error(f"Invalid escape character at pos {i}")
            i += 2
            continue
        if arg[i] == "*" and i + 1 < len(arg) and arg[i + 1] == "*":
            raise dialect.error(f"Consecutive wildcard characters at pos {i + 1}")
        i += 1
    if wildcard_complexity(arg) > WILDCARD_MAX_COMPLEXITY:
        raise dialect.error("Rule is too complex - try using fewer wildcard characters or fewer repeating "
                            "character sequences after a wildcard character")
    return arg


# Our own measure (the service's algorithm is unpublished): the most NFA positions a wildcard pattern can occupy
# at once over any input. The limit sits between service-validated cases: "/Users/*/dir/dir/dir/dir/dir/doc.txt"
# (8, accepted) and "*:*:*:*:*:event-bus/*" (13, "Rule is too complex").
WILDCARD_MAX_COMPLEXITY = 10


def wildcard_complexity(pattern: str) -> int:
    tokens: list[str | None] = []  # None is `*`
    i = 0
    while i < len(pattern):
        if pattern[i] == "\\":
            tokens.append(pattern[i + 1])
            i += 2
        else:
            tokens.append(None if pattern[i] == "*" else pattern[i])
            i += 1

    def closure(states: Iterable[int]) -> frozenset[int]:
        out = set()
        for s in states:
            out.add(s)
            while s < len(tokens) and tokens[s] is None:
                s += 1
                out.add(s)
        return frozenset(out)

    def step(states: frozenset[int], ch: str) -> frozenset[int]:
        nxt = set()
        for s in states:
            if s < len(tokens):
                if tokens[s] is None:
                    nxt.add(s)
                elif tokens[s] == ch:
                    nxt.add(s + 1)
        return closure(nxt)

    alphabet = {t for t in tokens if t is not None} | {"\0"}
    start = closure([0])
    seen, frontier, widest = {start}, [start], len(start)
    while frontier:
        states = frontier.pop()
        for ch in alphabet:
            nxt = step(states, ch)
            if nxt and nxt not in seen:
                seen.add(nxt)
                frontier.append(nxt)
                widest = max(widest, len(nxt))
                if widest > WILDCARD_MAX_COMPLEXITY:
                    return widest  # already too complex: no need to explore the rest
    return widest


def _number(value: Any, operator: str, dialect: Dialect) -> Decimal:
    number = as_number(value)
    if number is None or abs(number) > dialect.numeric_limit:
        raise dialect.error(f"Value of {operator} must be numeric")
    return number


def _numeric(arg: Any, dialect: Dialect) -> Callable[[Leaf], bool]:
    """`[op, n]` or a range `[">" | ">=", low, "<" | "<=", high]`, checked in the order the service checks."""
    if not isinstance(arg, list):
        raise dialect.error("Value of numeric must be an array.")
    if not arg:
        raise dialect.error("Invalid member in numeric match: ]")
    op = arg[0]
    if not isinstance(op, str):
        raise dialect.error(f"Invalid member in numeric match: {shorten(op)}")
    if op not in NUMERIC_OPERATORS:
        raise dialect.error(f"Unrecognized numeric range operator: {shorten(op)}")
    ranges = [(op, _number(arg[1] if len(arg) > 1 else None, op, dialect))]
    if len(arg) > 2:
        if op not in (">", ">=") or len(arg) > 4:
            raise dialect.error("Too many elements in numeric expression")
        upper = arg[2]
        if upper not in ("<", "<="):
            raise dialect.error(f"Bad numeric range operator: {shorten(upper)}")
        ranges.append((upper, _number(arg[3] if len(arg) > 3 else None, upper, dialect)))
        if ranges[1][1] <= ranges[0][1]:
            raise dialect.error("Bottom must be less than top")
    return _numeric_test(ranges)


def _cidr(arg: Any, dialect: Dialect) -> Callable[[Leaf], bool]:
    if not isinstance(arg, str):
        raise dialect.error("prefix match pattern must be a string")  # the service's wording for cidr too
    if arg.count("/") != 1:
        raise dialect.error("Malformed CIDR, one '/' required")
    address, bits = arg.split("/")
    if not (bits.isascii() and bits.isdigit()):  # isdigit() alone passes "²" (int() refuses it) and "٣"
        raise dialect.error("Malformed CIDR, mask bits must be an integer")
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        raise dialect.error(f"Nonstandard IP address: {shorten(address)}") from None
    if len(bits.lstrip("0")) > 3 or int(bits) > ip.max_prefixlen:  # int() refuses more than 4300 digits
        raise dialect.error(f"Malformed CIDR, mask bits must be between 0 and {ip.max_prefixlen}")
    return _cidr_test(ipaddress.ip_network(arg, strict=False))


def _anything_but(arg: Any, dialect: Dialect) -> Callable[[Leaf], bool]:
    single = "Value of anything-but must be an array or single string/number value."
    if isinstance(arg, str) or as_number(arg) is not None:
        excluded = leaf(arg)
        return lambda v: not _equal(excluded, v)
    if isinstance(arg, list):
        if not arg or any(not isinstance(v, str) and as_number(v) is None for v in arg):
            raise dialect.error("Inside anything but list, start|null|boolean is not supported.")
        values = [leaf(v) for v in arg]
        return lambda v: not any(_equal(x, v) for x in values)
    if not isinstance(arg, dict) or len(arg) != 1:
        raise dialect.error(single)
    ((form, inner),) = arg.items()
    if form not in dialect.anything_but_forms:
        raise dialect.error(single if form in MATCH_TYPES else f"Unsupported anything-but pattern: {shorten(form)}")
    patterns = inner if isinstance(inner, list) else [inner]
    if form in ("prefix", "suffix"):
        if isinstance(inner, dict):
            raise dialect.error(single)
        if any(not isinstance(p, str) for p in patterns):
            raise dialect.error("prefix/suffix match pattern must be a string")
        if any(p == "" for p in patterns):
            raise dialect.error("Null prefix/suffix not allowed")
        check = str.startswith if form == "prefix" else str.endswith
        return lambda v: not (isinstance(v, str) and any(check(v, p) for p in patterns))
    if form == "equals-ignore-case":
        if any(not isinstance(p, str) for p in patterns):
            raise dialect.error("Inside anything-but/equals-ignore-case list, number|start|null|boolean is not "
                                "supported.")
        folded = {p.casefold() for p in patterns}
        return lambda v: not (isinstance(v, str) and v.casefold() in folded)
    regexes = [wildcard_regex(_wildcard_text(p, dialect)) for p in patterns]  # form == "wildcard"
    return lambda v: not (isinstance(v, str) and any(r.fullmatch(v) for r in regexes))


# --- events ------------------------------------------------------------------------------------------------


def flatten(document: Any) -> Flat:
    """Dot-joined path → leaf values; arrays contribute every element, so empty arrays contribute no path."""
    flat: Flat = {}

    def walk(value: Any, path: str) -> None:
        if isinstance(value, dict):
            for key, child in value.items():
                walk(child, f"{path}.{key}" if path else key)
        elif isinstance(value, list):
            for child in value:
                walk(child, path)
        elif path:
            flat.setdefault(path, []).append(leaf(value))

    walk(document, "")
    return flat


def explain(node: Node, flat: Flat) -> list[str]:
    """Why `flat` does not match `node`: one line per failed field or `$or` group; empty when it matches."""
    reasons = []
    for path, conditions in node.fields.items():
        present = path in flat
        leaves = flat.get(path, [])
        if not any(c.matches(present, leaves) for c in conditions):
            wanted = json.dumps([c.spec for c in conditions])
            seen = json.dumps([_show(v) for v in leaves]) if present else "absent"
            reasons.append(f"{path}: {seen} does not match {wanted}")
    for group in node.any_of:
        failures = [explain(alt, flat) for alt in group]
        if all(failures):
            reasons.append("$or: no alternative matched (" + "; ".join(f[0] for f in failures) + ")")
    return reasons


def _show(value: Leaf) -> Any:
    """A leaf back in JSON terms, for explanations."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def parse_json_document(text: str, dialect: Dialect) -> Any:
    """JSON text of a pattern; nesting beyond limits.MAX_DEPTH is refused before `json.loads` recurses into it."""
    too_deep = json_too_deep(text)
    if too_deep is not None:
        raise dialect.error(f"Filter is nested more than {MAX_DEPTH} levels deep (at character {too_deep})")
    try:
        return json.loads(text)
    except ValueError as exc:  # includes integers of more than 4300 digits
        raise dialect.error(f"Filter is not valid JSON: {exc}") from None


def check_depth(pattern: Any, dialect: Dialect) -> None:
    """Refuse a pattern object nested deeper than limits.MAX_DEPTH: compiling it recurses once per level."""
    if nesting_depth_exceeded(pattern):
        raise dialect.error(f"Filter is nested more than {MAX_DEPTH} levels deep")
