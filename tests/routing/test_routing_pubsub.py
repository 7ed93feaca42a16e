"""Pub/Sub subscription filters: grammar, errors with positions, limits, and properties of parser and evaluator."""

from __future__ import annotations

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from edakit.routing import (
    InvalidPubSubFilter,
    explain_pubsub,
    format_pubsub_filter,
    parse_pubsub_filter,
    pubsub_filter_matches,
)
from edakit.routing.pubsub import And, Equals, Expr, Has, HasPrefix, Not, Or, evaluate

KEYS = ["a", "b-2", "x y", "ü", 'q"t']
VALUES = ["", "v", "va", "w\\", 'say "hi"']

keys = st.sampled_from(KEYS)
values = st.sampled_from(VALUES)
atoms = st.one_of(
    st.builds(Has, keys),
    st.builds(Equals, keys, values, st.booleans()),
    st.builds(HasPrefix, keys, values),
)
exprs: st.SearchStrategy[Expr] = st.recursive(atoms, lambda children: st.one_of(
    st.builds(Not, children),
    st.builds(lambda ops: And(tuple(ops)), st.lists(children, min_size=2, max_size=3)),
    st.builds(lambda ops: Or(tuple(ops)), st.lists(children, min_size=2, max_size=3)),
), max_leaves=5)
attribute_maps = st.dictionaries(keys, values, max_size=len(KEYS))


def fits(expr: Expr) -> str:
    text = format_pubsub_filter(expr)
    assume(len(text.encode()) <= 256)
    return text


@given(exprs)
def test_print_then_parse_round_trips(expr: Expr) -> None:
    assert parse_pubsub_filter(fits(expr)) == expr


@given(exprs, attribute_maps)
def test_not_not_is_identity(expr: Expr, attributes: dict[str, str]) -> None:
    text = fits(Not(Not(expr)))
    assert pubsub_filter_matches(text, attributes) == evaluate(expr, attributes)


@given(exprs, exprs, attribute_maps)
def test_de_morgan(a: Expr, b: Expr, attributes: dict[str, str]) -> None:
    left = fits(Not(And((a, b))))
    right = fits(Or((Not(a), Not(b))))
    assert pubsub_filter_matches(left, attributes) == pubsub_filter_matches(right, attributes)


@given(exprs)
def test_minus_is_not(expr: Expr) -> None:
    text = fits(Not(expr))
    assert parse_pubsub_filter("-" + text.removeprefix("NOT ")) == parse_pubsub_filter(text)


@given(keys, values, attribute_maps)
def test_atoms_follow_the_documented_semantics(key: str, value: str, attributes: dict[str, str]) -> None:
    assert evaluate(Has(key), attributes) == (key in attributes)
    assert evaluate(Equals(key, value), attributes) == (attributes.get(key) == value)
    # `!=` also holds when the attribute is absent
    assert evaluate(Equals(key, value, negated=True), attributes) == (attributes.get(key) != value)
    assert evaluate(HasPrefix(key, value), attributes) == (key in attributes and attributes[key].startswith(value))


@given(st.text(max_size=60))
def test_any_text_parses_or_fails_with_a_position(text: str) -> None:
    try:
        parse_pubsub_filter(text)
    except InvalidPubSubFilter as error:
        assert 0 <= error.position <= max(len(text), 256)
        assert f"at position {error.position}" in str(error)


@pytest.mark.parametrize(("text", "reason", "position"), [
    ('attributes:a AND attributes:b OR attributes:c', "AND and OR cannot be mixed without parentheses", 30),
    ('attributes:a OR attributes:b AND attributes:c', "AND and OR cannot be mixed without parentheses", 29),
    ('attributes.a = "x', "unterminated string", 15),
    ('attributes.a == "x"', "expected a string in double quotes", 14),
    ('attributes.a "x"', "expected '=' or '!=' after an attribute key", 13),
    ('(attributes:a', "expected ')'", 13),
    ('attributes:a attributes:b', "unexpected text after the end of the filter", 13),
    ('attributes.a = "\\q"', "invalid escape sequence \\q", 16),
    ('hasPrefix(attributes.a "x")', "expected ','", 23),
    ('labels.a = "x"', "expected attributes.KEY, attributes:KEY, hasPrefix(...), NOT, '-' or '('", 0),
    ('attributes:', "expected an attribute key (letters, digits, '_', '-', or a quoted string)", 11),
    ('not attributes:a', "expected attributes.KEY, attributes:KEY, hasPrefix(...), NOT, '-' or '('", 0),
])
def test_syntax_errors_say_what_and_where(text: str, reason: str, position: int) -> None:
    with pytest.raises(InvalidPubSubFilter) as raised:
        parse_pubsub_filter(text)
    assert (raised.value.reason, raised.value.position) == (reason, position)


def test_parentheses_allow_mixing_and_or() -> None:
    expr = parse_pubsub_filter('attributes:a AND (attributes:b OR attributes:c)')
    assert expr == And((Has("a"), Or((Has("b"), Has("c")))))
    assert pubsub_filter_matches('attributes:a AND (attributes:b OR attributes:c)', {"a": "", "c": ""})
    assert not pubsub_filter_matches('attributes:a AND (attributes:b OR attributes:c)', {"b": "", "c": ""})


def test_filter_size_limit_is_256_bytes() -> None:
    base = 'attributes.a = ""'
    at_limit = base[:-1] + "x" * (256 - len(base)) + '"'
    assert len(at_limit.encode()) == 256
    assert parse_pubsub_filter(at_limit) == Equals("a", "x" * (256 - len(base)))
    over = base[:-1] + "é" * ((257 - len(base)) // 2 + 1) + '"'  # counts bytes, not characters
    with pytest.raises(InvalidPubSubFilter, match="bytes; the maximum is 256"):
        parse_pubsub_filter(over)


def test_empty_filter_delivers_everything() -> None:
    assert parse_pubsub_filter("  ") is None
    assert pubsub_filter_matches("", {})


def test_explanation_names_each_failed_condition() -> None:
    reasons = explain_pubsub('attributes.kind = "order" AND hasPrefix(attributes.region, "eu-") AND '
                             'attributes:tenant', {"kind": "refund", "tenant": "t1"})
    assert reasons == ["attributes.kind = \"order\" is false (attributes['kind'] is 'refund')",
                       "hasPrefix(attributes.region, \"eu-\") is false (attribute 'region' is absent)"]
    assert explain_pubsub('attributes:tenant', {"tenant": "t1"}) == []
