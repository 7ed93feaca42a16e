"""parse_json skips walking a document whose text cannot nest past the bound (short text, few opening brackets):
the verdict must be the walk's own for every text, whichever way it is passed."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edakit.schemas.errors import SchemaError
from edakit.schemas.validate import parse_json

# Strings full of brackets make the counts overshoot; nesting makes the depth.
leaves = st.none() | st.booleans() | st.integers() | st.text(alphabet="[]{}ab\"\\", max_size=8)
documents = st.recursive(leaves, lambda inner: st.lists(inner, max_size=3)
                         | st.dictionaries(st.text(alphabet="[{k", max_size=3), inner, max_size=3), max_leaves=30)


def depth(value: object) -> int:
    if isinstance(value, dict):
        return 1 + max((depth(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((depth(v) for v in value), default=0)
    return 0


@settings(max_examples=300, deadline=None)
@given(documents, st.integers(min_value=0, max_value=6), st.sampled_from(["bytes", "str", "bytearray"]),
       st.integers(min_value=0, max_value=40))
def test_the_depth_verdict_is_the_walks_whatever_the_shortcut(document, max_depth, kind, padding):
    text = json.dumps(document) + " " * padding  # padding moves the text across the short-text shortcut
    data = {"bytes": text.encode(), "str": text, "bytearray": bytearray(text.encode())}[kind]
    if depth(document) > max_depth:
        with pytest.raises(SchemaError, match=f"nested deeper than {max_depth} levels"):
            parse_json(data, "payload", max_depth=max_depth)
    else:
        assert parse_json(data, "payload", max_depth=max_depth) == document


def test_a_long_deep_text_is_still_refused():
    text = "[" * 300 + "]" * 300  # 600 bytes, 300 levels: past the short-text bound and the bracket count
    with pytest.raises(SchemaError, match="nested deeper than 256 levels"):
        parse_json(text.encode(), "payload")
    assert parse_json(("[" * 256 + "]" * 256).encode(), "payload") is not None
