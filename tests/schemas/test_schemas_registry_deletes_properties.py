"""Soft and permanent deletes against a model of Confluent's rules, over random operation sequences: versions are
numbered past every version the subject still holds, a soft-deleted version is hidden but its id resolves, a
permanent delete needs a soft delete first, and each refusal carries Confluent's error code."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from edakit.schemas.registry import Registry, RegistryError

SUBJECT = "s-value"
operations = st.lists(st.one_of(
    st.tuples(st.just("register"), st.integers(0, 4)),
    st.tuples(st.just("soft"), st.integers(1, 6)),
    st.tuples(st.just("permanent"), st.integers(1, 6)),
    st.tuples(st.just("subject"), st.booleans()),
), max_size=25)


def _schema(index: int) -> str:
    return json.dumps({"type": "record", "name": "R", "fields": [{"name": f"f{index}", "type": "string"}]})


def _code(call) -> int | None:
    try:
        call()
    except RegistryError as exc:
        return exc.error_code
    return None


@settings(max_examples=150, deadline=None)
@given(operations)
def test_deletes_follow_confluents_rules(ops: list[tuple[str, object]]) -> None:
    registry = Registry()
    registry.set_level("NONE")  # every schema may follow every other (a permanent delete drops subject levels)
    model: list[list] = []  # [version, schema index, deleted]
    for op, arg in ops:
        by_version = {v[0]: v for v in model}
        if op == "register":
            same = next((v for v in model if v[1] == arg and not v[2]), None)
            expected = same[0] if same else max(by_version, default=0) + 1
            assert registry.register(SUBJECT, _schema(arg)).version == expected
            if same is None:
                model.append([expected, arg, False])
        elif op == "soft":
            found = by_version.get(arg)
            want = 40401 if not model else 40402 if found is None else 40406 if found[2] else None
            assert _code(lambda: registry.delete_version(SUBJECT, str(arg))) == want
            if want is None:
                found[2] = True
        elif op == "permanent":
            found = by_version.get(arg)
            want = 40401 if not model else 40402 if found is None else None if found[2] else 40407
            assert _code(lambda: registry.delete_version(SUBJECT, str(arg), permanent=True)) == want
            if want is None:
                model.remove(found)
        else:
            permanent = bool(arg)
            live = [v for v in model if not v[2]]
            want = 40401 if not model else (40405 if live else None) if permanent else (None if live else 40404)
            assert _code(lambda: registry.delete_subject(SUBJECT, permanent=permanent)) == want
            if want is None and permanent:
                model.clear()
            elif want is None:
                for v in live:
                    v[2] = True
        assert [v.version for v in _versions(registry, deleted=True)] == sorted(v[0] for v in model)
        assert [v.version for v in _versions(registry)] == sorted(v[0] for v in model if not v[2])
        for version in _versions(registry, deleted=True):  # a soft-deleted version's id still decodes records
            assert registry.schema_by_id(version.id).schema == version.schema
        assert (SUBJECT in registry.subjects()) == any(not v[2] for v in model)


def _versions(registry: Registry, *, deleted: bool = False) -> list:
    try:
        return registry.versions(SUBJECT, deleted=deleted)
    except RegistryError as exc:
        assert exc.error_code == 40401
        return []
