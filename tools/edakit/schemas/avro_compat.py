"""Avro reader/writer compatibility, the rules of Java's `SchemaCompatibility` (which Confluent calls).

Schemas are parsed by Apache's `avro` package. The traversal is ours because `avro.compatibility` (the Python port)
pools messages and locations into sets, loses the location inside unions and compares aliases unqualified; its
verdict is the oracle our tests compare against.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from avro.errors import AvroException
from avro.schema import Schema, parse

from edakit.schemas.errors import SchemaError

PROMOTIONS = {"long": {"int"}, "float": {"int", "long"}, "double": {"int", "long", "float"},
              "bytes": {"string"}, "string": {"bytes"}}
NAMED = {"record", "error", "enum", "fixed"}


@dataclass(frozen=True)
class Incompatibility:
    error_type: str  # Confluent's errorType, e.g. READER_FIELD_MISSING_DEFAULT_VALUE
    location: str  # JSON-pointer-like path in the reader schema, e.g. /fields/4/type/items/fields/1/type
    field: str  # dotted field names along the location ('' at the top level)
    info: str


def parse_avro(schema: Any, source: str = "<schema>") -> Schema:
    """Parse an Avro schema (parsed JSON), qualifying aliases the way Java's parser does."""
    _check_shape(schema, source)
    try:
        return parse(json.dumps(_qualify_aliases(schema, None)))
    except (AvroException, TypeError, ValueError, KeyError, AttributeError, RecursionError) as exc:
        raise SchemaError(source, f"not a valid Avro schema: {exc}") from exc


# what the Avro specification requires of each complex type (Apache's Python parser checks less than Java's)
_SHAPES: dict[str, dict[str, tuple[type, ...]]] = {
    "record": {"name": (str,), "fields": (list,)}, "error": {"name": (str,), "fields": (list,)},
    "enum": {"name": (str,), "symbols": (list,)}, "fixed": {"name": (str,), "size": (int,)},
    "array": {"items": (str, dict, list)}, "map": {"values": (str, dict, list)},
}


def _check_aliases(node: dict, where: str, source: str) -> None:
    aliases = node.get("aliases", [])
    if not isinstance(aliases, list) or not all(isinstance(alias, str) for alias in aliases):
        raise SchemaError(source, f"not a valid Avro schema: {where}.aliases: expected a list of names")


def _check_shape(schema: Any, source: str) -> None:
    """The keys each complex type needs, with the JSON types the specification gives them (iteratively)."""
    stack = [(schema, "$")]
    while stack:
        node, where = stack.pop()
        if isinstance(node, list):
            stack.extend((branch, f"{where}[{i}]") for i, branch in enumerate(node))
            continue
        if not isinstance(node, dict):
            continue
        kind = node.get("type")
        if isinstance(kind, (dict, list)):
            stack.append((kind, f"{where}.type"))
            continue
        for key, types in _SHAPES.get(kind, {}).items() if isinstance(kind, str) else ():
            value = node.get(key)
            if not isinstance(value, types) or isinstance(value, bool):
                raise SchemaError(source, f"not a valid Avro schema: {where}.{key} of a {kind}: expected "
                                          f"{' or '.join(t.__name__ for t in types)}, found {value!r:.60}")
        if kind in NAMED:
            _check_aliases(node, where, source)
        if kind == "enum" and not all(isinstance(symbol, str) for symbol in node["symbols"]):
            raise SchemaError(source, f"not a valid Avro schema: {where}.symbols: expected strings")
        if kind == "fixed" and node["size"] < 0:
            raise SchemaError(source, f"not a valid Avro schema: {where}.size: expected a size >= 0")
        if kind in ("record", "error"):
            for i, field in enumerate(node["fields"]):
                if not isinstance(field, dict) or not isinstance(field.get("name"), str) or "type" not in field:
                    raise SchemaError(source, f"not a valid Avro schema: {where}.fields[{i}]: expected an object "
                                              "with a string 'name' and a 'type'")
                _check_aliases(field, f"{where}.fields[{i}]", source)
                stack.append((field["type"], f"{where}.fields[{i}].type"))
        for key in ("items", "values"):
            if kind in ("array", "map") and key in node:
                stack.append((node[key], f"{where}.{key}"))


def _qualify_aliases(schema: Any, namespace: str | None) -> Any:
    """Aliases of named types are relative to the type's namespace (Avro spec)."""
    if isinstance(schema, list):
        return [_qualify_aliases(branch, namespace) for branch in schema]
    if not isinstance(schema, dict):
        return schema
    out = dict(schema)
    kind = schema.get("type")
    if kind in NAMED:
        name = str(schema.get("name", ""))
        ns = name.rpartition(".")[0] if "." in name else schema.get("namespace", namespace)
        if isinstance(schema.get("aliases"), list):
            out["aliases"] = [a if "." in a or not ns else f"{ns}.{a}" for a in schema["aliases"]]
        if kind in ("record", "error") and isinstance(schema.get("fields"), list):
            out["fields"] = [{**f, "type": _qualify_aliases(f.get("type"), ns)} if isinstance(f, dict) else f
                             for f in schema["fields"]]
        return out
    for key in ("items", "values"):
        if key in schema:
            out[key] = _qualify_aliases(schema[key], namespace)
    if isinstance(kind, (dict, list)):
        out["type"] = _qualify_aliases(kind, namespace)
    return out


class _Checker:
    """Can `reader` read everything `writer` writes? Collects every incompatibility with its location."""

    def __init__(self) -> None:
        self._memo: dict[tuple[int, int], list[Incompatibility]] = {}
        self._in_progress: set[tuple[int, int]] = set()

    def check(self, reader: Schema, writer: Schema, location: str = "", field: str = "") -> list[Incompatibility]:
        key = (id(reader), id(writer))
        if key in self._in_progress:  # recursive type: assume compatible, as Java does
            return []
        if key in self._memo:
            return self._memo[key]
        self._in_progress.add(key)
        try:
            found = self._calculate(reader, writer, location, field)
        finally:
            self._in_progress.discard(key)
        self._memo[key] = found
        return found

    def _calculate(self, reader: Schema, writer: Schema, loc: str, field: str) -> list[Incompatibility]:
        r, w = reader.type, writer.type
        if r == w:
            if r == "array":
                return self.check(reader.items, writer.items, f"{loc}/items", field)
            if r == "map":
                return self.check(reader.values, writer.values, f"{loc}/values", field)
            if r in NAMED:
                found = _names(reader, writer, loc, field)
                if r == "fixed" and reader.size != writer.size:
                    found.append(Incompatibility("FIXED_SIZE_MISMATCH", f"{loc}/size", field,
                                                 f"expected: {writer.size}, found: {reader.size}"))
                if r == "enum":
                    found += _enum_symbols(reader, writer, loc, field)
                if r in ("record", "error"):
                    found += self._fields(reader, writer, loc, field)
                return found
            if r == "union":
                found = []
                for i, branch in enumerate(writer.schemas):
                    if self.check(reader, branch, loc, field):
                        found.append(Incompatibility("MISSING_UNION_BRANCH", f"{loc}/{i}", field,
                                                     f"reader union lacking writer type: {branch.type.upper()}"))
                        found += self._why_not_same_named(reader, branch, f"{loc}/{i}", field)
                return found
            return []
        if w == "union":  # the reader must read every branch the writer may have written
            return [i for branch in writer.schemas for i in self.check(reader, branch, loc, field)]
        if w in PROMOTIONS.get(r, ()):
            return []
        if r == "union":
            if any(not self.check(branch, writer, loc, field) for branch in reader.schemas):
                return []
            return [Incompatibility("MISSING_UNION_BRANCH", loc or "/", field,
                                    f"reader union lacking writer type: {w.upper()}")]
        return [Incompatibility("TYPE_MISMATCH", loc or "/", field,
                                f"reader type: {r.upper()} not compatible with writer type: {w.upper()}")]

    def _why_not_same_named(self, reader_union: Schema, branch: Schema, loc: str, field: str) -> list[Incompatibility]:
        """Java reports only the missing branch; when the reader has a same-named branch, say what differs in it."""
        name = getattr(branch, "fullname", None)
        twin = next((b for b in reader_union.schemas if name and getattr(b, "fullname", None) == name), None)
        return self.check(twin, branch, loc, field) if twin is not None else []

    def _fields(self, reader: Schema, writer: Schema, loc: str, field: str) -> list[Incompatibility]:
        found: list[Incompatibility] = []
        writer_fields = writer.fields_dict
        for i, reader_field in enumerate(reader.fields):
            name = f"{field}.{reader_field.name}" if field else reader_field.name
            here = f"{loc}/fields/{i}"
            writer_field = writer_fields.get(reader_field.name) or next(
                (writer_fields[a] for a in reader_field.props.get("aliases") or () if a in writer_fields), None)
            if writer_field is not None:
                found += self.check(reader_field.type, writer_field.type, f"{here}/type", name)
            elif reader_field.has_default:
                continue
            elif reader_field.type.type == "enum" and reader_field.type.props.get("default"):
                # Java's quirk, kept for the same verdict: an enum with a default is checked against the writer record
                found += self.check(reader_field.type, writer, f"{here}/type", name)
            else:
                found.append(Incompatibility("READER_FIELD_MISSING_DEFAULT_VALUE", here, name, reader_field.name))
        return found


def _names(reader: Schema, writer: Schema, loc: str, field: str) -> list[Incompatibility]:
    aliases = reader.props.get("aliases") or ()
    if reader.name == writer.name or writer.fullname in aliases:
        return []
    return [Incompatibility("NAME_MISMATCH", f"{loc}/name", field, f"expected: {writer.fullname}")]


def _enum_symbols(reader: Schema, writer: Schema, loc: str, field: str) -> list[Incompatibility]:
    missing = sorted(set(writer.symbols) - set(reader.symbols))
    default = reader.props.get("default")
    if not missing or (default and default in reader.symbols):
        return []
    return [Incompatibility("MISSING_ENUM_SYMBOLS", f"{loc}/symbols", field, ", ".join(missing))]


def incompatibilities(reader: Schema, writer: Schema) -> list[Incompatibility]:
    """Every way `reader` fails to read data written with `writer` (empty when it can)."""
    try:
        return _Checker().check(reader, writer)
    except RecursionError as exc:  # depth is bounded on reading; this is the last line of defence
        raise SchemaError("<schema>", "the schemas are too deeply nested to compare") from exc


def describe(found: Incompatibility, reader_role: str, writer_role: str) -> str:
    """Confluent's message shape, plus the field name so people see what changed."""
    where = f"path '{found.location}'" + (f", field '{found.field}'" if found.field else "")
    text = {
        "NAME_MISMATCH": f"The name of the schema has changed ({where})",
        "FIXED_SIZE_MISMATCH": f"The size of FIXED type field at {where} in the {reader_role} schema does not "
                               f"match with the {writer_role} schema",
        "MISSING_ENUM_SYMBOLS": f"The {reader_role} schema is missing enum symbols '{found.info}' at {where} in "
                                f"the {writer_role} schema",
        "READER_FIELD_MISSING_DEFAULT_VALUE": f"The field '{found.info}' at {where} in the {reader_role} schema "
                                              f"has no default value and is missing in the {writer_role} schema",
        "TYPE_MISMATCH": f"The type ({where}) of a field in the {reader_role} schema does not match with the "
                         f"{writer_role} schema",
        "MISSING_UNION_BRANCH": f"The {reader_role} schema is missing a type inside a union field at {where} in "
                                f"the {writer_role} schema",
    }[found.error_type]
    return f"{{errorType:'{found.error_type}', description:'{text}', additionalInfo:'{found.info}'}}"
