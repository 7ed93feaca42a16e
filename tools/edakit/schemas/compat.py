"""Confluent compatibility levels over the Avro and JSON Schema checkers.

BACKWARD: the new schema reads data written with the old one (reader = new); FORWARD: the old reads the new;
FULL: both. *_TRANSITIVE checks every earlier version, the others only the latest. NONE accepts anything.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import jsonschema_rs

from edakit.schemas import avro_compat, json_compat, refs
from edakit.schemas.errors import SchemaError
from edakit.schemas.validate import SCHEMA_MAX_DEPTH, check_depth

LEVELS = ("NONE", "BACKWARD", "BACKWARD_TRANSITIVE", "FORWARD", "FORWARD_TRANSITIVE", "FULL", "FULL_TRANSITIVE")
SCHEMA_TYPES = ("AVRO", "JSON")


@dataclass
class CompatibilityResult:
    compatible: bool
    messages: list[str] = field(default_factory=list)


def check_compatibility(schema_type: str, new: Any, previous: list[Any], level: str,
                        policy: str = "STRICT") -> CompatibilityResult:
    """Would a registry at `level` accept `new` after `previous` (oldest first)? Messages say what and where."""
    schema_type, level, policy = schema_type.upper(), level.upper(), policy.upper()
    if schema_type not in SCHEMA_TYPES:
        raise SchemaError("schema_type", f"expected one of {', '.join(SCHEMA_TYPES)}, got {schema_type!r}")
    if level not in LEVELS:
        raise SchemaError("level", f"expected one of {', '.join(LEVELS)}, got {level!r}")
    if policy not in json_compat.POLICIES:
        raise SchemaError("policy", f"expected STRICT or LENIENT, got {policy!r}")
    for role, schema in (("new schema", new), *((f"previous schema {i}", old) for i, old in enumerate(previous, 1))):
        _check_parses(schema_type, schema, role)
    if level == "NONE" or not previous:
        return CompatibilityResult(True)
    checked = list(enumerate(previous, start=1))
    if not level.endswith("_TRANSITIVE"):
        checked = checked[-1:]
    directions = {"BACKWARD": ("backward",), "FORWARD": ("forward",), "FULL": ("backward", "forward")}
    messages: list[str] = []
    for version, old in reversed(checked):  # newest first, like Confluent
        for direction in directions[level.removesuffix("_TRANSITIVE")]:
            found = _check(schema_type, new, old, direction, policy)
            messages += [f"{m} {{oldSchemaVersion: {version}}} {{compatibility: '{level}'}}" for m in found]
    return CompatibilityResult(not messages, messages)


def _check_parses(schema_type: str, schema: Any, source: str) -> None:
    """The walkers compare schemas that parse: a bad one is a SchemaError here, not a crash deep in a walker."""
    check_depth(schema, SCHEMA_MAX_DEPTH, source)
    if schema_type == "AVRO":
        avro_compat.parse_avro(schema, source)
        return
    refs.draft_for(schema, source)  # a known draft (jsonschema-rs would retrieve any other meta-schema)
    try:
        jsonschema_rs.meta.validate(schema)  # the draft's meta-schema, compiled: ~100x faster than jsonschema's
    except jsonschema_rs.ValidationError as exc:
        where = "$" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in exc.instance_path)
        raise SchemaError(source, f"not a valid JSON Schema at {where}: {exc.message}") from exc


def _check(schema_type: str, new: Any, old: Any, direction: str, policy: str) -> list[str]:
    """Messages for one old version in one direction; reader/update role is 'new' for backward."""
    if schema_type == "AVRO":
        new_schema, old_schema = avro_compat.parse_avro(new, "new schema"), avro_compat.parse_avro(old, "old schema")
        reader, writer = (new_schema, old_schema) if direction == "backward" else (old_schema, new_schema)
        roles = ("new", "old") if direction == "backward" else ("old", "new")
        return [avro_compat.describe(i, *roles) for i in avro_compat.incompatibilities(reader, writer)]
    original, update = (old, new) if direction == "backward" else (new, old)
    roles = ("new", "old") if direction == "backward" else ("old", "new")
    allowed = json_compat.POLICIES[policy]
    return [json_compat.describe(d, *roles) for d in json_compat.differences(original, update, policy)
            if d.type not in allowed]
