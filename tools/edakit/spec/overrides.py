"""`environments.<env>` deep-merged onto the base spec, keeping every value's written position."""

from __future__ import annotations

import copy
from typing import Any

from edakit.spec.errors import KeyPath, Problem
from edakit.spec.schema import did_you_mean, settings_at, spec_schema
from edakit.spec.source import Document


def environment_names(document: Document) -> list[str]:
    environments = document.data.get("environments") if isinstance(document.data, dict) else None
    return list(environments) if isinstance(environments, dict) else []


def base(document: Document) -> Document:
    """The spec without its `environments` block: what `--env` is merged onto."""
    data = {k: v for k, v in document.data.items() if k != "environments"}
    positions = {p: pos for p, pos in document.positions.items() if not p or p[0] != "environments"}
    return Document(document.file, data, positions)


def merge(document: Document, environment: str) -> tuple[Document, list[Problem]]:
    """Base spec with `environments.<environment>` merged in: mappings merge key by key, anything else replaces.

    An override may set any setting the schema knows (the base may rely on its default), but a named entry
    (channel, subscriber, event, tag) the base does not define is a problem located in the override: it is
    almost always a typo, and an environment that silently adds a subscriber is a surprise.
    """
    merged = base(document)
    merged.data = copy.deepcopy(merged.data)
    override = document.data["environments"][environment]
    problems: list[Problem] = []
    if isinstance(override, dict):
        _merge_into(merged, merged.data, override, (), ("environments", environment), document, problems)
    return merged, problems


def _merge_into(
    merged: Document,
    target: dict[str, Any],
    override: dict[str, Any],
    path: KeyPath,
    written: KeyPath,
    source: Document,
    problems: list[Problem],
) -> None:
    for key, value in override.items():
        here, there = (*path, key), (*written, key)
        if not path and key not in spec_schema()["$defs"]["environment"]["properties"]:
            continue  # the schema of `environments` already reports this key
        if key not in target and key not in settings_at(path):
            hint = did_you_mean(key, sorted(set(target) | settings_at(path)))
            problems.append(source.problem(there, f"'{key}' is not in the base spec, so it cannot be overridden{hint}"))
        elif isinstance(value, dict) and isinstance(target.get(key), dict):
            _merge_into(merged, target[key], value, here, there, source, problems)
        else:
            target[key] = copy.deepcopy(value)
            for old in [p for p in merged.positions if p[: len(here)] == here]:
                del merged.positions[old]
            for p, position in source.positions.items():
                if p[: len(there)] == there:
                    merged.positions[here + p[len(there) :]] = position
            merged.origins[here] = there
