"""An in-memory schema registry with Confluent's semantics (subjects, versions, global ids, levels), preloaded
from the repository; `serve.py` puts the Confluent REST API in front of it."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edakit.schemas.compat import LEVELS, CompatibilityResult, check_compatibility
from edakit.schemas.errors import SchemaError
from edakit.schemas.refs import NO_LOCAL_SCHEMAS, LocalSchemas
from edakit.schemas.repo import SUFFIXES, Subject, load_subjects
from edakit.schemas.validate import PayloadValidator, parse_schema_text, read_schema_json


class RegistryError(Exception):
    """A request the registry refuses, with Confluent's HTTP status and error code."""

    def __init__(self, status: int, error_code: int, message: str) -> None:
        super().__init__(message)
        self.status, self.error_code, self.message = status, error_code, message


@dataclass(frozen=True)
class Version:
    subject: str
    version: int
    id: int
    schema_type: str
    schema: str  # as registered (Confluent returns the schema string)

    def as_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"subject": self.subject, "version": self.version, "id": self.id, "schema": self.schema}
        if self.schema_type != "AVRO":  # Confluent omits schemaType for Avro
            body["schemaType"] = self.schema_type
        return body


def canonical(schema_text: str) -> str:
    return json.dumps(json.loads(schema_text), sort_keys=True, separators=(",", ":"))


class Registry:
    def __init__(self, default_level: str = "BACKWARD") -> None:
        self._lock = threading.RLock()
        self._subjects: dict[str, list[Version]] = {}
        self._ids: dict[tuple[str, str], int] = {}  # (schema type, canonical schema) -> id, shared across subjects
        self._by_id: dict[int, tuple[str, str]] = {}
        self._levels: dict[str, str] = {}
        self.default_level = default_level
        self.repo_subjects: dict[str, Subject] = {}
        self.persist_root: Path | None = None
        # what a registered JSON Schema's $refs may point at: the repository's schemas/ tree, indexed at load time
        self.local_schemas: LocalSchemas = NO_LOCAL_SCHEMAS

    # --- loading -------------------------------------------------------------------------------------------
    @classmethod
    def from_repository(cls, schemas_root: Path, persist: bool = False) -> Registry:
        subjects, problems = load_subjects(schemas_root)
        if problems:
            raise SchemaError(str(schemas_root),
                              "cannot load the repository's schemas: " + "; ".join(map(str, problems)))
        registry = cls()
        registry.local_schemas = LocalSchemas.of_tree(schemas_root)
        for subject in subjects:
            name = subject.name
            registry.repo_subjects[name] = subject
            registry._levels[name] = subject.compatibility
            for version in subject.versions:
                path = subject.path(version)
                if path.exists():
                    registry._append(name, subject.serialization, json.dumps(read_schema_json(path)))
        registry.persist_root = schemas_root if persist else None
        return registry

    def _append(self, subject: str, schema_type: str, schema: str) -> Version:
        key = (schema_type, canonical(schema))
        schema_id = self._ids.get(key)
        if schema_id is None:
            schema_id = len(self._ids) + 1
            self._ids[key] = schema_id
            self._by_id[schema_id] = (schema_type, schema)
        versions = self._subjects.setdefault(subject, [])
        registered = Version(subject, len(versions) + 1, schema_id, schema_type, schema)
        versions.append(registered)
        return registered

    # --- reads ---------------------------------------------------------------------------------------------
    def subjects(self) -> list[str]:
        with self._lock:
            return sorted(self._subjects)

    def versions(self, subject: str) -> list[Version]:
        with self._lock:
            if subject not in self._subjects:
                raise RegistryError(404, 40401, f"Subject '{subject}' not found.")
            return list(self._subjects[subject])

    def version(self, subject: str, version: str) -> Version:
        versions = self.versions(subject)
        if version in ("latest", "-1"):
            return versions[-1]
        if not version.isdigit() or int(version) < 1:
            raise RegistryError(422, 42202, f"The specified version '{version}' is not a valid version id.")
        if int(version) > len(versions):
            raise RegistryError(404, 40402, f"Version {version} not found.")
        return versions[int(version) - 1]

    def schema_by_id(self, schema_id: int) -> tuple[str, str]:
        with self._lock:
            if schema_id not in self._by_id:
                raise RegistryError(404, 40403, f"Schema {schema_id} not found")
            return self._by_id[schema_id]

    def level(self, subject: str | None = None) -> str:
        with self._lock:
            return self._levels.get(subject, self.default_level) if subject else self.default_level

    def set_level(self, level: str, subject: str | None = None) -> str:
        if level not in LEVELS:
            raise RegistryError(422, 42203, f"Invalid compatibility level. Valid values are {', '.join(LEVELS)}")
        with self._lock:
            if subject:
                self._levels[subject] = level
            else:
                self.default_level = level
        return level

    def lookup(self, subject: str, schema: str, schema_type: str) -> Version:
        key = canonical(self._checked(schema, schema_type))
        for registered in self.versions(subject):
            if registered.schema_type == schema_type and canonical(registered.schema) == key:
                return registered
        raise RegistryError(404, 40403, "Schema not found")

    def _checked(self, schema: str, schema_type: str) -> str:
        """Confluent answers 422/42201 for a schema it cannot parse (here also: one whose $ref leaves the document
        and the repository's schemas/ tree, or one past the size and depth bounds)."""
        if schema_type not in SUFFIXES:
            raise RegistryError(422, 42201, f"Invalid schema type {schema_type}; expected AVRO or JSON")
        try:
            PayloadValidator(schema_type, parse_schema_text(schema, "schema"), "schema", self.local_schemas)
        except (ValueError, TypeError, SchemaError) as exc:
            raise RegistryError(422, 42201, f"Invalid schema: {exc}") from exc
        return schema

    # --- writes --------------------------------------------------------------------------------------------
    def compatibility(self, subject: str, schema: str, schema_type: str, version: str | None) -> CompatibilityResult:
        """Confluent's compatibility endpoint: against one version, or (no version) everything the level covers."""
        parsed = json.loads(self._checked(schema, schema_type))
        with self._lock:
            if subject not in self._subjects:
                return CompatibilityResult(True)
            level = self.level(subject)
            previous = [self.version(subject, version)] if version else self._subjects[subject]
        if version:
            level = level.removesuffix("_TRANSITIVE")
        return check_compatibility(schema_type, parsed, [json.loads(v.schema) for v in previous], level)

    def register(self, subject: str, schema: str, schema_type: str) -> Version:
        """Register a new version when it is compatible at the subject's level (same schema: same version)."""
        self._checked(schema, schema_type)
        with self._lock:
            existing = self._subjects.get(subject, [])
            key = canonical(schema)
            same = next((v for v in existing if v.schema_type == schema_type and canonical(v.schema) == key), None)
            if same is not None:
                return same
            if existing and existing[-1].schema_type != schema_type:
                raise RegistryError(409, 409, f"Schema being registered is incompatible with an earlier schema for "
                                              f"subject \"{subject}\": schema type {schema_type} after "
                                              f"{existing[-1].schema_type}")
            result = check_compatibility(schema_type, json.loads(schema), [json.loads(v.schema) for v in existing],
                                         self.level(subject))
            if not result.compatible:
                raise RegistryError(409, 409, f"Schema being registered is incompatible with an earlier schema for "
                                              f"subject \"{subject}\", details: [{', '.join(result.messages)}]")
            registered = self._append(subject, schema_type, schema)
            self._persist(registered)
            return registered

    def _persist(self, registered: Version) -> None:
        """--persist: a new version of a repository subject becomes schemas/<domain>/v<N+1>/<event>.<ext>."""
        subject = self.repo_subjects.get(registered.subject)
        if self.persist_root is None or subject is None or registered.schema_type != subject.serialization:
            return
        version = subject.versions[-1] + 1
        path = subject.root / subject.domain / f"v{version}" / f"{subject.event}{SUFFIXES[subject.serialization]}"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(json.loads(registered.schema), indent=2) + "\n")
        subject.versions.append(version)
