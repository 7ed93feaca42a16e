"""Reference checks on the raw document: they run even when the schema fails, so one run reports both kinds.

Each check reads only the values it needs and skips any of the wrong shape: the schema already reports those.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from edakit.redact import shorten
from edakit.spec.errors import Problem
from edakit.spec.schema import did_you_mean
from edakit.spec.source import Document


def _entries(data: dict[str, Any], key: str) -> dict[str, dict[str, Any]]:
    """The well-formed entries of a named collection (`channels`, `events`, ...); an absent collection is empty."""
    collection = data.get(key, {})
    if not isinstance(collection, dict):
        return {}
    return {name: entry for name, entry in collection.items() if isinstance(entry, dict)}


def _names(data: dict[str, Any], key: str) -> list[str] | None:
    """Names a reference may point at, or None when the collection is malformed and so cannot be judged."""
    collection = data.get(key, {})
    return list(collection) if isinstance(collection, dict) else None


def events_exist(doc: Document, root: Path) -> Iterator[Problem]:
    data = doc.data
    events = _names(data, "events")
    if events is None:
        return
    for name, channel in _entries(data, "channels").items():
        carried = channel.get("events")
        for index, event in enumerate(carried if isinstance(carried, list) else []):
            if isinstance(event, str) and event not in events:
                yield doc.problem(
                    ("channels", name, "events", index), f"unknown event '{event}'{did_you_mean(event, events)}"
                )


def channels_exist(doc: Document, root: Path) -> Iterator[Problem]:
    data = doc.data
    channels = _names(data, "channels")
    if channels is None:
        return
    for name, subscriber in _entries(data, "subscribers").items():
        channel = subscriber.get("channel")
        if isinstance(channel, str) and channel not in channels:
            hint = did_you_mean(channel, channels)
            yield doc.problem(("subscribers", name, "channel"), f"unknown channel '{channel}'{hint}")


def brokers_configured(doc: Document, root: Path) -> Iterator[Problem]:
    from edakit.brokers import PROFILES  # imported when used: the profiles import the evaluators, which import spec

    data = doc.data
    for name, channel in _entries(data, "channels").items():
        broker = channel.get("broker", data.get("broker"))
        found = PROFILES.get(broker) if isinstance(broker, str) else None
        block = found.block if found is not None else None
        if block is not None and block not in data:
            where = ("channels", name, "broker") if "broker" in channel else ("broker",)
            yield doc.problem(where, f"channel uses {broker} but the spec has no top-level `{block}` block")


def _unusable(root: Path, relative: Any, inside: str) -> str | None:
    """Why a file reference cannot be used, or None: a spec in a pull request is untrusted, so it may only name
    files inside `root / inside` (resolved, so neither `..`, an absolute path nor a symlink leads out of it), and
    the file must exist."""
    if not isinstance(relative, str):
        return None  # the schema reports a value of the wrong type
    base = (root / inside).resolve()
    where = f"{inside}/ of the repository" if inside else "the repository"
    if Path(relative).is_absolute():
        return f"'{shorten(relative)}' is an absolute path; expected a path relative to the repository root, inside {where}"
    path = root / relative
    try:
        resolved = path.resolve()
        if not resolved.is_relative_to(base):
            return f"'{shorten(relative)}' leads outside {where}; expected a file inside it"
        return None if resolved.is_file() else f"'{shorten(relative)}' not found (looked for {path})"
    except (OSError, RuntimeError):  # a name too long for the file system, a symlink loop: no such file can exist
        return f"'{shorten(relative)}' not found (looked for {path})"


def schema_files_exist(doc: Document, root: Path) -> Iterator[Problem]:
    for name, event in _entries(doc.data, "events").items():
        why = _unusable(root, event.get("schema"), "schemas")
        if why is not None:
            yield doc.problem(("events", name, "schema"), f"schema file {why}")


def saga_file_exists(doc: Document, root: Path) -> Iterator[Problem]:
    saga = doc.data.get("saga")
    why = _unusable(root, saga.get("definition"), "") if isinstance(saga, dict) else None
    if why is not None:
        yield doc.problem(("saga", "definition"), f"saga definition {why}")


def saga_channels_exist(doc: Document, root: Path) -> Iterator[Problem]:
    """A spec that declares channels and points at a saga file: the saga's step and reply channels are among them
    (located in the saga file). A spec without `channels` runs its saga on Step Functions only: not checked."""
    saga, channels = doc.data.get("saga"), _names(doc.data, "channels")
    if not isinstance(saga, dict) or "channels" not in doc.data or channels is None:
        return
    if _unusable(root, saga.get("definition"), "") is None:
        from edakit.saga.check import step_channel_problems  # the saga package imports spec

        yield from step_channel_problems(root / saga["definition"], channels)


REFERENCE_CHECKS: tuple[Callable[[Document, Path], Iterator[Problem]], ...] = (
    events_exist,
    schema_files_exist,
    channels_exist,
    brokers_configured,
    saga_file_exists,
    saga_channels_exist,
)


def check_references(doc: Document, root: Path, rejected: list[Problem]) -> list[Problem]:
    """Every dangling reference of `doc`, except at a key the schema already `rejected` (one problem per key)."""
    places = {(p.line, p.column, p.path) for p in rejected}
    problems = [problem for check in REFERENCE_CHECKS for problem in check(doc, root)]
    return [p for p in problems if (p.line, p.column, p.path) not in places]
