"""cty values as the plugin protocol carries them (msgpack DynamicValue), walked along our JSON block schemas.

A block schema is {"attributes": {name: {"type", "required"|"optional"|"computed"...}}, "blocks": {name: {"nesting",
"min_items", "max_items", "block"}}}; a block value is a dict with every attribute and block present.
"""

from __future__ import annotations

import json
from typing import Any

import msgpack

# cty encodes an unknown value as msgpack extension type 0.
UNKNOWN = msgpack.ExtType(0, b"\x00")


def _ext_hook(code: int, data: bytes) -> Any:
    return msgpack.ExtType(code, data)


def decode(raw: bytes) -> Any:
    if not raw:
        return None
    return msgpack.unpackb(raw, raw=False, ext_hook=_ext_hook, strict_map_key=False)


def encode(value: Any) -> bytes:
    return msgpack.packb(value, use_bin_type=True)


def is_unknown(value: Any) -> bool:
    return isinstance(value, msgpack.ExtType) and value.code == 0


def from_json(block: dict[str, Any], data: dict[str, Any] | None) -> dict[str, Any]:
    """A stored JSON state object -> a complete block value (absent attributes null, absent blocks empty)."""
    data = data or {}
    value: dict[str, Any] = {name: data.get(name) for name in block["attributes"]}
    for name, nested in block["blocks"].items():
        items = data.get(name)
        if nested["nesting"] == "single":
            value[name] = from_json(nested["block"], items) if items else None
        else:
            value[name] = [from_json(nested["block"], item) for item in items or []]
    return value


def plan(block: dict[str, Any], proposed: dict[str, Any], prior: dict[str, Any] | None) -> dict[str, Any]:
    """Planned new state: config values kept, unset computed attributes unknown unless the prior state knows them."""
    planned = dict(proposed)
    for name, attribute in block["attributes"].items():
        if attribute.get("computed") and proposed.get(name) is None:
            known = prior.get(name) if prior else None
            planned[name] = known if known is not None else UNKNOWN
    for name, nested in block["blocks"].items():
        value = proposed.get(name)
        if value is None or is_unknown(value):
            continue
        if nested["nesting"] == "single":
            planned[name] = plan(nested["block"], value, (prior or {}).get(name))
        else:
            # list items pair with the prior item at the same index; set items have no identity to pair on.
            prior_items = (prior or {}).get(name) or [] if nested["nesting"] == "list" else []
            planned[name] = [
                plan(nested["block"], item, prior_items[i] if i < len(prior_items) else None)
                for i, item in enumerate(value)
            ]
    return planned


def placeholder(cty_type: Any, name: str) -> Any:
    """A known value of the type for a computed attribute nobody described (data sources must return known values)."""
    if cty_type == "string":
        return f"edakit-{name}"
    if cty_type == "number":
        return 0
    if cty_type == "bool":
        return False
    if cty_type == "dynamic":
        return [json.dumps("string").encode(), f"edakit-{name}"]  # cty dynamic = [type JSON, value]
    kind = cty_type[0]
    if kind == "object":
        return {key: placeholder(inner, key) for key, inner in cty_type[1].items()}
    return {} if kind == "map" else []


def fill_computed(block: dict[str, Any], value: dict[str, Any], known: dict[str, Any]) -> dict[str, Any]:
    """Every unset computed attribute gets `known[name]` or a placeholder of its type."""
    filled = dict(value)
    for name, attribute in block["attributes"].items():
        if attribute.get("computed") and filled.get(name) is None:
            filled[name] = known[name] if name in known else placeholder(attribute["type"], name)
    return filled


def block_count_problems(block: dict[str, Any], value: dict[str, Any] | None, path: tuple[Any, ...] = ()
                         ) -> list[tuple[tuple[Any, ...], str, str]]:
    """(attribute path, summary, detail) per nested block count outside min_items..max_items.

    Terraform leaves these counts to the provider (dynamic blocks can only be counted after expansion).
    """
    problems: list[tuple[tuple[Any, ...], str, str]] = []
    for name, nested in block["blocks"].items():
        items = (value or {}).get(name)
        if is_unknown(items) or nested["nesting"] == "single":
            continue
        items = items or []
        if nested["max_items"] and len(items) > nested["max_items"]:
            problems.append((path + (name,), f"Too many {name} blocks",
                             f"No more than {nested['max_items']} \"{name}\" blocks are allowed"))
        if len(items) < nested["min_items"]:
            problems.append((path + (name,), f"Insufficient {name} blocks",
                             f"At least {nested['min_items']} \"{name}\" blocks are required."))
        for index, item in enumerate(items):
            if isinstance(item, dict):
                problems.extend(block_count_problems(nested["block"], item, path + (name, index)))
    return problems
