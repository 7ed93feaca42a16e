"""Reading back a document the kit exported, and proving nothing in it went unread.

The spec comes from the document's standard fields (info, channel descriptions and messages, receive operations)
and its `x-edakit-*` extensions. It is then loaded (so it is a valid spec) and exported again next to the
document: every place where the document says something that export does not (an edited binding, a new server, an
added field) is listed as unmapped, since the kit would build from the spec, not from that text.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import yaml

from edakit.asyncapi.export import export_spec
from edakit.spec import SpecError

# Informational: export writes them, they carry no setting of their own.
IGNORED = ("/x-edakit-environment",)


def spec_from_edakit(doc: dict[str, Any]) -> dict[str, Any]:
    from edakit.asyncapi.importer import ImportError_

    info = doc.get("info") or {}
    settings = doc.get("x-edakit-spec")
    if not isinstance(settings, dict) or not isinstance(info.get("title"), str):
        raise ImportError_("x-edakit-spec: expected a mapping (the spec-wide settings) and info.title (the name)")
    spec: dict[str, Any] = {"name": info["title"]}
    if isinstance(info.get("description"), str):
        spec["description"] = info["description"]
    spec.update(settings)
    events = {}
    for name, message in ((doc.get("components") or {}).get("messages") or {}).items():
        written = dict((message or {}).get("x-edakit-event") or {})
        if message.get("summary"):
            written["description"] = message["summary"]
        events[name] = written
    if events:
        spec["events"] = events
    channels = {}
    for name, channel in (doc.get("channels") or {}).items():
        out: dict[str, Any] = {}
        if channel.get("description"):
            out["description"] = channel["description"]
        out["events"] = list(channel.get("messages") or {})
        out.update(channel.get("x-edakit-channel") or {})
        channels[name] = out
    if channels:
        spec["channels"] = channels
    subscribers = {}
    for key, op in (doc.get("operations") or {}).items():
        if not (isinstance(op, dict) and op.get("action") == "receive" and key.startswith("receive-")):
            continue
        ref = str((op.get("channel") or {}).get("$ref", ""))
        sub: dict[str, Any] = {}
        if op.get("description"):
            sub["description"] = op["description"]
        sub["channel"] = ref.removeprefix("#/channels/").replace("~1", "/").replace("~0", "~")
        sub.update(op.get("x-edakit-subscriber") or {})
        subscribers[key.removeprefix("receive-")] = sub
    if subscribers:
        spec["subscribers"] = subscribers
    if doc.get("x-edakit-environments"):
        spec["environments"] = doc["x-edakit-environments"]
    elif isinstance(doc.get("x-edakit-environment"), str):
        spec["environments"] = {doc["x-edakit-environment"]: {}}
    return spec


def import_edakit(doc: dict[str, Any], *, doc_dir: Path, root: Path):  # -> ImportResult
    from edakit.asyncapi.importer import ImportError_, ImportResult, Unmapped

    spec = spec_from_edakit(doc)
    env = doc.get("x-edakit-environment") if isinstance(doc.get("x-edakit-environment"), str) else None
    with tempfile.TemporaryDirectory(prefix="edakit-import-") as tmp:
        path = Path(tmp) / "spec.yaml"
        path.write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
        try:
            again = export_spec(path, env, out_dir=doc_dir.resolve(), root=root)
        except SpecError as exc:
            problems = "; ".join(p.message for p in exc.problems[:5])
            raise ImportError_(f"x-edakit-*: the spec they describe does not load: {problems}") from None
    return ImportResult(spec=spec, unmapped=[Unmapped(p, why) for p, why in differences(doc, again, "")])


def differences(doc: Any, derived: Any, at: str) -> list[tuple[str, str]]:
    """Pointers where `doc` says something `derived` (the kit's export) does not."""
    if at in IGNORED:
        return []
    if isinstance(doc, dict) and isinstance(derived, dict):
        found = []
        for key, value in doc.items():
            where = at + "/" + str(key).replace("~", "~0").replace("/", "~1")
            if key not in derived:
                found.append((where, "not part of what the kit exports for this spec: not mapped"))
            else:
                found += differences(value, derived[key], where)
        return found
    if doc != derived:
        return [(at, f"differs from what the spec gives ({_short(derived)}): set it through x-edakit-* instead")]
    return []


def _short(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 80 else text[:77] + "..."
