"""What `edakit validate` runs for sagas: every saga file loads and generates ASL; and, for a spec that points at
a saga file, its steps' `channel` and `reply_channel` name channels the spec declares."""

from __future__ import annotations

from pathlib import Path

from .asl import to_asl
from edakit.spec import limits
from edakit.spec.errors import Problem
from edakit.spec.schema import did_you_mean
from edakit.spec.source import parse

from .loader import SagaError, default_reply_channel, load_saga


def check_sagas(directory: str | Path) -> list[Problem]:
    """Problems in every configs/sagas/*.yaml under directory; an empty list means all are valid."""
    problems: list[Problem] = []
    for path in sorted(Path(directory).glob("*.yaml")):
        try:
            to_asl(load_saga(path))
        except SagaError as exc:
            problems.extend(exc.problems)
    return problems


def step_channel_problems(path: Path, channels: list[str]) -> list[Problem]:
    """Each step `channel` and the saga's `reply_channel` (its default too, when steps name channels) that is not
    one of `channels`, located in the saga file (file, line, key). A file that does not load reports nothing here:
    check_sagas reports it."""
    text, problems = limits.read_text(path, max_bytes=limits.MAX_SAGA_BYTES, what="saga definition")
    if text is None:
        return []
    document, problems = parse(text, str(path), what="saga definition", max_bytes=limits.MAX_SAGA_BYTES)
    data = document.data
    if problems or not isinstance(data, dict) or not isinstance(data.get("steps"), list):
        return []
    found: list[Problem] = []

    def unknown(key: tuple[str | int, ...], channel: str, what: str) -> None:
        found.append(document.problem(key, f"{what} '{channel}' is not a channel of the spec"
                                           f"{did_you_mean(channel, channels)}"))

    named = False
    for index, step in enumerate(data["steps"]):
        channel = step.get("channel") if isinstance(step, dict) else None
        if isinstance(channel, str):
            named = True
            if channel not in channels:
                unknown(("steps", index, "channel"), channel, "step channel")
    reply = data.get("reply_channel")
    if isinstance(reply, str) and reply not in channels:
        unknown(("reply_channel",), reply, "reply channel")
    elif reply is None and named and isinstance(data.get("saga"), str):
        default = default_reply_channel(data["saga"])
        if default not in channels:
            unknown(("saga",), default, "default reply channel")
    return found
