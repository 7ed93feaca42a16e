"""Which `$ref`s a JSON Schema may follow, decided before anything is compiled, and validator back ends that cannot
retrieve anything.

A schema may point inside itself (`#/...`, or the `$id` of itself or of a resource embedded in it) and at schemas of
the repository's own `schemas/` tree, named by their `https://` `$id` (a relative ref such as `address.schema.json`
becomes such a URL against the schema's `$id`). That tree is indexed beforehand (`LocalSchemas`): `$id` -> file.
Any other URI (`http://...`, `file:///...`, an unknown `https://` id, an unknown `$schema` meta-schema) is a
`SchemaError` naming the ref and the file. Both back ends get a retriever that refuses, so even a ref this check
missed resolves from the index or not at all: a schema in a pull request never makes CI fetch a URL or read a file.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urldefrag, urljoin

import jsonschema
import jsonschema_rs
import referencing
import referencing.exceptions
import referencing.jsonschema

from edakit.schemas.errors import SchemaError

REF_KEYWORDS = ("$ref", "$dynamicRef", "$recursiveRef")
# keywords whose values are data, not schemas: a "$ref" key inside them is a value, never followed
DATA_KEYWORDS = frozenset({"enum", "const", "default", "examples"})
# keywords whose values map names to schemas: their keys are property names, not keywords
SCHEMA_MAPS = frozenset({"properties", "patternProperties", "$defs", "definitions", "dependentSchemas",
                         "dependencies"})
# the meta-schemas both back ends ship; any other $schema would be retrieved
KNOWN_META_SCHEMAS = frozenset(
    (cls.META_SCHEMA.get("$id") or cls.META_SCHEMA["id"]).rstrip("#")
    for cls in (jsonschema.Draft4Validator, jsonschema.Draft6Validator, jsonschema.Draft7Validator,
                jsonschema.Draft201909Validator, jsonschema.Draft202012Validator))


def draft_for(schema: Any, source: str) -> type[jsonschema.protocols.Validator]:
    """The jsonschema validator class of the draft `$schema` names (2020-12 when none); an unknown or non-string
    `$schema` is a SchemaError (it would otherwise be retrieved, or crash the lookup)."""
    meta = schema.get("$schema") if isinstance(schema, dict) else None
    if meta is not None and (not isinstance(meta, str) or meta.rstrip("#") not in KNOWN_META_SCHEMAS):
        raise SchemaError(source, f"$schema {meta!r} at $.$schema: expected one of the JSON Schema drafts "
                                  f"({', '.join(sorted(KNOWN_META_SCHEMAS))}); no other meta-schema is ever retrieved")
    return jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)


class RetrievalRefused(Exception):
    """Raised by the back ends' retrievers: nothing outside the document and the index is ever fetched."""


@dataclass(frozen=True)
class LocalSchemas:
    """The repository's `schemas/` tree by `$id` (https only), built before any schema that points into it is
    compiled. `files` names each document's file (a cached validator watches those files for changes)."""

    root: Path | None = None
    by_id: dict[str, Any] = field(default_factory=dict)  # $id (no fragment) -> parsed schema
    files: dict[str, Path] = field(default_factory=dict)  # $id -> its file
    ambiguous: dict[str, list[Path]] = field(default_factory=dict)  # $id claimed by several files

    @classmethod
    def of_tree(cls, root: Path) -> LocalSchemas:
        from edakit.schemas.validate import JSON_SUFFIX, read_schema_json

        by_id: dict[str, Any] = {}
        files: dict[str, Path] = {}
        claims: dict[str, list[Path]] = {}
        real_root = root.resolve()
        for path in sorted(root.rglob(f"*{JSON_SUFFIX}")):
            # only regular files inside the tree: a symlink to /dev/zero or /etc is not a schema of the repository
            if not path.is_file() or not path.resolve().is_relative_to(real_root):
                continue
            try:
                schema = read_schema_json(path)
            except SchemaError:
                continue  # a broken file is reported by its own check; it just cannot be referenced
            schema_id = schema.get("$id") if isinstance(schema, dict) else None
            if not isinstance(schema_id, str) or not schema_id.startswith("https://"):
                continue
            uri = urldefrag(schema_id).url
            claims.setdefault(uri, []).append(path)
            by_id[uri], files[uri] = schema, path
        ambiguous = {uri: paths for uri, paths in claims.items() if len(paths) > 1}
        return cls(root, by_id, files, ambiguous)

    @classmethod
    def for_file(cls, path: Path) -> LocalSchemas:
        """The index of the `schemas/` directory a schema file sits in (none: only refs inside the document)."""
        root = next((p for p in path.resolve().parents if p.name == "schemas"), None)
        return cls.of_tree(root) if root is not None else cls()


NO_LOCAL_SCHEMAS = LocalSchemas()


@dataclass(frozen=True)
class _Ref:
    ref: str  # as written
    target: str  # absolute URI, without fragment ('' for a ref that stays inside the document)
    where: str  # JSON path of the keyword in its document


def _walk(schema: Any, source: str) -> tuple[set[str], list[_Ref]]:
    """Every ref of one document (iteratively: depth is capped elsewhere, never a RecursionError here) and the URIs
    the document itself answers to (its `$id` and those of embedded resources)."""
    own: set[str] = set()
    refs: list[_Ref] = []
    meta = schema.get("$schema") if isinstance(schema, dict) else None
    # Draft 4 names a base URI with `id`
    id_keywords = ("$id", "id") if isinstance(meta, str) and "draft-04" in meta else ("$id",)
    # (node, base URI, JSON path, True when the node maps names to schemas)
    stack: list[tuple[Any, str, str, bool]] = [(schema, "", "$", False)]
    while stack:
        node, base, where, names = stack.pop()
        if isinstance(node, list):
            stack.extend((item, base, f"{where}[{i}]", False) for i, item in reversed(list(enumerate(node))))
            continue
        if not isinstance(node, dict):
            continue
        if names:
            stack.extend((value, base, f"{where}.{key}", False) for key, value in reversed(list(node.items())))
            continue
        for id_keyword in id_keywords:
            value = node.get(id_keyword)
            if isinstance(value, str) and not value.startswith("#"):
                base, resource = _join(base, value, f"{where}.{id_keyword}", source)
                own.add(resource)
                break
        meta = node.get("$schema")
        if meta is not None and (not isinstance(meta, str) or meta.rstrip("#") not in KNOWN_META_SCHEMAS):
            raise SchemaError(source, f"$schema {meta!r} at {where}.$schema: expected one of the JSON Schema "
                                      f"drafts ({', '.join(sorted(KNOWN_META_SCHEMAS))}); no other meta-schema "
                                      "is ever retrieved")
        for keyword in REF_KEYWORDS:
            ref = node.get(keyword)
            if isinstance(ref, str):
                target = "" if ref.startswith("#") else _join(base, ref, f"{where}.{keyword}", source)[1]
                refs.append(_Ref(ref, target, f"{where}.{keyword}"))
        for key, value in reversed(list(node.items())):
            if key not in DATA_KEYWORDS and isinstance(value, (dict, list)):
                stack.append((value, base, f"{where}.{key}", key in SCHEMA_MAPS and isinstance(value, dict)))
    return own, refs


def _join(base: str, reference: str, where: str, source: str) -> tuple[str, str]:
    """`reference` against `base`: the absolute URI, and that URI without its fragment."""
    try:
        joined = urljoin(base, reference)
        return joined, urldefrag(joined).url
    except ValueError as exc:  # e.g. '//[' (an unclosed IPv6 host)
        raise SchemaError(source, f"{where} '{reference}': not a URI reference ({exc})") from exc


@dataclass(frozen=True)
class Resolution:
    """What a schema may reach: the index documents it points at (transitively), by URI, with their files."""

    resources: dict[str, Any] = field(default_factory=dict)
    files: dict[str, Path] = field(default_factory=dict)


def check_references(schema: Any, source: str,
                     local: LocalSchemas | Callable[[], LocalSchemas] = NO_LOCAL_SCHEMAS) -> Resolution:
    """Every `$ref`/`$dynamicRef`/`$recursiveRef` and `$schema` of `schema`, and of the index documents it points
    at, must stay inside its document or name a schema of `local`; otherwise a SchemaError naming the ref and the
    file. Returns the index documents to hand to the back ends. `local` may be a function that builds the index:
    it is called only when a ref leaves the document."""
    resources: dict[str, Any] = {}
    files: dict[str, Path] = {}
    pending: list[tuple[Any, str]] = [(schema, source)]
    while pending:
        document, document_source = pending.pop()
        own, refs = _walk(document, document_source)
        for ref in refs:
            if not ref.target or ref.target in own or ref.target in resources:
                continue
            if not isinstance(local, LocalSchemas):
                local = local()
            if ref.target in local.ambiguous:
                claimed = ", ".join(map(str, local.ambiguous[ref.target]))
                raise SchemaError(document_source, f"{ref.where} '{ref.ref}': {ref.target} is the $id of several "
                                                   f"files ({claimed})")
            if ref.target not in local.by_id:
                tree = f"a schema under {local.root}" if local.root is not None else "a schemas/ tree (none here)"
                raise SchemaError(document_source, f"{ref.where} '{ref.ref}': {ref.target or ref.ref} is outside "
                                                   f"the document and not the https $id of {tree}; only those "
                                                   "resolve (nothing is fetched)")
            resources[ref.target], files[ref.target] = local.by_id[ref.target], local.files[ref.target]
            pending.append((local.by_id[ref.target], str(local.files[ref.target])))
    return Resolution(resources, files)


def _refuse_rs(uri: str) -> Any:
    raise RetrievalRefused(f"retrieving {uri} is refused: only the document and the schemas/ index resolve")


def _refuse_referencing(uri: str) -> referencing.Resource:
    raise referencing.exceptions.NoSuchResource(ref=uri)


def compiled(schema: Any, resolution: Resolution) -> jsonschema_rs.Validator:
    """The jsonschema-rs validator: formats checked, the index documents preloaded, every retrieval refused."""
    registry = jsonschema_rs.Registry(list(resolution.resources.items()), retriever=_refuse_rs)
    return jsonschema_rs.validator_for(schema, validate_formats=True, registry=registry, retriever=_refuse_rs)


def explainer(draft: type[jsonschema.protocols.Validator], schema: Any,
              resolution: Resolution) -> jsonschema.protocols.Validator:
    """The jsonschema validator (explains failures): the same index documents, a registry whose retrieve refuses."""
    default = referencing.jsonschema.specification_with(draft.META_SCHEMA.get("$schema") or
                                                        "https://json-schema.org/draft/2020-12/schema",
                                                        default=referencing.jsonschema.DRAFT202012)
    registry: referencing.Registry = referencing.Registry(retrieve=_refuse_referencing).with_resources(
        (uri, referencing.Resource.from_contents(contents, default_specification=default))
        for uri, contents in resolution.resources.items())
    return draft(schema, format_checker=draft.FORMAT_CHECKER, registry=registry)
