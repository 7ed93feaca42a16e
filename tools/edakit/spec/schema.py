"""The spec's JSON Schema (package data; configs/edakit-spec.schema.json is the file) and the located problems it
finds."""

from __future__ import annotations

import difflib
import functools
import json
from importlib.resources import files
from typing import Any

import jsonschema
from jsonschema.exceptions import ValidationError

from edakit.spec.errors import KeyPath, Problem
from edakit.spec.source import Document

# Ships inside the package (an installed service has no configs/); in the repository it is a symlink to
# configs/edakit-spec.schema.json, the file editors read, so the two cannot differ (tests/packaging).
SCHEMA_PATH = files("edakit.spec") / "edakit-spec.schema.json"

_JSON_TYPES = {dict: "object", list: "array", str: "string", bool: "boolean", int: "integer", float: "number"}


@functools.cache
def spec_schema() -> dict[str, Any]:
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


@functools.cache
def _validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(spec_schema())


def defaults(definition: str, *properties: str) -> dict[str, Any]:
    """The `default` of every property of `$defs/<definition>[/properties/...]`: defaults live only in the schema."""
    node = _resolve(spec_schema()["$defs"][definition])
    for name in properties:
        node = _resolve(node["properties"][name])
    resolved = {key: _resolve(prop) for key, prop in node["properties"].items()}
    return {key: prop["default"] for key, prop in resolved.items() if "default" in prop}


def settings_at(path: KeyPath) -> set[str]:
    """Keys the schema declares for the object at `path` (settings, not user-named entries such as channels)."""
    node = _resolve(spec_schema())
    for key in path:
        properties = node.get("properties", {})
        if key in properties:
            node = _resolve(properties[key])
        elif isinstance(node.get("additionalProperties"), dict):
            node = _resolve(node["additionalProperties"])
        else:
            return set()
    return set(node.get("properties", {}))


def _resolve(node: dict[str, Any]) -> dict[str, Any]:
    """Follow a local `$ref` such as `#/$defs/sqs_queue_settings/properties/raw_message_delivery`."""
    while "$ref" in node:
        target: Any = spec_schema()
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def did_you_mean(word: str, choices: list[str]) -> str:
    """`; did you mean 'region'?` or the list of what is allowed when nothing is close."""
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    if close:
        return f"; did you mean '{close[0]}'?"
    return f"; expected one of: {', '.join(sorted(choices))}" if choices else ""


@functools.cache
def _secret_schemas() -> frozenset[int]:
    """The ids of `$defs/secret_ref` and every schema inside it: an error there is about a value that may be a
    secret written in the spec by mistake, so its text never quotes the value."""
    found: set[int] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            found.add(id(node))
            for child in node.values():
                walk(child)
        elif isinstance(node, list):
            for child in node:
                walk(child)

    walk(spec_schema()["$defs"]["secret_ref"])
    return frozenset(found)


def _is_secret(error: ValidationError) -> bool:
    """Whether the error was raised by the secret reference schema (or inside it), at any depth of its context."""
    return id(error.schema) in _secret_schemas() or any(_is_secret(e) for e in error.context or ())


def _secret_problem(error: ValidationError, path: KeyPath, document: Document) -> Problem:
    got = _JSON_TYPES.get(type(error.instance), "null")
    if error.validator == "type" and error.schema is not spec_schema()["$defs"]["secret_ref"]:
        types = error.validator_value
        expected = types if isinstance(types, str) else " or ".join(types)
        return document.problem(path, f"expected {expected}, got {got} (value not shown: it may be a secret)")
    return document.problem(path, f"expected a secret reference, one of {{env: NAME}} or {{file: PATH}}, got "
                                  f"{got} (value not shown: a secret is never written in the spec)")


def _show(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, default=str)
    return text if len(text) <= 60 else text[:57] + "..."


def check(document: Document) -> list[Problem]:
    """Every schema violation of the document, one problem per violation, each at its key's position."""
    problems = []
    for error in _validator().iter_errors(document.data):
        problems.extend(_problems(error, tuple(error.absolute_path), document))
    return problems


def _problems(error: ValidationError, path: KeyPath, document: Document) -> list[Problem]:
    if error.validator != "additionalProperties" and _is_secret(error):  # unknown keys are named, not values
        return [_secret_problem(error, path, document)]
    if error.validator == "additionalProperties":
        allowed = list(error.schema.get("properties", {}))
        return [
            document.problem((*path, key), f"unknown key '{key}'{did_you_mean(key, allowed)}")
            for key in error.instance
            if key not in allowed
        ]
    if error.validator == "required":
        missing = next(key for key in error.validator_value if key not in error.instance and repr(key) in error.message)
        return [document.problem(path, f"missing required key '{missing}'")]
    if "propertyNames" in error.absolute_schema_path:
        # jsonschema reports a bad key at its parent; the key itself is the more useful location.
        rule = f"names must match {error.validator_value}" if error.validator == "pattern" else error.message
        return [document.problem((*path, error.instance), f"invalid name '{error.instance}': {rule}")]
    if error.validator == "type":
        types = error.validator_value
        expected = types if isinstance(types, str) else " or ".join(types)
        got = _JSON_TYPES.get(type(error.instance), "null")
        shown = "" if error.instance is None else f" {_show(error.instance)}"
        return [document.problem(path, f"expected {expected}, got {got}{shown}")]
    if error.validator in ("pattern", "not", "oneOf") and "x-edakit-message" in error.schema:
        # A field whose rule a regex states badly explains itself (e.g. what a KMS key reference looks like).
        return [document.problem(path, f"{_show(error.instance)}: {error.schema['x-edakit-message']}")]
    if error.validator == "enum":
        choices = [str(choice) for choice in error.validator_value]
        hint = did_you_mean(str(error.instance), choices)
        return [document.problem(path, f"{_show(error.instance)} is not allowed{hint}")]
    return [document.problem(path, error.message)]

