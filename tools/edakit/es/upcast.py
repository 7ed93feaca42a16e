"""Upcasting of stored events between schema versions, generated from the schemas themselves.

An event stored at version K of its subject is read at version N (the one its class writes) one step at a time
along the subject's versions. Each step is Avro schema resolution (fastavro): the payload is written with the older
schema and read back with the newer one, so an added field with a default gets its default, a widened type is
promoted and an aliased rename follows the alias — no code. A change resolution cannot express (a new field with no
default, a new meaning) needs a hand-written step, registered with `register_upcaster`; `check_upcasting` (run by
the tests and meant for `edakit validate`) reports every step of every subject that has neither.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import fastavro
import fastavro.utils
from fastavro.read import SchemaResolutionError

from edakit.schemas.errors import SchemaError
from edakit.schemas.repo import Problem, Subject, load_subjects
from edakit.schemas.validate import read_json, validator_for

Upcaster = Callable[[dict[str, Any]], dict[str, Any]]
# (domain/event, from version, to version) -> hand-written step
UPCASTERS: dict[tuple[str, int, int], Upcaster] = {}


def register_upcaster(subject: str, from_version: int, to_version: int) -> Callable[[Upcaster], Upcaster]:
    """Decorator: `fn(payload_at_from) -> payload_at_to` replaces the generated step for `subject`
    ("<domain>/<event>") between two adjacent versions."""
    def register(fn: Upcaster) -> Upcaster:
        UPCASTERS[(subject, from_version, to_version)] = fn
        return fn
    return register


def _plain(schema: Any) -> Any:
    """The schema without logicalType annotations: resolution then hands back the stored JSON values unchanged (a
    uuid stays a str, a timestamp-millis an int) instead of converting them to Python objects."""
    if isinstance(schema, dict):
        return {k: _plain(v) for k, v in schema.items() if k != "logicalType"}
    if isinstance(schema, list):
        return [_plain(v) for v in schema]
    return schema


def _avro(subject: Subject, version: int) -> Any:
    path = subject.path(version, "AVRO")
    if not path.exists():
        raise SchemaError(str(path), "generated upcasting needs the Avro twin of every version")
    return fastavro.parse_schema(_plain(subject.schema(version, "AVRO")))


def resolution_step(subject: Subject, from_version: int, to_version: int) -> Upcaster:
    """The generated step: Avro schema resolution from `from_version` to `to_version`. Raises SchemaError when the
    two schemas do not resolve (a field added without a default, an incompatible type)."""
    writer, reader = _avro(subject, from_version), _avro(subject, to_version)

    def step(payload: dict[str, Any]) -> dict[str, Any]:
        buffer = io.BytesIO()
        fastavro.schemaless_writer(buffer, writer, payload)
        buffer.seek(0)
        try:
            return fastavro.schemaless_reader(buffer, writer, reader)  # type: ignore[return-value]
        except SchemaResolutionError as exc:
            raise SchemaError(str(subject.path(to_version, "AVRO")),
                              f"v{from_version} does not resolve to v{to_version}: {exc}") from exc

    # resolution errors show on the first datum only: probe once with a generated one so a bad pair fails here
    step(fastavro.utils.generate_one(writer))  # type: ignore[arg-type]
    return step


def upcaster_chain(subject: Subject, from_version: int, to_version: int,
                   upcasters: Mapping[tuple[str, int, int], Upcaster] | None = None) -> Upcaster:
    """One function taking a payload of `from_version` to `to_version` along the subject's versions, hand-written
    steps where registered, generated ones elsewhere."""
    registry = UPCASTERS if upcasters is None else upcasters
    key = f"{subject.domain}/{subject.event}"
    versions = [v for v in subject.versions if from_version <= v <= to_version]
    steps = []
    for older, newer in zip(versions, versions[1:]):
        hand = registry.get((key, older, newer))
        steps.append(hand if hand is not None else resolution_step(subject, older, newer))

    def chain(payload: dict[str, Any]) -> dict[str, Any]:
        for step in steps:
            payload = step(payload)
        return payload

    return chain


def check_upcasting(root: Path, upcasters: Mapping[tuple[str, int, int], Upcaster] | None = None) -> list[Problem]:
    """Every subject with N versions is readable at version N from every older one: each step resolves (or has a
    hand-written upcaster), a datum generated from every older Avro schema upcasts to a valid vN datum, and every
    example payload of an older version (examples/payloads/<domain>/<event>/v<K>*.json) upcasts to a payload valid
    against both twins of vN. `root` is the project root."""
    subjects, problems = load_subjects(root / "schemas")
    for subject in subjects:
        if len(subject.versions) < 2:
            continue
        newest = subject.versions[-1]
        examples = root / "examples" / "payloads" / subject.domain / subject.event
        for older in subject.versions[:-1]:
            where = str(subject.path(newest, "AVRO"))
            try:
                chain = upcaster_chain(subject, older, newest, upcasters)
                probes = [fastavro.utils.generate_one(_avro(subject, older))]
                probes += [read_json(p) for p in sorted(examples.glob(f"v{older}*.json"))
                           if p.name[len(f"v{older}"):][:1] in ("", ".", "-", "_")]
                for probe in probes:
                    upcast = chain(probe)
                    for schema_type in ("AVRO", "JSON"):
                        path = subject.path(newest, schema_type)
                        if path.exists() and (schema_type == "AVRO" or probe is not probes[0]):
                            problems += [Problem.at(str(path), f"a v{older} event upcast to v{newest} is invalid: {e}")
                                         for e in validator_for(path).errors(upcast)]
            except SchemaError as exc:
                problems.append(Problem.at(where, f"{subject.domain}/{subject.event} v{older} cannot be read as "
                                               f"v{newest} and no hand-written upcaster is registered: {exc.message}"))
    return problems
