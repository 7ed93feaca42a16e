"""JSON Schema compatibility with Confluent Schema Registry's rules (its `SchemaDiff`): walk the old ("original")
and new ("update") schema together, record every difference with its JSON path, and call the change compatible
when every difference is in the policy's set of compatible changes. BACKWARD compares old -> new; FORWARD new -> old.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from edakit.schemas.errors import SchemaError

# Changes that keep data valid under the update (Confluent's COMPATIBLE_CHANGES_STRICT). UNEVALUATED_*_ADDED/EXTENDED
# are here by analogy with ADDITIONAL_*_ADDED/EXTENDED: they relax what the update accepts.
STRICT = frozenset("""
ID_CHANGED DESCRIPTION_CHANGED TITLE_CHANGED DEFAULT_CHANGED SCHEMA_REMOVED TYPE_EXTENDED
MAX_LENGTH_INCREASED MAX_LENGTH_REMOVED MIN_LENGTH_DECREASED MIN_LENGTH_REMOVED PATTERN_REMOVED
MAXIMUM_INCREASED MAXIMUM_REMOVED MINIMUM_DECREASED MINIMUM_REMOVED EXCLUSIVE_MAXIMUM_INCREASED
EXCLUSIVE_MAXIMUM_REMOVED EXCLUSIVE_MINIMUM_DECREASED EXCLUSIVE_MINIMUM_REMOVED MULTIPLE_OF_REDUCED MULTIPLE_OF_REMOVED
REQUIRED_ATTRIBUTE_WITH_DEFAULT_ADDED REQUIRED_ATTRIBUTE_REMOVED DEPENDENCY_ARRAY_NARROWED DEPENDENCY_ARRAY_REMOVED
DEPENDENCY_SCHEMA_REMOVED MAX_PROPERTIES_INCREASED MAX_PROPERTIES_REMOVED MIN_PROPERTIES_DECREASED
MIN_PROPERTIES_REMOVED ADDITIONAL_PROPERTIES_ADDED ADDITIONAL_PROPERTIES_EXTENDED
UNEVALUATED_PROPERTIES_ADDED UNEVALUATED_PROPERTIES_EXTENDED
PROPERTY_WITH_EMPTY_SCHEMA_ADDED_TO_OPEN_CONTENT_MODEL REQUIRED_PROPERTY_WITH_DEFAULT_ADDED_TO_UNOPEN_CONTENT_MODEL
OPTIONAL_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL PROPERTY_WITH_FALSE_REMOVED_FROM_CLOSED_CONTENT_MODEL
PROPERTY_REMOVED_FROM_OPEN_CONTENT_MODEL PROPERTY_ADDED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL
PROPERTY_REMOVED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL
MAX_ITEMS_INCREASED MAX_ITEMS_REMOVED MIN_ITEMS_DECREASED MIN_ITEMS_REMOVED UNIQUE_ITEMS_REMOVED
MAX_CONTAINS_INCREASED MAX_CONTAINS_REMOVED MIN_CONTAINS_DECREASED MIN_CONTAINS_REMOVED
ADDITIONAL_ITEMS_ADDED ADDITIONAL_ITEMS_EXTENDED UNEVALUATED_ITEMS_ADDED UNEVALUATED_ITEMS_EXTENDED
ITEM_WITH_EMPTY_SCHEMA_ADDED_TO_OPEN_CONTENT_MODEL ITEM_ADDED_TO_CLOSED_CONTENT_MODEL
ITEM_WITH_FALSE_REMOVED_FROM_CLOSED_CONTENT_MODEL ITEM_REMOVED_FROM_OPEN_CONTENT_MODEL
ITEM_ADDED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL ITEM_REMOVED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL
ENUM_ARRAY_EXTENDED COMBINED_TYPE_EXTENDED PRODUCT_TYPE_NARROWED SUM_TYPE_EXTENDED NOT_TYPE_NARROWED
""".split())
# LENIENT also lets content models be tightened or loosened (Confluent's COMPATIBLE_CHANGES_LENIENT).
LENIENT = STRICT | {
    "ADDITIONAL_PROPERTIES_NARROWED", "ADDITIONAL_PROPERTIES_REMOVED", "PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL",
    "PROPERTY_REMOVED_FROM_OPEN_CONTENT_MODEL", "PROPERTY_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL",
    "PROPERTY_REMOVED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL",
}
POLICIES = {"STRICT": STRICT, "LENIENT": LENIENT}

TYPE_KEYWORDS = {
    "string": ("minLength", "maxLength", "pattern"),
    "number": ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"),
    "object": ("properties", "required", "additionalProperties", "patternProperties", "minProperties",
               "maxProperties", "dependencies", "dependentRequired", "dependentSchemas", "unevaluatedProperties"),
    "array": ("items", "prefixItems", "additionalItems", "minItems", "maxItems", "uniqueItems", "contains",
              "minContains", "maxContains", "unevaluatedItems"),
}
COMBINERS = ("allOf", "anyOf", "oneOf")
# keywords beside a $ref that do not constrain data (so the $ref alone decides)
NOT_CONSTRAINTS = {"$ref", "$schema", "$id", "$anchor", "$comment", "$defs", "definitions", "title", "description",
                   "default", "examples", "deprecated", "readOnly", "writeOnly"}


@dataclass(frozen=True)
class Difference:
    type: str
    path: str  # JSON path into the schema, e.g. #/properties/items/items/properties/quantity


@dataclass
class _Document:
    """One schema document: the root (for $ref) and a cache of classified subschemas."""

    root: Any
    source: str
    keep: list[Any] = field(default_factory=list)  # synthetic subschemas stay alive so their ids stay unique
    kinds: dict[int, tuple[str, Any]] = field(default_factory=dict)  # one classification per subschema: the
    # synthetic parts it creates keep their identity, which the recursion guard relies on
    combined: dict[int, dict] = field(default_factory=dict)  # $ref beside keywords -> its allOf, made once

    def resolve(self, schema: Any) -> Any:
        seen = 0
        while isinstance(schema, dict) and isinstance(schema.get("$ref"), str):
            rest = {k: v for k, v in schema.items() if k not in NOT_CONSTRAINTS}
            target = self._pointer(schema["$ref"])
            seen += 1
            if seen > 50:
                raise SchemaError(self.source, f"$ref cycle at {schema['$ref']}")
            if rest:  # $ref beside other keywords (2019-09+): both apply
                # one synthetic per schema, so a ref back to an enclosing schema meets the recursion guard
                if id(schema) not in self.combined:
                    self.keep.append(schema)
                    self.combined[id(schema)] = self.synthetic({"allOf": [target, rest]})
                return self.combined[id(schema)]
            schema = target
        return schema

    def _pointer(self, ref: str) -> Any:
        if not ref.startswith("#"):
            raise SchemaError(self.source, f"$ref '{ref}': only references inside the document (#/...) are supported")
        node = self.root
        for raw in [p for p in ref[1:].split("/") if p]:
            part = raw.replace("~1", "/").replace("~0", "~")
            if isinstance(node, dict) and part in node:
                node = node[part]
            elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
                node = node[int(part)]
            else:
                raise SchemaError(self.source, f"$ref '{ref}' does not resolve")
        return node

    def synthetic(self, schema: dict) -> dict:
        self.keep.append(schema)
        return schema

    def kind(self, schema: Any) -> tuple[str, Any]:
        """Classify a subschema the way Confluent's schema model does: false, empty, one type, enum, const,
        combined (allOf/anyOf/oneOf, also for several types or several facets), or not."""
        if not isinstance(schema, dict):
            return self._classify(schema)
        if id(schema) not in self.kinds:
            self.keep.append(schema)
            self.kinds[id(schema)] = self._classify(schema)
        return self.kinds[id(schema)]

    def _classify(self, schema: Any) -> tuple[str, Any]:
        if schema is False:
            return "false", None
        if schema is True or schema is None:
            return "empty", None
        if not isinstance(schema, dict):
            raise SchemaError(self.source, f"a subschema must be an object or a boolean, found {schema!r}")
        facets: list[Any] = []
        types = schema.get("type")
        if isinstance(types, list) and len(types) == 1:
            types = types[0]
        if isinstance(types, list):
            facets.append({"anyOf": [self.synthetic(_typed(schema, t)) for t in types]})
        elif isinstance(types, str):
            facets.append(("typed", types))
        else:
            present = [t for t, kws in TYPE_KEYWORDS.items() if any(k in schema for k in kws)]
            if len(present) == 1:
                facets.append(("typed", present[0]))
            elif present:
                facets.append({"anyOf": [self.synthetic(_typed(schema, t)) for t in present]})
        if "enum" in schema:
            facets.append(("enum", None))
        if "const" in schema:
            facets.append(("const", None))
        facets += [{c: schema[c]} for c in COMBINERS if c in schema]
        if "not" in schema:
            facets.append(("not", None))
        if not facets:
            return "empty", None
        if len(facets) == 1:
            facet = facets[0]
            if isinstance(facet, tuple):
                name, _ = facet
                if name == "typed":
                    t = facet[1]
                    return ("number" if t == "integer" else t), None
                return name, None
            criterion, subs = next(iter(facet.items()))
            return "combined", (criterion, subs)
        # several facets in one schema behave as their conjunction
        parts = [self.synthetic(_facet_schema(schema, f)) for f in facets]
        return "combined", ("allOf", parts)


def _typed(schema: dict, type_name: str) -> dict:
    keep = TYPE_KEYWORDS.get("number" if type_name == "integer" else type_name, ())
    return {"type": type_name, **{k: v for k, v in schema.items() if k in keep}}


def _facet_schema(schema: dict, facet: Any) -> Any:
    if isinstance(facet, dict):
        return facet
    name, t = facet
    if name == "typed":
        return _typed(schema, t)
    return {name: schema[name]}


class _Context:
    def __init__(self, allowed: frozenset[str], shared: dict) -> None:
        self.allowed = allowed
        self.shared = shared  # in-progress pairs, across subcontexts
        self.path: list[str] = []
        self.diffs: list[Difference] = []

    def sub(self) -> _Context:
        ctx = _Context(self.allowed, self.shared)
        ctx.path = list(self.path)
        return ctx

    def add(self, diff_type: str, *attribute: str) -> None:
        self.diffs.append(Difference(diff_type, "#/" + "/".join([*self.path, *attribute])))

    def compatible(self) -> bool:
        return all(d.type in self.allowed for d in self.diffs)


class _Diff:
    def __init__(self, original: _Document, update: _Document) -> None:
        self.o, self.u = original, update

    def compare(self, ctx: _Context, original: Any, update: Any) -> None:
        if original is None and update is None:
            return
        if original is None:
            ctx.add("SCHEMA_ADDED")
            return
        if update is None:
            ctx.add("SCHEMA_REMOVED")
            return
        original, update = self.o.resolve(original), self.u.resolve(update)
        ko, infoo = self.o.kind(original)
        ku, infou = self.u.kind(update)
        if ko != "combined" and ku == "combined" and self._into_combined(ctx, original, infou, update_side=True):
            return
        if ko == "combined" and ku != "combined" and self._into_combined(ctx, update, infoo, update_side=False):
            return
        if ko != ku:
            if ko == "false" or ku == "empty":
                return
            ctx.add("TYPE_CHANGED")
            return
        key = (id(original), id(update))
        if key in ctx.shared:  # recursion: assume compatible, as Confluent does
            return
        ctx.shared[key] = True
        try:
            self._annotations(ctx, original, update)
            getattr(self, f"_{ko}", _no_keywords)(ctx, original, update, infoo, infou)
        finally:
            del ctx.shared[key]

    def _into_combined(self, ctx: _Context, other: Any, info: Any, update_side: bool) -> bool:
        criterion, subs = info
        subs = list(subs)
        candidates: list[tuple[Any, str | None]] = []
        if len(subs) == 1:
            candidates = [(subs[0], None)]
        elif update_side and criterion in ("anyOf", "oneOf"):
            candidates = [(s, "SUM_TYPE_EXTENDED") for s in subs]
        elif not update_side and criterion == "allOf":
            candidates = [(s, "PRODUCT_TYPE_NARROWED") for s in subs]
        for sub, extra in candidates:
            subctx = ctx.sub()
            if update_side:
                self.compare(subctx, other, sub)
            else:
                self.compare(subctx, sub, other)
            if subctx.compatible():
                ctx.diffs += subctx.diffs
                if extra:
                    ctx.add(extra)
                return True
        return False

    @staticmethod
    def _annotations(ctx: _Context, o: Any, u: Any) -> None:
        if not (isinstance(o, dict) and isinstance(u, dict)):
            return
        for key, diff_type in (("$id", "ID_CHANGED"), ("title", "TITLE_CHANGED"),
                               ("description", "DESCRIPTION_CHANGED"), ("default", "DEFAULT_CHANGED")):
            if o.get(key) != u.get(key):
                ctx.add(diff_type)

    # --- per kind -------------------------------------------------------------------------------------------
    def _string(self, ctx: _Context, o: dict, u: dict, *_: Any) -> None:
        _bound(ctx, o, u, "maxLength", "MAX_LENGTH")
        _bound(ctx, o, u, "minLength", "MIN_LENGTH")
        if o.get("pattern") != u.get("pattern"):
            ctx.add("PATTERN_ADDED" if "pattern" not in o else "PATTERN_REMOVED" if "pattern" not in u
                    else "PATTERN_CHANGED", "pattern")

    def _number(self, ctx: _Context, o: dict, u: dict, *_: Any) -> None:
        for keyword, name in (("maximum", "MAXIMUM"), ("minimum", "MINIMUM"),
                              ("exclusiveMaximum", "EXCLUSIVE_MAXIMUM"), ("exclusiveMinimum", "EXCLUSIVE_MINIMUM")):
            _bound(ctx, o, u, keyword, name)
        mo, mu = o.get("multipleOf"), u.get("multipleOf")
        if mo != mu:
            if mo is None:
                ctx.add("MULTIPLE_OF_ADDED", "multipleOf")
            elif mu is None:
                ctx.add("MULTIPLE_OF_REMOVED", "multipleOf")
            elif _is_multiple(mu, mo):
                ctx.add("MULTIPLE_OF_EXPANDED", "multipleOf")
            elif _is_multiple(mo, mu):
                ctx.add("MULTIPLE_OF_REDUCED", "multipleOf")
            else:
                ctx.add("MULTIPLE_OF_CHANGED", "multipleOf")
        int_o, int_u = _requires_integer(o), _requires_integer(u)
        if int_o != int_u:
            ctx.add("TYPE_EXTENDED" if int_o else "TYPE_NARROWED")

    def _enum(self, ctx: _Context, o: dict, u: dict, *_: Any) -> None:
        before, after = {_canonical(v) for v in o["enum"]}, {_canonical(v) for v in u["enum"]}
        if before != after:
            ctx.add("ENUM_ARRAY_EXTENDED" if after >= before else "ENUM_ARRAY_NARROWED" if before >= after
                    else "ENUM_ARRAY_CHANGED", "enum")

    def _const(self, ctx: _Context, o: dict, u: dict, *_: Any) -> None:
        if _canonical(o["const"]) != _canonical(u["const"]):
            ctx.add("ENUM_ARRAY_CHANGED", "const")

    def _not(self, ctx: _Context, o: dict, u: dict, *_: Any) -> None:
        ctx.path.append("not")
        subctx = ctx.sub()
        self.compare(subctx, u["not"], o["not"])  # reversed: a smaller excluded set accepts more
        ctx.add("NOT_TYPE_NARROWED" if subctx.compatible() else "NOT_TYPE_EXTENDED")
        ctx.path.pop()

    def _combined(self, ctx: _Context, _o: Any, _u: Any, info_o: Any, info_u: Any) -> None:
        (crit_o, subs_o), (crit_u, subs_u) = info_o, info_u
        if crit_o != crit_u:
            if crit_u == "anyOf" or (crit_u == "oneOf" and len(subs_o) == 1) or \
                    (crit_u == "allOf" and len(subs_o) == 1 and len(subs_u) == 1):
                ctx.add("COMBINED_TYPE_EXTENDED")
            else:
                ctx.add("COMBINED_TYPE_CHANGED")
                return
        subs_o = list({_canonical(s): s for s in subs_o}.values())
        subs_u = list({_canonical(s): s for s in subs_u}.values())
        if len(subs_o) != len(subs_u):
            grew = len(subs_o) < len(subs_u)
            prefix = "PRODUCT_TYPE" if crit_u == "allOf" else "SUM_TYPE"
            ctx.add(f"{prefix}_{'EXTENDED' if grew else 'NARROWED'}")
        edges: dict[int, dict[int, list[Difference]]] = {}
        for i, sub_o in enumerate(subs_o):
            ctx.path.append(f"{crit_o}/{i}")
            for j, sub_u in enumerate(subs_u):
                subctx = ctx.sub()
                self.compare(subctx, sub_o, sub_u)
                if subctx.compatible():
                    edges.setdefault(i, {})[j] = subctx.diffs
            ctx.path.pop()
        matching = _maximum_matching(edges)
        for i, j in sorted(matching.items()):
            ctx.diffs += edges[i][j]
        if len(matching) < min(len(subs_o), len(subs_u)):
            ctx.add("COMBINED_TYPE_SUBSCHEMAS_CHANGED")

    def _object(self, ctx: _Context, o: dict, u: dict, *_: Any) -> None:
        props_o, props_u = o.get("properties") or {}, u.get("properties") or {}
        req_o, req_u = set(o.get("required") or ()), set(u.get("required") or ())
        for name in props_o:
            if name in props_u and (name in req_o) != (name in req_u):
                if name in req_o:
                    ctx.add("REQUIRED_ATTRIBUTE_REMOVED", "required", name)
                else:
                    ctx.add("REQUIRED_ATTRIBUTE_WITH_DEFAULT_ADDED" if _has_default(props_u[name])
                            else "REQUIRED_ATTRIBUTE_ADDED", "required", name)
        ctx.path.append("properties")
        for name in sorted(set(props_o) | set(props_u)):
            ctx.path.append(name)
            if name not in props_u:
                self._property_removed(ctx, u, name, props_o[name])
            elif name not in props_o:
                self._property_added(ctx, o, name, props_u[name], name in req_u)
            else:
                self.compare(ctx, props_o[name], props_u[name])
            ctx.path.pop()
        ctx.path.pop()
        self._dependencies(ctx, o, u)
        ctx.path.append("additionalProperties")
        _open_closed(ctx, o.get("additionalProperties"), u.get("additionalProperties"), "ADDITIONAL_PROPERTIES",
                     self.compare)
        ctx.path.pop()
        if "unevaluatedProperties" in o or "unevaluatedProperties" in u:
            ctx.path.append("unevaluatedProperties")
            _unevaluated(ctx, o.get("unevaluatedProperties"), u.get("unevaluatedProperties"),
                         "UNEVALUATED_PROPERTIES", self.compare)
            ctx.path.pop()
        _bound(ctx, o, u, "maxProperties", "MAX_PROPERTIES")
        _bound(ctx, o, u, "minProperties", "MIN_PROPERTIES")

    def _property_removed(self, ctx: _Context, update: dict, name: str, schema_o: Any) -> None:
        if _object_is_open(update):
            ctx.add("PROPERTY_REMOVED_FROM_OPEN_CONTENT_MODEL")
            return
        covering = _object_partial(update, name)
        if covering is not None:
            subctx = ctx.sub()
            self.compare(subctx, schema_o, covering)
            ctx.diffs += subctx.diffs
            ctx.add("PROPERTY_REMOVED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL" if subctx.compatible()
                    else "PROPERTY_REMOVED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL")
        elif schema_o is False:
            ctx.add("PROPERTY_WITH_FALSE_REMOVED_FROM_CLOSED_CONTENT_MODEL")
        else:
            ctx.add("PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL")

    def _property_added(self, ctx: _Context, original: dict, name: str, schema_u: Any, required: bool) -> None:
        if _object_is_open(original):
            empty = self.u.kind(self.u.resolve(schema_u))[0] == "empty"
            ctx.add("PROPERTY_WITH_EMPTY_SCHEMA_ADDED_TO_OPEN_CONTENT_MODEL" if empty
                    else "PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL")
            return
        covering = _object_partial(original, name)
        if covering is not None:
            subctx = ctx.sub()
            self.compare(subctx, covering, schema_u)
            ctx.diffs += subctx.diffs
            ctx.add("PROPERTY_ADDED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL" if subctx.compatible()
                    else "PROPERTY_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL")
        if not required:
            ctx.add("OPTIONAL_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL")
        elif _has_default(schema_u):
            ctx.add("REQUIRED_PROPERTY_WITH_DEFAULT_ADDED_TO_UNOPEN_CONTENT_MODEL")
        else:
            ctx.add("REQUIRED_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL")

    def _dependencies(self, ctx: _Context, o: dict, u: dict) -> None:
        arrays_o, schemas_o = _dependency_maps(o)
        arrays_u, schemas_u = _dependency_maps(u)
        ctx.path.append("dependencies")
        for name in sorted(set(arrays_o) | set(arrays_u)):
            before, after = arrays_o.get(name), arrays_u.get(name)
            if after is None:
                ctx.add("DEPENDENCY_ARRAY_REMOVED", name)
            elif before is None:
                ctx.add("DEPENDENCY_ARRAY_ADDED", name)
            elif before != after:
                ctx.add("DEPENDENCY_ARRAY_EXTENDED" if after >= before else "DEPENDENCY_ARRAY_NARROWED"
                        if before >= after else "DEPENDENCY_ARRAY_CHANGED", name)
        for name in sorted(set(schemas_o) | set(schemas_u)):
            ctx.path.append(name)
            if name not in schemas_u:
                ctx.add("DEPENDENCY_SCHEMA_REMOVED")
            elif name not in schemas_o:
                ctx.add("DEPENDENCY_SCHEMA_ADDED")
            else:
                self.compare(ctx, schemas_o[name], schemas_u[name])
            ctx.path.pop()
        ctx.path.pop()

    def _array(self, ctx: _Context, o: dict, u: dict, *_: Any) -> None:
        ctx.path.append("items")
        self.compare(ctx, _all_items(o), _all_items(u))
        ctx.path.pop()
        tuple_o, tuple_u = _tuple_items(o), _tuple_items(u)
        for index in range(max(len(tuple_o), len(tuple_u))):
            ctx.path.append(f"items/{index}")
            if index < len(tuple_o) and index < len(tuple_u):
                self.compare(ctx, tuple_o[index], tuple_u[index])
            elif index < len(tuple_o):
                self._item_removed(ctx, u, tuple_o[index])
            else:
                self._item_added(ctx, o, tuple_u[index])
            ctx.path.pop()
        ctx.path.append("additionalItems")
        _open_closed(ctx, _additional_items(o), _additional_items(u), "ADDITIONAL_ITEMS", self.compare)
        ctx.path.pop()
        if "unevaluatedItems" in o or "unevaluatedItems" in u:
            ctx.path.append("unevaluatedItems")
            _unevaluated(ctx, o.get("unevaluatedItems"), u.get("unevaluatedItems"), "UNEVALUATED_ITEMS", self.compare)
            ctx.path.pop()
        _bound(ctx, o, u, "maxItems", "MAX_ITEMS")
        _bound(ctx, o, u, "minItems", "MIN_ITEMS")
        if bool(o.get("uniqueItems")) != bool(u.get("uniqueItems")):
            ctx.add("UNIQUE_ITEMS_REMOVED" if o.get("uniqueItems") else "UNIQUE_ITEMS_ADDED", "uniqueItems")
        _bound(ctx, o, u, "maxContains", "MAX_CONTAINS")
        _bound(ctx, o, u, "minContains", "MIN_CONTAINS")

    def _item_removed(self, ctx: _Context, update: dict, schema_o: Any) -> None:
        if _array_is_open(update):
            ctx.add("ITEM_REMOVED_FROM_OPEN_CONTENT_MODEL")
            return
        covering = _array_partial(update)
        if covering is not None:
            subctx = ctx.sub()
            self.compare(subctx, schema_o, covering)
            ctx.diffs += subctx.diffs
            ctx.add("ITEM_REMOVED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL" if subctx.compatible()
                    else "ITEM_REMOVED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL")
        else:
            ctx.add("ITEM_WITH_FALSE_REMOVED_FROM_CLOSED_CONTENT_MODEL" if schema_o is False
                    else "ITEM_REMOVED_FROM_CLOSED_CONTENT_MODEL")

    def _item_added(self, ctx: _Context, original: dict, schema_u: Any) -> None:
        if _array_is_open(original):
            empty = self.u.kind(self.u.resolve(schema_u))[0] == "empty"
            ctx.add("ITEM_WITH_EMPTY_SCHEMA_ADDED_TO_OPEN_CONTENT_MODEL" if empty
                    else "ITEM_ADDED_TO_OPEN_CONTENT_MODEL")
            return
        covering = _array_partial(original)
        if covering is None:
            ctx.add("ITEM_ADDED_TO_CLOSED_CONTENT_MODEL")
            return
        subctx = ctx.sub()
        self.compare(subctx, covering, schema_u)
        ctx.diffs += subctx.diffs
        ctx.add("ITEM_ADDED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL" if subctx.compatible()
                else "ITEM_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL")


def _no_keywords(*_: Any) -> None:
    """empty, false, boolean and null schemas have nothing more to compare."""


# --- helpers ------------------------------------------------------------------------------------------------
def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def _bound(ctx: _Context, o: dict, u: dict, keyword: str, name: str) -> None:
    before, after = o.get(keyword), u.get(keyword)
    if isinstance(before, bool) or isinstance(after, bool):  # draft-04 boolean exclusive bounds: not a limit
        before = None if isinstance(before, bool) else before
        after = None if isinstance(after, bool) else after
    if before == after:
        return
    if before is None:
        ctx.add(f"{name}_ADDED", keyword)
    elif after is None:
        ctx.add(f"{name}_REMOVED", keyword)
    else:
        ctx.add(f"{name}_{'INCREASED' if after > before else 'DECREASED'}", keyword)


def _is_multiple(value: float, of: float) -> bool:
    try:
        quotient = value / of
        return abs(quotient - round(quotient)) < 1e-9
    except (OverflowError, ZeroDivisionError):  # e.g. 1e300 / 1e-300: not a multiple we can tell
        return False


def _requires_integer(schema: dict) -> bool:
    return schema.get("type") == "integer" or schema.get("type") == ["integer"]


def _has_default(schema: Any) -> bool:
    return isinstance(schema, dict) and "default" in schema


def _dependency_maps(schema: dict) -> tuple[dict[str, frozenset[str]], dict[str, Any]]:
    arrays = {k: frozenset(v) for k, v in (schema.get("dependentRequired") or {}).items()}
    schemas = dict(schema.get("dependentSchemas") or {})
    for key, value in (schema.get("dependencies") or {}).items():
        if isinstance(value, list):
            arrays[key] = frozenset(value)
        else:
            schemas[key] = value
    return arrays, schemas


def _object_is_open(schema: dict) -> bool:
    additional = schema.get("additionalProperties", True)
    unevaluated = schema.get("unevaluatedProperties", True)
    return not schema.get("patternProperties") and additional is True and unevaluated in (True, {})


def _object_partial(schema: dict, name: str) -> Any:
    """The schema a property of this name falls under in a partially open content model (None when closed)."""
    for pattern, sub in (schema.get("patternProperties") or {}).items():
        if _matches(pattern, name):
            return sub
    additional = schema.get("additionalProperties", True)
    if isinstance(additional, dict):
        return additional
    unevaluated = schema.get("unevaluatedProperties")
    if additional is True and isinstance(unevaluated, dict) and unevaluated:
        return unevaluated
    return None


def _matches(pattern: str, name: str) -> bool:
    try:
        return re.search(pattern, name) is not None
    except re.error as exc:  # ECMA-262 regexes mostly parse as Python's; one that does not is a schema error
        raise SchemaError("<schema>", f"patternProperties '{pattern}': not a regular expression: {exc}") from exc


def _all_items(schema: dict) -> Any:
    if "prefixItems" in schema or isinstance(schema.get("items"), list):
        return None
    return schema.get("items")


def _tuple_items(schema: dict) -> list[Any]:
    if "prefixItems" in schema:
        return list(schema["prefixItems"])
    items = schema.get("items")
    return list(items) if isinstance(items, list) else []


def _additional_items(schema: dict) -> Any:
    """additionalItems (draft 7) or, beside prefixItems, items (2020-12); True when absent."""
    if "prefixItems" in schema:
        return schema.get("items", True)
    return schema.get("additionalItems", True)


def _array_is_open(schema: dict) -> bool:
    return _additional_items(schema) is True and schema.get("unevaluatedItems", True) in (True, {})


def _array_partial(schema: dict) -> Any:
    additional = _additional_items(schema)
    if isinstance(additional, dict):
        return additional
    unevaluated = schema.get("unevaluatedItems")
    if additional is True and isinstance(unevaluated, dict) and unevaluated:
        return unevaluated
    return None


def _open_closed(ctx: _Context, before: Any, after: Any, name: str, compare: Any) -> None:
    """additionalProperties / additionalItems: absent or true permits anything, false nothing, a schema some."""
    before = True if before is None else before
    after = True if after is None else after
    permits_o, permits_u = before is not False, after is not False
    if permits_o != permits_u:
        ctx.add(f"{name}_ADDED" if permits_u else f"{name}_REMOVED")
    elif isinstance(after, dict) and not isinstance(before, dict):
        ctx.add(f"{name}_NARROWED")
    elif isinstance(before, dict) and not isinstance(after, dict):
        ctx.add(f"{name}_EXTENDED")
    elif isinstance(before, dict) and isinstance(after, dict):
        compare(ctx, before, after)


def _unevaluated(ctx: _Context, before: Any, after: Any, name: str, compare: Any) -> None:
    if before is None:
        ctx.add(f"{name}_REMOVED" if after is False else f"{name}_NARROWED")
    elif after is None:
        ctx.add(f"{name}_ADDED" if before is False else f"{name}_EXTENDED")
    elif before is False and after is not False:
        ctx.add(f"{name}_ADDED")
    elif before is not False and after is False:
        ctx.add(f"{name}_REMOVED")
    elif before in (True, {}) and after not in (True, {}):
        ctx.add(f"{name}_NARROWED")
    elif before not in (True, {}) and after in (True, {}):
        ctx.add(f"{name}_EXTENDED")
    else:
        compare(ctx, before, after)


def _maximum_matching(edges: dict[int, dict[int, list[Difference]]]) -> dict[int, int]:
    """Maximum bipartite matching (augmenting paths): pair old subschemas with compatible new ones."""
    match_u: dict[int, int] = {}

    def augment(i: int, seen: set[int]) -> bool:
        for j in edges.get(i, {}):
            if j in seen:
                continue
            seen.add(j)
            if j not in match_u or augment(match_u[j], seen):
                match_u[j] = i
                return True
        return False

    for i in edges:
        augment(i, set())
    return {i: j for j, i in match_u.items()}


def differences(original: Any, update: Any, policy: str = "STRICT", source: str = "<schema>") -> list[Difference]:
    """Every difference between two JSON Schemas (original = the schema whose data must stay readable)."""
    ctx = _Context(POLICIES[policy], {})
    try:
        _Diff(_Document(original, source), _Document(update, source)).compare(ctx, original, update)
    except RecursionError as exc:  # depth is bounded on reading; this is the last line of defence
        raise SchemaError(source, "the schemas are too deeply nested or self-referencing to compare") from exc
    return ctx.diffs


# Confluent's message templates; the first %s names the update's role, the second the original's.
_TEMPLATES = [
    ({"MAXIMUM_ADDED", "MINIMUM_ADDED", "EXCLUSIVE_MAXIMUM_ADDED", "EXCLUSIVE_MINIMUM_ADDED", "MULTIPLE_OF_ADDED",
      "MAX_LENGTH_ADDED", "MIN_LENGTH_ADDED", "PATTERN_ADDED", "REQUIRED_ATTRIBUTE_ADDED", "MAX_PROPERTIES_ADDED",
      "MIN_PROPERTIES_ADDED", "DEPENDENCY_ARRAY_ADDED", "DEPENDENCY_SCHEMA_ADDED", "MAX_ITEMS_ADDED",
      "MIN_ITEMS_ADDED", "MAX_CONTAINS_ADDED", "MIN_CONTAINS_ADDED", "UNIQUE_ITEMS_ADDED", "ADDITIONAL_ITEMS_REMOVED",
      "ADDITIONAL_PROPERTIES_REMOVED", "UNEVALUATED_PROPERTIES_REMOVED", "UNEVALUATED_ITEMS_REMOVED"},
     "The keyword at path '{path}' in the {u} schema is not present in the {o} schema"),
    ({"MIN_LENGTH_INCREASED", "MINIMUM_INCREASED", "EXCLUSIVE_MINIMUM_INCREASED", "MIN_PROPERTIES_INCREASED",
      "MULTIPLE_OF_EXPANDED", "MIN_ITEMS_INCREASED", "MIN_CONTAINS_INCREASED"},
     "The value at path '{path}' in the {u} schema is more than its value in the {o} schema"),
    ({"MAX_LENGTH_DECREASED", "MAXIMUM_DECREASED", "MAX_ITEMS_DECREASED", "MAX_CONTAINS_DECREASED",
      "EXCLUSIVE_MAXIMUM_DECREASED", "MAX_PROPERTIES_DECREASED"},
     "The value at path '{path}' in the {u} schema is less than its value in the {o} schema"),
    ({"PATTERN_CHANGED", "MULTIPLE_OF_CHANGED", "DEPENDENCY_ARRAY_CHANGED"},
     "The value at path '{path}' is different between the {u} and {o} schema"),
    ({"ADDITIONAL_ITEMS_NARROWED", "ENUM_ARRAY_NARROWED", "SUM_TYPE_NARROWED", "ADDITIONAL_PROPERTIES_NARROWED",
      "UNEVALUATED_PROPERTIES_NARROWED", "UNEVALUATED_ITEMS_NARROWED"},
     "An array or combined type at path '{path}' has fewer elements in the {u} schema than the {o} schema"),
    ({"DEPENDENCY_ARRAY_EXTENDED", "PRODUCT_TYPE_EXTENDED", "SUM_TYPE_EXTENDED", "NOT_TYPE_EXTENDED"},
     "An array or combined type at path '{path}' has more elements in the {u} schema than the {o} schema"),
    ({"TYPE_CHANGED", "TYPE_NARROWED", "COMBINED_TYPE_CHANGED", "COMBINED_TYPE_SUBSCHEMAS_CHANGED",
      "ENUM_ARRAY_CHANGED"},
     "A type at path '{path}' is different between the {u} schema and the {o} schema"),
    ({"PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL", "ITEM_ADDED_TO_OPEN_CONTENT_MODEL"},
     "The {u} schema has an open content model and has a property or item at path '{path}' which is missing in "
     "the {o} schema"),
    ({"REQUIRED_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL"},
     "The {u} schema has an unopen content model and has a required property at path '{path}' which is missing "
     "in the {o} schema"),
    ({"PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL", "ITEM_REMOVED_FROM_CLOSED_CONTENT_MODEL"},
     "The {u} schema has a closed content model and is missing a property or item present at path '{path}' in "
     "the {o} schema"),
    ({"PROPERTY_REMOVED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL",
      "ITEM_REMOVED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL"},
     "A property or item is missing in the {u} schema but present at path '{path}' in the {o} schema and is not "
     "covered by its partially open content model"),
    ({"PROPERTY_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL",
      "ITEM_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL"},
     "The {u} schema has a property or item at path '{path}' which is missing in the {o} schema and is not "
     "covered by its partially open content model"),
]


def describe(diff: Difference, update_role: str, original_role: str) -> str:
    text = next((t for types, t in _TEMPLATES if diff.type in types),
                "The change at path '{path}' between the {o} and {u} schema is not allowed")
    text = text.format(path=diff.path, u=update_role, o=original_role)
    return f'{{errorType:"{diff.type}", description:"{text}"}}'
