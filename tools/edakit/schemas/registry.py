"""An in-memory schema registry with Confluent's semantics (subjects, versions, global ids, compatibility levels,
modes, soft and permanent deletes, schema references, version metadata), preloaded from the repository;
`serve.py` puts the Confluent REST API in front of it.

Errors carry Confluent's HTTP status and error code (40401 subject not found, 40402 version not found, 40403 schema
not found, 40404/40405 subject (not) soft-deleted, 40406/40407 version (not) soft-deleted, 40408/40409 no
subject-level compatibility/mode, 409 incompatible, 42201 invalid schema, 42202 invalid version, 42203 invalid
level, 42204 invalid mode, 42205 operation not permitted, 42206 referenced, 42207 id in use).

With `persist` a version read from, or written to, a schema file of the repository is never deleted: the delete is
refused (42205) and the file stays, as a committed schema is removed by a pull request, not by a registry call.
"""

from __future__ import annotations

import dataclasses
import json
import threading
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from edakit.schemas.compat import LEVELS, CompatibilityResult, check_compatibility
from edakit.schemas.errors import SchemaError
from edakit.schemas.refs import NO_LOCAL_SCHEMAS, LocalSchemas
from edakit.schemas.repo import SUFFIXES, Subject, load_subjects
from edakit.schemas.validate import PayloadValidator, parse_schema_text, read_schema_json

MODES = ("READWRITE", "READONLY", "READONLY_OVERRIDE", "IMPORT")
DEFAULT_LEVEL = "BACKWARD"
DEFAULT_MODE = "READWRITE"
METADATA_KEYS = frozenset({"tags", "properties", "sensitive"})
# guids name a schema (type, text, references) across registries; derived, so a restart keeps them
_GUID_NAMESPACE = uuid.UUID("6f1d3c2e-8a4b-4e5f-9c0d-1b2a3c4d5e6f")


class RegistryError(Exception):
    """A request the registry refuses, with Confluent's HTTP status and error code."""

    def __init__(self, status: int, error_code: int, message: str) -> None:
        super().__init__(message)
        self.status, self.error_code, self.message = status, error_code, message


@dataclass(frozen=True)
class Reference:
    """A Confluent schema reference: `name` is the full name of the Avro type the referencing schema uses."""

    name: str
    subject: str
    version: int

    def as_json(self) -> dict[str, Any]:
        return {"name": self.name, "subject": self.subject, "version": self.version}


@dataclass(frozen=True)
class Version:
    subject: str
    version: int
    id: int
    schema_type: str
    schema: str  # as registered (Confluent returns the schema string)
    references: tuple[Reference, ...] = ()
    metadata: dict[str, Any] | None = field(default=None, compare=False)
    deleted: bool = False  # soft-deleted: hidden from reads unless asked for, its id still resolves
    file: Path | None = field(default=None, compare=False)  # the repository file it was read from or written to
    resolved: str = field(default="", compare=False, repr=False)  # references expanded: what parsers and checks see

    def as_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"subject": self.subject, "version": self.version, "id": self.id, "schema": self.schema}
        if self.schema_type != "AVRO":  # Confluent omits schemaType for Avro
            body["schemaType"] = self.schema_type
        if self.references:
            body["references"] = [r.as_json() for r in self.references]
        if self.metadata is not None:
            body["metadata"] = self.metadata
        if self.deleted:
            body["deleted"] = True
        return body


@dataclass(frozen=True)
class SchemaRequest:
    """What a register, lookup or compatibility request carries."""

    schema: str
    schema_type: str = "AVRO"
    references: tuple[Reference, ...] = ()
    metadata: dict[str, Any] | None = None
    id: int | None = None  # IMPORT mode only
    version: int | None = None  # IMPORT mode only


def canonical(schema_text: str) -> str:
    return json.dumps(json.loads(schema_text), sort_keys=True, separators=(",", ":"))


def _key(schema_type: str, schema: str, references: tuple[Reference, ...]) -> tuple[str, str, tuple[Reference, ...]]:
    return schema_type, canonical(schema), references


def guid_of(schema_type: str, schema: str, references: tuple[Reference, ...] = ()) -> str:
    return str(uuid.uuid5(_GUID_NAMESPACE, json.dumps([schema_type, canonical(schema),
                                                       [r.as_json() for r in references]])))


def expand_references(schema: Any, definitions: dict[str, Any]) -> Any:
    """An Avro schema with the first use of each referenced full name replaced by its definition (later uses stay
    names, as the parser has seen the definition by then): the form Avro parsers and the compatibility checker read.
    `definitions`: full name -> parsed schema of the referenced version. Recursion is bounded by the schema's
    depth, which `parse_schema_text` limits."""
    remaining = dict(definitions)

    def walk(node: Any, namespace: str | None) -> Any:
        if isinstance(node, str):
            full = node if "." in node or not namespace else f"{namespace}.{node}"
            for name in (full, node):
                if name in remaining:
                    return remaining.pop(name)
            return node
        if isinstance(node, list):
            return [walk(branch, namespace) for branch in node]
        if not isinstance(node, dict):
            return node
        kind = node.get("type")
        if kind in ("record", "error", "enum", "fixed") and isinstance(node.get("name"), str):
            name = node["name"]
            namespace = name.rpartition(".")[0] if "." in name else node.get("namespace", namespace)
        out = dict(node)
        if kind in ("record", "error") and isinstance(node.get("fields"), list):
            out["fields"] = [{**f, "type": walk(f.get("type"), namespace)} if isinstance(f, dict) else f
                             for f in node["fields"]]
        elif kind == "array" and "items" in node:
            out["items"] = walk(node["items"], namespace)
        elif kind == "map" and "values" in node:
            out["values"] = walk(node["values"], namespace)
        elif isinstance(kind, (str, list, dict)) and kind not in ("record", "error", "enum", "fixed", "array", "map"):
            out["type"] = walk(kind, namespace)
        return out

    return walk(schema, None)


class Registry:
    def __init__(self, default_level: str = DEFAULT_LEVEL) -> None:
        self._lock = threading.RLock()
        self._subjects: dict[str, list[Version]] = {}  # every version not permanently deleted, oldest first
        self._ids: dict[tuple[str, str, tuple[Reference, ...]], int] = {}  # shared across subjects
        self._by_id: dict[int, Version] = {}  # the first version registered with each id
        self._levels: dict[str, str] = {}
        self._modes: dict[str, str] = {}
        self.default_level = default_level
        self.global_mode = DEFAULT_MODE
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
                    schema = json.dumps(read_schema_json(path))
                    registry._append(name, SchemaRequest(schema, subject.serialization), schema, file=path)
        registry.persist_root = schemas_root if persist else None
        return registry

    def _append(self, subject: str, request: SchemaRequest, resolved: str, *, file: Path | None = None) -> Version:
        key = _key(request.schema_type, request.schema, request.references)
        schema_id = request.id if request.id is not None else self._ids.get(key)
        if schema_id is None:
            schema_id = max(self._by_id, default=0) + 1
        versions = self._subjects.setdefault(subject, [])
        number = request.version if request.version is not None else max((v.version for v in versions), default=0) + 1
        registered = Version(subject, number, schema_id, request.schema_type, request.schema, request.references,
                             request.metadata, file=file, resolved=resolved)
        self._ids.setdefault(key, schema_id)
        self._by_id.setdefault(schema_id, registered)
        versions.append(registered)
        versions.sort(key=lambda v: v.version)
        return registered

    # --- reads ---------------------------------------------------------------------------------------------
    def subjects(self, *, deleted: bool = False, deleted_only: bool = False, prefix: str = "") -> list[str]:
        """Live subjects; `deleted` adds soft-deleted ones, `deleted_only` lists only those (every version
        soft-deleted)."""
        with self._lock:
            found = []
            for name, versions in self._subjects.items():
                live = any(not v.deleted for v in versions)
                if name.startswith(prefix) and (not live if deleted_only else live or deleted):
                    found.append(name)
            return sorted(found)

    def versions(self, subject: str, *, deleted: bool = False, deleted_only: bool = False) -> list[Version]:
        with self._lock:
            every = self._subjects.get(subject, [])
            live = [v for v in every if not v.deleted]
            if not every or (not live and not (deleted or deleted_only)):
                raise RegistryError(404, 40401, f"Subject '{subject}' not found.")
            if deleted_only:
                return [v for v in every if v.deleted]
            return list(every) if deleted else live

    def version(self, subject: str, version: str, *, deleted: bool = False) -> Version:
        versions = self.versions(subject, deleted=deleted)
        if version in ("latest", "-1"):
            if not versions:
                raise RegistryError(404, 40402, f"Version {version} not found.")
            return versions[-1]
        number = _version_number(version)
        for registered in versions:
            if registered.version == number:
                return registered
        raise RegistryError(404, 40402, f"Version {version} not found.")

    def schema_by_id(self, schema_id: int) -> Version:
        """The schema of `schema_id` (resolvable while any version with it is registered, soft-deleted too)."""
        with self._lock:
            if schema_id in self._by_id and self._users(schema_id):
                return self._by_id[schema_id]
            raise RegistryError(404, 40403, f"Schema {schema_id} not found")

    def schema_by_guid(self, guid: str) -> Version:
        with self._lock:
            for schema_id, first in self._by_id.items():
                if guid_of(first.schema_type, first.schema, first.references) == guid and self._users(schema_id):
                    return first
        raise RegistryError(404, 40403, f"Schema {guid[:64]} not found")

    def _users(self, schema_id: int, *, deleted: bool = True) -> list[Version]:
        return [v for versions in self._subjects.values() for v in versions
                if v.id == schema_id and (deleted or not v.deleted)]

    def id_versions(self, schema_id: int, *, subject: str | None = None, deleted: bool = False) -> list[Version]:
        """Every subject-version registered with `schema_id` (GET /schemas/ids/<id>/subjects and /versions)."""
        with self._lock:
            self.schema_by_id(schema_id)
            return sorted((v for v in self._users(schema_id, deleted=deleted) if subject in (None, v.subject)),
                          key=lambda v: (v.subject, v.version))

    def referenced_by(self, subject: str, version: str) -> list[int]:
        """Ids of the schemas whose references name this subject-version."""
        target = self.version(subject, version)
        with self._lock:
            return sorted({v.id for versions in self._subjects.values() for v in versions if not v.deleted
                           and any(r.subject == subject and r.version == target.version for r in v.references)})

    def latest_with_metadata(self, subject: str, wanted: dict[str, str], *, deleted: bool = False) -> Version:
        """The latest version whose metadata properties hold every `wanted` key with its value."""
        for registered in reversed(self.versions(subject, deleted=deleted)):
            properties = (registered.metadata or {}).get("properties") or {}
            if all(properties.get(k) == v for k, v in wanted.items()):
                return registered
        raise RegistryError(404, 40403, "Schema not found")

    def level(self, subject: str | None = None, *, default_to_global: bool = True) -> str:
        with self._lock:
            if not subject:
                return self.default_level
            if subject in self._levels:
                return self._levels[subject]
            if default_to_global:
                return self.default_level
            raise RegistryError(404, 40408, f"Subject '{subject}' does not have subject-level compatibility "
                                            "configured")

    def set_level(self, level: str, subject: str | None = None) -> str:
        if level not in LEVELS:
            raise RegistryError(422, 42203, f"Invalid compatibility level. Valid values are {', '.join(LEVELS)}")
        with self._lock:
            if subject:
                self._levels[subject] = level
            else:
                self.default_level = level
        return level

    def delete_level(self, subject: str | None = None) -> str:
        """Drop a subject's level (it follows the global one again) or reset the global one; the old level."""
        with self._lock:
            if not subject:
                old, self.default_level = self.default_level, DEFAULT_LEVEL
                return old
            old = self.level(subject, default_to_global=False)
            del self._levels[subject]
            return old

    def mode(self, subject: str | None = None, *, default_to_global: bool = False) -> str:
        with self._lock:
            if not subject:
                return self.global_mode
            if subject in self._modes:
                return self._modes[subject]
            if default_to_global:
                return self.global_mode
            raise RegistryError(404, 40409, f"Subject '{subject}' does not have subject-level mode configured")

    def set_mode(self, mode: str, subject: str | None = None, *, force: bool = False) -> str:
        if mode not in MODES:
            raise RegistryError(422, 42204, f"Invalid mode. Valid values are {', '.join(MODES)}")
        with self._lock:
            if mode == "IMPORT" and not force:
                holding = [subject] if subject and self._subjects.get(subject) else \
                    [] if subject else list(self._subjects)
                if holding:
                    raise RegistryError(422, 42205, f"Cannot import since found existing subjects: "
                                                    f"{', '.join(sorted(holding)[:5])}; pass force=true to import "
                                                    "over them")
            if subject:
                self._modes[subject] = mode
            else:
                self.global_mode = mode
        return mode

    def delete_mode(self, subject: str) -> str:
        with self._lock:
            old = self.mode(subject)
            del self._modes[subject]
            return old

    def lookup(self, subject: str, request: SchemaRequest | str, schema_type: str = "AVRO", *,
               deleted: bool = False) -> Version:
        request = _as_request(request, schema_type)
        self._resolved(request)
        key = _key(request.schema_type, request.schema, request.references)
        for registered in self.versions(subject, deleted=deleted):
            if _key(registered.schema_type, registered.schema, registered.references) == key:
                return registered
        raise RegistryError(404, 40403, "Schema not found")

    def _resolved(self, request: SchemaRequest) -> str:
        """The request's schema with its references expanded, checked as Confluent checks it: 422/42201 for a schema
        it cannot parse (here also: one whose $ref leaves the document and the repository's schemas/ tree, or one
        past the size and depth bounds), or a reference to a subject-version that is not registered."""
        if request.schema_type not in SUFFIXES:
            raise RegistryError(422, 42201, f"Invalid schema type {request.schema_type}; expected AVRO or JSON")
        try:
            parsed = parse_schema_text(request.schema, "schema")
        except SchemaError as exc:
            raise RegistryError(422, 42201, f"Invalid schema: {exc}") from exc
        if request.references:
            if request.schema_type != "AVRO":
                raise RegistryError(422, 42201, "Invalid schema: JSON Schema references are not served here: a "
                                                "$ref resolves inside the document and the repository's schemas/ "
                                                "tree")
            definitions = {}
            for reference in request.references:
                try:
                    target = self.version(reference.subject, str(reference.version))
                except RegistryError as exc:
                    raise RegistryError(422, 42201, f"Invalid schema: reference '{reference.name}' to "
                                                    f"{reference.subject} version {reference.version}: "
                                                    f"{exc.message}") from exc
                if target.schema_type != "AVRO":
                    raise RegistryError(422, 42201, f"Invalid schema: reference '{reference.name}' is a "
                                                    f"{target.schema_type} schema")
                definitions[reference.name] = json.loads(target.resolved or target.schema)
            parsed = expand_references(parsed, definitions)
        try:
            PayloadValidator(request.schema_type, parsed, "schema", self.local_schemas)
        except (ValueError, TypeError, SchemaError) as exc:
            raise RegistryError(422, 42201, f"Invalid schema: {exc}") from exc
        return json.dumps(parsed)

    # --- writes --------------------------------------------------------------------------------------------
    def compatibility(self, subject: str, request: SchemaRequest | str, schema_type: str = "AVRO",
                      version: str | None = None) -> CompatibilityResult:
        """Confluent's compatibility endpoint: against one version, or (no version) everything the level covers."""
        request = _as_request(request, schema_type)
        parsed = json.loads(self._resolved(request))
        with self._lock:
            live = [v for v in self._subjects.get(subject, []) if not v.deleted]
            if not live:
                return CompatibilityResult(True)
            level = self.level(subject)
            previous = [self.version(subject, version)] if version else live
        if version:
            level = level.removesuffix("_TRANSITIVE")
        return check_compatibility(request.schema_type, parsed, [json.loads(v.resolved or v.schema) for v in previous],
                                   level)

    def register(self, subject: str, request: SchemaRequest | str, schema_type: str = "AVRO") -> Version:
        """Register a new version when it is compatible at the subject's level (same schema: same version).
        `request` is a SchemaRequest or the schema text (then of `schema_type`)."""
        request = _as_request(request, schema_type)
        resolved = self._resolved(request)
        with self._lock:
            mode = self.mode(subject, default_to_global=True)
            self._writable(subject, mode)
            importing = mode == "IMPORT"
            if (request.id is not None or request.version is not None) and not importing:
                raise RegistryError(422, 42205, f"Subject '{subject}' is not in import mode: a schema id or version "
                                                "is given only when importing")
            live = [v for v in self._subjects.get(subject, []) if not v.deleted]
            key = _key(request.schema_type, request.schema, request.references)
            same = next((v for v in live if _key(v.schema_type, v.schema, v.references) == key
                         and v.metadata == request.metadata), None)
            if same is not None and (request.id in (None, same.id)):
                return same
            if importing:
                self._check_import(subject, request, key)
            else:
                if live and live[-1].schema_type != request.schema_type:
                    raise RegistryError(409, 409, f"Schema being registered is incompatible with an earlier schema "
                                                  f"for subject \"{subject}\": schema type {request.schema_type} "
                                                  f"after {live[-1].schema_type}")
                result = check_compatibility(request.schema_type, json.loads(resolved),
                                             [json.loads(v.resolved or v.schema) for v in live], self.level(subject))
                if not result.compatible:
                    raise RegistryError(409, 409, f"Schema being registered is incompatible with an earlier schema "
                                                  f"for subject \"{subject}\", details: [{', '.join(result.messages)}]")
            registered = self._append(subject, request, resolved)
            path = self._persist(registered)
            if path is not None:
                registered = self._replace(registered, file=path)
            return registered

    def _check_import(self, subject: str, request: SchemaRequest, key: tuple[str, str, tuple[Reference, ...]]) -> None:
        if request.id is None:
            raise RegistryError(422, 42205, f"Subject '{subject}' is in import mode: give the schema's id")
        holder = self._by_id.get(request.id)
        if holder is not None and _key(holder.schema_type, holder.schema, holder.references) != key:
            raise RegistryError(422, 42207, f"Overwrite new schema with id {request.id} is not permitted.")
        if request.version is not None and any(v.version == request.version for v in self._subjects.get(subject, [])):
            raise RegistryError(422, 42205, f"Subject '{subject}' already has version {request.version}")

    def _writable(self, subject: str, mode: str) -> None:
        if mode in ("READONLY", "READONLY_OVERRIDE"):
            raise RegistryError(422, 42205, f"Subject '{subject}' is in read-only mode")

    def delete_version(self, subject: str, version: str, *, permanent: bool = False) -> int:
        """Soft delete (the version is hidden, its id still resolves), or permanent delete of a soft-deleted one."""
        with self._lock:
            self._writable(subject, self.mode(subject, default_to_global=True))
            target = self.version(subject, version, deleted=True)
            if version in ("latest", "-1") and not permanent:
                target = self.version(subject, version)
            if permanent and not target.deleted:
                raise RegistryError(404, 40407, f"Subject '{subject}' Version {target.version} was not deleted "
                                                "first before being permanently deleted")
            if not permanent and target.deleted:
                raise RegistryError(404, 40406, f"Subject '{subject}' Version {target.version} was soft deleted. "
                                                "Set permanent=true to delete permanently")
            self._refuse_referenced([target], permanent)
            self._refuse_committed([target])
            if permanent:
                self._subjects[subject].remove(target)
                if not self._subjects[subject]:
                    del self._subjects[subject]
            else:
                self._replace(target, deleted=True)
            return target.version

    def delete_subject(self, subject: str, *, permanent: bool = False) -> list[int]:
        """Soft delete every live version, or permanently delete a soft-deleted subject; the versions deleted."""
        with self._lock:
            every = self._subjects.get(subject)
            if not every:
                raise RegistryError(404, 40401, f"Subject '{subject}' not found.")
            self._writable(subject, self.mode(subject, default_to_global=True))
            live = [v for v in every if not v.deleted]
            if permanent and live:
                raise RegistryError(404, 40405, f"Subject '{subject}' was not deleted first before being "
                                                "permanently deleted")
            if not permanent and not live:
                raise RegistryError(404, 40404, f"Subject '{subject}' was soft deleted. Set permanent=true to delete "
                                                "permanently")
            targets = every if permanent else live
            self._refuse_referenced(targets, permanent)
            self._refuse_committed(targets)
            if permanent:
                del self._subjects[subject]
                self._levels.pop(subject, None)
                self._modes.pop(subject, None)
            else:
                for target in targets:
                    self._replace(target, deleted=True)
            return [v.version for v in targets]

    def _refuse_referenced(self, targets: list[Version], permanent: bool) -> None:
        for target in targets:
            users = [v for versions in self._subjects.values() for v in versions if (permanent or not v.deleted)
                     and v not in targets and any(r.subject == target.subject and r.version == target.version
                                                  for r in v.references)]
            if users:
                raise RegistryError(422, 42206, f"One or more references exist to the schema "
                                                f"{{subject={target.subject},version={target.version}}}: "
                                                f"{users[0].subject} version {users[0].version}")

    def _refuse_committed(self, targets: list[Version]) -> None:
        if self.persist_root is None:
            return
        for target in targets:
            if target.file is not None and target.file.exists():
                raise RegistryError(422, 42205, f"Subject '{target.subject}' version {target.version} is the "
                                                f"committed schema file {target.file}: a registry serving with "
                                                "--persist does not delete committed schemas (remove the file in "
                                                "a pull request, or serve without --persist)")

    def _replace(self, target: Version, **changes: Any) -> Version:
        versions = self._subjects[target.subject]
        updated = dataclasses.replace(target, **changes)
        versions[versions.index(target)] = updated
        if self._by_id.get(target.id) is target:
            self._by_id[target.id] = updated
        return updated

    def _persist(self, registered: Version) -> Path | None:
        """--persist: a new version of a repository subject becomes schemas/<domain>/v<N+1>/<event>.<ext>."""
        subject = self.repo_subjects.get(registered.subject)
        if (self.persist_root is None or subject is None or registered.schema_type != subject.serialization
                or registered.references):
            return None
        version = subject.versions[-1] + 1
        path = subject.root / subject.domain / f"v{version}" / f"{subject.event}{SUFFIXES[subject.serialization]}"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(json.loads(registered.schema), indent=2) + "\n")
        subject.versions.append(version)
        return path


def _as_request(request: SchemaRequest | str, schema_type: str) -> SchemaRequest:
    return request if isinstance(request, SchemaRequest) else SchemaRequest(request, schema_type)


def _version_number(version: str) -> int:
    if not version.isdigit() or int(version) < 1 or len(version) > 10:
        raise RegistryError(422, 42202, f"The specified version '{version[:40]}' is not a valid version id. "
                                        "Allowed values are between [1, 2^31-1] and the string \"latest\"")
    return int(version)
