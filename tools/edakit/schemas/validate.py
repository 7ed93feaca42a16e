"""Payload validation against an event schema: Avro through fastavro, JSON Schema (Draft 2020-12 and Draft 7,
formats checked) through a compiled jsonschema-rs validator, with jsonschema explaining failures by JSON path.
Validators are compiled once per schema file and cached.

A JSON Schema's `$ref`s resolve inside the document and from the repository's `schemas/` tree only, never over the
network or from other files (`refs.py`). Every document the kit reads is bounded in size and nesting depth, so a
hostile file is a located error, never a RecursionError or an exhausted memory.
"""

from __future__ import annotations

import functools
import json
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import fastavro
import jsonschema
import orjson

from edakit.schemas import avro_compat, refs
from edakit.redact import clip
from edakit.schemas.errors import SchemaError
from edakit.schemas.refs import NO_LOCAL_SCHEMAS, LocalSchemas

AVRO_SUFFIX = ".avsc"
JSON_SUFFIX = ".schema.json"

# A schema is a small document: ours are a few KiB and at most 7 levels deep. 1 MiB is far above any real one; 64 levels
# keeps every parser (fastavro, avro, jsonschema, the compatibility walkers) far from Python's recursion limit.
SCHEMA_MAX_BYTES = 1024 * 1024
SCHEMA_MAX_DEPTH = 64
# A payload is at most one broker message: 10 MiB is the largest any supported broker carries (Pub/Sub).
PAYLOAD_MAX_BYTES = 10 * 1024 * 1024
PAYLOAD_MAX_DEPTH = 256


def schema_type_of(path: Path) -> str:
    if path.name.endswith(AVRO_SUFFIX):
        return "AVRO"
    if path.name.endswith(JSON_SUFFIX) or path.suffix == ".json":
        return "JSON"
    raise SchemaError(str(path), f"unknown schema kind: expected a *{AVRO_SUFFIX} or *{JSON_SUFFIX} file")


def check_depth(value: Any, max_depth: int, source: str) -> None:
    """Refuse a document nested deeper than `max_depth` arrays/objects (iteratively: never a RecursionError)."""
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            children: Iterable[Any] = node.values()
        elif isinstance(node, (list, tuple)):
            children = node
        else:
            continue
        if depth > max_depth:
            raise SchemaError(source, f"nested deeper than {max_depth} levels of arrays and objects")
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list, tuple)))


def parse_json(data: bytes | bytearray | memoryview | str, source: str, *, max_bytes: int = PAYLOAD_MAX_BYTES,
               max_depth: int = PAYLOAD_MAX_DEPTH) -> Any:
    """JSON text to a document, within the size and depth bounds; SchemaError naming `source` otherwise.

    Nesting needs two bytes of brackets per level and is at most the number of opening brackets in the text
    (brackets inside strings only add to it), so a text of at most 2 * max_depth + 1 bytes, or whose count of
    opening brackets (taken in C) is within `max_depth`, is not walked: for nearly every payload the bounds then
    cost a fraction of the parse (`make bench`: json_validation_ratio)."""
    size = len(data) if type(data) is bytes else len(data.encode() if isinstance(data, str) else data)
    if size > max_bytes:
        raise SchemaError(source, f"{size} bytes: larger than the {max_bytes}-byte limit")
    try:
        document = _loads(data)
    except orjson.JSONDecodeError as exc:  # orjson itself stops at 1024 levels
        raise SchemaError(source, f"not valid JSON: {exc}") from exc
    if size > max_depth + max_depth + 1 and _may_nest_deeper(data, max_depth):
        check_depth(document, max_depth, source)
    return document


def _may_nest_deeper(data: bytes | bytearray | memoryview | str, max_depth: int) -> bool:
    if type(data) is bytes:
        return data.count(b"[") + data.count(b"{") > max_depth
    if type(data) is str:
        return data.count("[") + data.count("{") > max_depth
    return True  # bytearray, memoryview and subclasses: walked


_loads = orjson.loads


def read_json(path: Path, *, max_bytes: int = PAYLOAD_MAX_BYTES, max_depth: int = PAYLOAD_MAX_DEPTH) -> Any:
    """A JSON file, read no further than `max_bytes` (a FIFO or /dev/zero cannot exhaust memory)."""
    try:
        with path.open("rb") as handle:
            data = handle.read(max_bytes + 1)
    except FileNotFoundError as exc:
        raise SchemaError(str(path), "file not found") from exc
    except IsADirectoryError as exc:
        raise SchemaError(str(path), "is a directory, expected a JSON file") from exc
    except OSError as exc:
        raise SchemaError(str(path), f"cannot be read: {exc.strerror or exc}") from exc
    if len(data) > max_bytes:
        raise SchemaError(str(path), f"larger than the {max_bytes}-byte limit")
    return parse_json(data, str(path), max_bytes=max_bytes, max_depth=max_depth)


def read_schema_json(path: Path) -> Any:
    """A schema file, within the schema bounds."""
    return read_json(path, max_bytes=SCHEMA_MAX_BYTES, max_depth=SCHEMA_MAX_DEPTH)


def parse_schema_text(text: str | bytes, source: str) -> Any:
    """Schema text (a registry request's `schema` string) to a document, within the schema bounds."""
    return parse_json(text, source, max_bytes=SCHEMA_MAX_BYTES, max_depth=SCHEMA_MAX_DEPTH)


@dataclass
class PayloadReport:
    """Validation outcome of one payload; `line` is set in NDJSON batch mode."""

    source: str
    errors: list[str] = field(default_factory=list)
    line: int | None = None

    @property
    def valid(self) -> bool:
        return not self.errors

    def __str__(self) -> str:
        where = f"{self.source}:{self.line}" if self.line is not None else self.source
        if self.valid:
            return f"{where}: valid"
        return "\n".join(f"{where}: {error}" for error in self.errors)


class PayloadValidator:
    """A compiled validator for one schema: `is_valid` is the fast path, `errors` explains a failure."""

    is_valid: Callable[[Any], bool]
    """True when the payload matches: the compiled validator's own function, no Python frame in between (it runs
    once per payload; binding it directly moved the ratio to orjson parsing alone, now
    json_validation_vs_parse_ratio, from 0.53-0.57 to 0.58-0.60)."""

    dependencies: dict[Path, int]
    """The files of the schemas/ tree this schema's refs reach, with their mtimes (a cache key)."""

    def __init__(self, schema_type: str, schema: Any, source: str = "<schema>",
                 local: LocalSchemas | Callable[[], LocalSchemas] = NO_LOCAL_SCHEMAS) -> None:
        """`local`: the schemas/ tree refs may point into (or a function building it when a ref needs it)."""
        self.schema_type, self.schema, self.source = schema_type, schema, source
        self.dependencies = {}
        check_depth(schema, SCHEMA_MAX_DEPTH, source)
        if schema_type == "AVRO":
            # Apache's parser first: it follows the specification as Java's (Confluent's) does, where fastavro lets
            # some invalid schemas through (a union directly inside a union)
            avro_compat.parse_avro(schema, source)
            try:
                self._avro = fastavro.parse_schema(schema)
            except Exception as exc:  # fastavro raises several exception types for bad schemas
                raise SchemaError(source, f"not a valid Avro schema: {exc}") from exc
            self.is_valid = functools.partial(fastavro.validate, schema=self._avro, raise_errors=False)
        else:
            # refs are checked before anything is compiled: nothing outside the document and schemas/ resolves
            resolution = refs.check_references(schema, source, local)
            # the draft named by $schema (Draft 7, 2020-12, ...); 2020-12 when none is named
            draft = refs.draft_for(schema, source)
            try:
                draft.check_schema(schema)
            except jsonschema.SchemaError as exc:
                raise SchemaError(source, f"not a valid JSON Schema at {exc.json_path}: {exc.message}") from exc
            self._explainer = refs.explainer(draft, schema, resolution)
            try:
                self._compiled = refs.compiled(schema, resolution)
            except ValueError as exc:  # jsonschema-rs: an unresolvable pointer, a regex it cannot compile, ...
                raise SchemaError(source, f"not a valid JSON Schema: {str(exc).splitlines()[0]}") from exc
            self.dependencies = {path: _mtime(path) for path in resolution.files.values()}
            self.is_valid = self._compiled.is_valid

    def errors(self, payload: Any) -> list[str]:
        """Every problem with its JSON path (empty when valid)."""
        if self.is_valid(payload):
            return []
        try:
            return self._explain(payload)
        except RecursionError:  # a recursive schema and a deep payload: the verdict stands, the explanation is short
            return ["does not match the schema (nested too deeply to say where)"]

    def _explain(self, payload: Any) -> list[str]:
        if self.schema_type == "AVRO":
            return _avro_errors(self._avro, payload, "$", {}) or ["does not match the Avro schema"]
        found = sorted(self._explainer.iter_errors(payload), key=lambda e: list(e.absolute_path))
        # the compiled validator and jsonschema can disagree on exotic formats; report the compiled verdict
        # clip: a message quotes the offending value whole (jsonschema's repr), however large the payload
        return [clip(f"{e.json_path}: {e.message}") for e in found] or [
            clip(f"{_json_path(err.instance_path)}: {err.message}") for err in self._compiled.iter_errors(payload)]


def _avro_errors(schema: Any, datum: Any, path: str, named: dict[str, Any]) -> list[str]:
    """Explain an Avro validation failure by JSON path; leaves are judged by fastavro itself so verdicts agree."""
    if isinstance(schema, str) and schema in named:
        schema = named[schema]
    if isinstance(schema, list):
        if any(not _avro_errors(branch, datum, path, named) for branch in schema):
            return []
        names = [b if isinstance(b, str) else b.get("name", b.get("type")) if isinstance(b, dict) else "union"
                 for b in schema]
        return [f"{path}: {_show(datum)} matches no branch of the union {names}"]
    kind = schema.get("type") if isinstance(schema, dict) else schema
    if isinstance(schema, dict) and "name" in schema:
        named[schema["name"]] = schema
    if kind == "record":
        if not isinstance(datum, dict):
            return [f"{path}: expected an object (record {schema['name']}), found {_show(datum)}"]
        errors: list[str] = []
        for f in schema["fields"]:
            if f["name"] not in datum and "default" not in f:
                errors.append(f"{path}: required field '{f['name']}' is missing")
            elif f["name"] in datum:
                errors += _avro_errors(f["type"], datum[f["name"]], f"{path}.{f['name']}", named)
        return errors
    if kind == "array":
        if not isinstance(datum, (list, tuple)):
            return [f"{path}: expected an array, found {_show(datum)}"]
        return [e for i, item in enumerate(datum) for e in _avro_errors(schema["items"], item, f"{path}[{i}]", named)]
    if kind == "map":
        if not isinstance(datum, dict):
            return [f"{path}: expected an object (map), found {_show(datum)}"]
        return [e for k, v in datum.items() for e in _avro_errors(schema["values"], v, f"{path}[{k!r}]", named)]
    if fastavro.validate(datum, schema, raise_errors=False):
        return []
    expected = schema if isinstance(schema, str) else {k: v for k, v in schema.items() if k != "doc"}
    # json, not orjson: an Avro schema may hold integers past 64 bits
    return [f"{path}: {_show(datum)} is not a valid {json.dumps(expected, separators=(',', ':'))}"]


def _json_path(parts: list[str | int]) -> str:
    return "$" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in parts)


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _mtime(path: Path) -> int:
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return -1


_CACHE_SIZE = 256
_cache: OrderedDict[tuple[int, int, str], tuple[int, PayloadValidator]] = OrderedDict()
_cache_lock = threading.Lock()


def validator_for(path: Path) -> PayloadValidator:
    """The cached compiled validator of a schema file (recompiled when the file, or a schemas/ file its refs reach,
    changes). Its refs may point into the `schemas/` directory the file sits in."""
    try:
        stat = path.stat()
    except FileNotFoundError as exc:
        raise SchemaError(str(path), "schema file not found") from exc
    # The file's identity and the path as given, not path.resolve(): resolving costs a syscall per path component,
    # most of a consumer's per-message validation (`make bench`: json_consumer_decode_ratio 0.05 -> 0.24).
    key, mtime = (stat.st_dev, stat.st_ino, str(path)), stat.st_mtime_ns
    with _cache_lock:
        hit = _cache.get(key)
    if hit is not None and hit[0] == mtime and all(_mtime(p) == m for p, m in hit[1].dependencies.items()):
        with _cache_lock:
            if key in _cache:
                _cache.move_to_end(key)
        return hit[1]
    validator = PayloadValidator(schema_type_of(path), read_schema_json(path), str(path),
                                 functools.partial(LocalSchemas.for_file, path.resolve()))
    with _cache_lock:
        _cache[key] = (mtime, validator)
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return validator


def validate_payload(schema_path: Path, payload_path: Path) -> PayloadReport:
    """Validate one JSON payload file against a schema file."""
    payload = read_json(payload_path)
    return PayloadReport(str(payload_path), validator_for(schema_path).errors(payload))


def validate_ndjson(schema_path: Path, lines: Iterable[bytes], source: str) -> Iterator[PayloadReport]:
    """Validate an NDJSON stream, one report per non-blank line (a line that is not JSON, is longer than
    PAYLOAD_MAX_BYTES or nested deeper than PAYLOAD_MAX_DEPTH is an error). A stream is read a bounded line at a
    time: `--ndjson /dev/zero` costs PAYLOAD_MAX_BYTES of memory, not all of it."""
    validator = validator_for(schema_path)
    for number, line in enumerate(_bounded_lines(lines), start=1):
        if line is None:
            yield PayloadReport(source, [f"line longer than the {PAYLOAD_MAX_BYTES}-byte limit; the rest of the "
                                         "stream is not read"], number)
            return
        if not line.strip():
            continue
        try:
            payload = parse_json(line, source)
        except SchemaError as exc:
            yield PayloadReport(source, [exc.message], number)
            continue
        yield PayloadReport(source, validator.errors(payload), number)


def _bounded_lines(lines: Iterable[bytes]) -> Iterator[bytes | None]:
    """Each line of `lines`, then None for the first one longer than PAYLOAD_MAX_BYTES (an endless line, as
    /dev/zero has, would otherwise be read for ever)."""
    readline = getattr(lines, "readline", None)
    if readline is None:
        for line in lines:
            yield line if len(line) <= PAYLOAD_MAX_BYTES + 1 else None
        return
    while line := readline(PAYLOAD_MAX_BYTES + 1):
        if len(line) <= PAYLOAD_MAX_BYTES or line.endswith(b"\n"):
            yield line
            continue
        yield None
        return


@functools.lru_cache(maxsize=256)
def _validator_of_document(schema_type: str, canonical_schema: bytes, schemas_root: Path | None) -> PayloadValidator:
    local = functools.partial(LocalSchemas.of_tree, schemas_root) if schemas_root is not None else NO_LOCAL_SCHEMAS
    return PayloadValidator(schema_type, orjson.loads(canonical_schema), f"<in-memory {schema_type} schema>", local)


def validate_document(schema: Path | dict[str, Any], payload: Any, *, schema_type: str | None = None,
                      schemas_root: Path | None = None) -> list[str]:
    """Every problem of an in-memory payload with its JSON path (empty when valid), through the cached validator.

    `schema` is a schema file (its kind from the suffix unless `schema_type` says) or a parsed schema, which then
    needs `schema_type` ("AVRO" or "JSON"). `payload` is the parsed document, or JSON text as `bytes` (a message
    payload as published); bytes that are not JSON give one error. A schema file's `$ref`s may point into the
    `schemas/` directory it sits in; a parsed schema's only into `schemas_root` when given (else only inside it).
    """
    if schema_type is not None and schema_type not in ("AVRO", "JSON"):
        raise SchemaError("<schema_type>", f"expected 'AVRO' or 'JSON', got {schema_type!r}")
    if isinstance(schema, Path):
        validator = validator_for(schema)
        if schema_type is not None and schema_type != validator.schema_type:
            raise SchemaError(str(schema), f"schema_type {schema_type!r} given, but the file is {validator.schema_type}")
    elif schema_type is None:
        raise SchemaError("<in-memory schema>", "schema_type is required for a parsed schema: 'AVRO' or 'JSON' "
                          "(pass a pathlib.Path for a schema file)")
    else:
        check_depth(schema, SCHEMA_MAX_DEPTH, "<in-memory schema>")
        # keys sorted so equal schemas share one compiled validator
        try:
            canonical = orjson.dumps(schema, option=orjson.OPT_SORT_KEYS)
        except orjson.JSONEncodeError as exc:  # an integer past 64 bits, a non-JSON value
            raise SchemaError("<in-memory schema>", f"not a JSON document: {exc}") from exc
        validator = _validator_of_document(schema_type, canonical,
                                           schemas_root.resolve() if schemas_root is not None else None)
    if isinstance(payload, (bytes, bytearray, memoryview)):
        try:
            payload = orjson.loads(payload)
        except orjson.JSONDecodeError as exc:
            return [f"not valid JSON: {exc}"]
    return validator.errors(payload)
