"""The schema registry kept in the repository.

    schemas/<domain>/schema-config.yaml          compatibility, subject_name_strategy, serialization, events
    schemas/<domain>/v<N>/<event>.avsc           Avro
    schemas/<domain>/v<N>/<event>.schema.json    JSON Schema twin

A subject is one event of one domain; its versions are the v<N> directories holding that event, in order.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from edakit.schemas.compat import LEVELS, check_compatibility
from edakit.schemas.errors import SchemaError
from edakit.schemas.validate import AVRO_SUFFIX, JSON_SUFFIX, read_json, read_schema_json, validator_for
from edakit.spec.errors import Problem  # the kit's one located-problem type
from edakit.spec.limits import read_text
from edakit.spec.source import parse

CONFIG_NAME = "schema-config.yaml"
CONFIG_MAX_BYTES = 64 * 1024  # a domain's settings: ours are a few hundred bytes
STRATEGIES = ("TopicNameStrategy", "RecordNameStrategy", "TopicRecordNameStrategy")
SUFFIXES = {"AVRO": AVRO_SUFFIX, "JSON": JSON_SUFFIX}
DOMAIN_KEYS = {"compatibility", "subject_name_strategy", "serialization", "events"}
EVENT_KEYS = {"topic", "compatibility"}
VERSION_DIR = re.compile(r"^v([1-9][0-9]*)$")
PAYLOAD_NAME = re.compile(r"^v([1-9][0-9]*)(?:[-_.].*)?\.json$")


@dataclass
class Subject:
    domain: str
    event: str
    topic: str
    compatibility: str
    strategy: str
    serialization: str  # the twin the registry serves: AVRO or JSON
    versions: list[int] = field(default_factory=list)  # v<N> directory numbers, ascending
    root: Path = Path("schemas")

    def path(self, version: int, schema_type: str | None = None) -> Path:
        return self.root / self.domain / f"v{version}" / f"{self.event}{SUFFIXES[schema_type or self.serialization]}"

    def schema(self, version: int, schema_type: str | None = None) -> Any:
        return read_schema_json(self.path(version, schema_type))

    @property
    def name(self) -> str:
        """The registry subject name under the domain's naming strategy."""
        if self.strategy == "TopicNameStrategy":
            return f"{self.topic}-value"
        record = record_name(self.serialization, self.schema(self.versions[-1]), str(self.path(self.versions[-1])))
        return record if self.strategy == "RecordNameStrategy" else f"{self.topic}-{record}"


def record_name(schema_type: str, schema: Any, source: str) -> str:
    """The fully-qualified record name Confluent's record strategies use (JSON Schema: its title)."""
    if schema_type == "AVRO":
        name = schema.get("name", "") if isinstance(schema, dict) else ""
        namespace = schema.get("namespace") if isinstance(schema, dict) else None
        if not name:
            raise SchemaError(source, "RecordNameStrategy needs a named Avro record")
        return name if "." in name or not namespace else f"{namespace}.{name}"
    title = schema.get("title") if isinstance(schema, dict) else None
    if not title:
        raise SchemaError(source, "RecordNameStrategy needs a JSON Schema with a 'title'")
    return str(title)


def _load_config(path: Path) -> tuple[dict[str, Any], list[Problem]]:
    """schema-config.yaml through the kit's bounded YAML reader (size, nesting, alias expansion: a file in a pull
    request cannot exhaust memory or the parser's recursion)."""
    if not path.exists():
        return {}, []
    text, unreadable = read_text(path, max_bytes=CONFIG_MAX_BYTES, what="schema config")
    if text is None:
        return {}, [Problem.at(str(path), p.message, p.line) for p in unreadable]
    if all(line.strip() in ("", "---", "...") or line.lstrip().startswith("#") for line in text.splitlines()):
        return {}, []  # an empty config: every setting at its default
    doc, found = parse(text, str(path), what="schema config", max_bytes=CONFIG_MAX_BYTES)
    if found:
        return {}, [Problem.at(str(path), p.message if p.path == "(root)" else f"{p.path}: {p.message}", p.line)
                    for p in found]
    data = doc.data
    if not isinstance(data, dict):
        return {}, [Problem.at(str(path), "expected a mapping of settings", 1)]
    problems = []

    def line_of(*key_path: str) -> int | None:
        position = doc.positions.get(tuple(key_path))
        return position[0] if position else None

    for key in data:
        if key not in DOMAIN_KEYS:
            problems.append(Problem.at(str(path), f"unknown key '{key}' (expected one of {sorted(DOMAIN_KEYS)})",
                                    line_of(key)))
    checks = [("compatibility", LEVELS), ("subject_name_strategy", STRATEGIES), ("serialization", ("AVRO", "JSON"))]
    for key, allowed in checks:
        if key in data and data[key] not in allowed:
            problems.append(Problem.at(str(path), f"{key}: expected one of {', '.join(allowed)}, got {data[key]!r}",
                                    line_of(key)))
    events = data.get("events") or {}
    if not isinstance(events, dict):
        problems.append(Problem.at(str(path), "events: expected a mapping of event name to settings",
                                line_of("events")))
        events = {}
    for event, settings in events.items():
        if settings is None:
            continue
        if not isinstance(settings, dict):
            problems.append(Problem.at(str(path), f"events.{event}: expected a mapping", line_of("events", event)))
            continue
        for key in settings:
            if key not in EVENT_KEYS:
                problems.append(Problem.at(str(path), f"events.{event}: unknown key '{key}' (expected one of "
                                                   f"{sorted(EVENT_KEYS)})", line_of("events", event, key)))
        if "compatibility" in settings and settings["compatibility"] not in LEVELS:
            problems.append(Problem.at(str(path), f"events.{event}.compatibility: expected one of "
                                               f"{', '.join(LEVELS)}, got {settings['compatibility']!r}",
                                    line_of("events", event, "compatibility")))
    return data, problems


def load_subjects(root: Path) -> tuple[list[Subject], list[Problem]]:
    """Every subject under `root` (the schemas/ directory) and the problems found reading the layout."""
    subjects: list[Subject] = []
    problems: list[Problem] = []
    if not root.is_dir():
        return [], [Problem.at(str(root), "schemas directory not found")]
    for domain_dir in sorted(p for p in root.iterdir() if p.is_dir()):
        config, found = _load_config(domain_dir / CONFIG_NAME)
        problems += found
        events: dict[str, list[int]] = {}
        for version_dir in sorted(domain_dir.iterdir()):
            if not version_dir.is_dir():
                continue
            match = VERSION_DIR.match(version_dir.name)
            if not match:
                problems.append(Problem.at(str(version_dir), "expected a version directory named v<N> (v1, v2, ...)"))
                continue
            for schema_file in sorted(version_dir.iterdir()):
                event = _event_name(schema_file)
                if event is None:
                    problems.append(Problem.at(str(schema_file), f"expected <event>{AVRO_SUFFIX} or <event>{JSON_SUFFIX}"))
                    continue
                versions = events.setdefault(event, [])
                if int(match.group(1)) not in versions:
                    versions.append(int(match.group(1)))
        settings = config.get("events") or {}
        for event in settings:
            if event not in events:
                problems.append(Problem.at(str(domain_dir / CONFIG_NAME), f"events.{event}: no schema files for this "
                                        f"event under {domain_dir}/v<N>/"))
        for event, versions in sorted(events.items()):
            own = settings.get(event) or {}
            subjects.append(Subject(
                domain=domain_dir.name, event=event, topic=str(own.get("topic", event)),
                compatibility=str(own.get("compatibility", config.get("compatibility", "BACKWARD"))),
                strategy=str(config.get("subject_name_strategy", "TopicNameStrategy")),
                serialization=str(config.get("serialization", "AVRO")), versions=sorted(versions), root=root))
    return subjects, problems


def _event_name(path: Path) -> str | None:
    for suffix in (JSON_SUFFIX, AVRO_SUFFIX):
        if path.name.endswith(suffix):
            return path.name[: -len(suffix)]
    return None


def check_subject_history(subject: Subject) -> list[Problem]:
    """Every version of both twins against its predecessors, at the subject's level."""
    problems = []
    for schema_type in ("AVRO", "JSON"):
        present = [v for v in subject.versions if subject.path(v, schema_type).exists()]
        history: list[Any] = []
        for version in present:
            path = subject.path(version, schema_type)
            try:
                schema = read_schema_json(path)
                result = check_compatibility(schema_type, schema, history, subject.compatibility)
            except SchemaError as exc:
                problems.append(Problem.at(str(path), exc.message))
                break
            problems += [Problem.at(str(path), f"incompatible with earlier versions at {subject.compatibility}: {m}")
                         for m in result.messages]
            history.append(schema)
    return problems


def check_payload_examples(subjects: list[Subject], payload_root: Path) -> list[Problem]:
    """examples/payloads/<domain>/<event>/v<N>[-what].json is valid against both twins of version N."""
    if not payload_root.is_dir():
        return []
    by_key = {(s.domain, s.event): s for s in subjects}
    problems = []
    for payload in sorted(payload_root.rglob("*.json")):
        parts = payload.relative_to(payload_root).parts
        match = PAYLOAD_NAME.match(payload.name)
        if len(parts) != 3 or not match:
            problems.append(Problem.at(str(payload), "expected examples/payloads/<domain>/<event>/v<N>[-name].json"))
            continue
        subject = by_key.get((parts[0], parts[1]))
        version = int(match.group(1))
        if subject is None or version not in subject.versions:
            problems.append(Problem.at(str(payload), f"no schema {parts[0]}/v{version}/{parts[1]} for this example"))
            continue
        for schema_type in ("AVRO", "JSON"):
            schema_path = subject.path(version, schema_type)
            if not schema_path.exists():
                continue
            try:
                errors = validator_for(schema_path).errors(read_json(payload))
            except SchemaError as exc:
                problems.append(Problem.at(exc.source, exc.message))
                continue
            problems += [Problem.at(str(payload), f"invalid against {schema_path}: {e}") for e in errors]
    return problems


def check_repository(root: Path) -> list[Problem]:
    """What `edakit validate` runs for schemas: layout and config, compatibility history of every subject,
    unique subject names, and every example payload against its schema. `root` is the project root."""
    subjects, problems = load_subjects(root / "schemas")
    seen: dict[str, Subject] = {}
    for subject in subjects:
        problems += check_subject_history(subject)
        try:
            name = subject.name
        except SchemaError as exc:
            problems.append(Problem.at(exc.source, exc.message))
            continue
        if name in seen:
            other = seen[name]
            problems.append(Problem.at(str(root / "schemas" / subject.domain / CONFIG_NAME),
                                    f"subject '{name}' is used by both {other.domain}/{other.event} and "
                                    f"{subject.domain}/{subject.event}"))
        seen[name] = subject
    problems += check_payload_examples(subjects, root / "examples" / "payloads")
    return problems
