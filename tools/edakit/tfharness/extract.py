"""Regenerate provider_schemas/<provider>.json from the JSII assemblies in the cdktf prebuilt-provider wheels.

    python -m edakit.tfharness.extract [--wheels DIR] [aws azurerm google]

The wheels are fetched with `pip download --no-deps` unless --wheels names a folder that already holds them.
From the assembly (`_jsii/*.jsii.tgz`) we read:
  - `.jsii`: which class is which Terraform resource (its docs link), each config property's Terraform name (the
    `#argument` of its docs link), whether it is optional, and which struct a nested block uses;
  - `lib/<resource>/index.js`: per argument whether it is a block, list or set, and its element type; getters
    without a config argument are computed-only attributes.
Required/optional/computed beyond that (optional+computed) is not in the assembly: see OPTIONAL_COMPUTED.
"""

from __future__ import annotations

import argparse
import glob
import io
import json
import re
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path
from typing import Any

from edakit.tfharness.catalog import PROVIDERS, Provider

SCHEMA_DIR = Path(__file__).with_name("provider_schemas")

# Provider-config facts from the provider docs that cdktf loses (it makes every provider argument optional).
PROVIDER_BLOCK_LIMITS: dict[str, dict[str, tuple[int, int]]] = {"azurerm": {"features": (1, 1)}}

# Sensitive attributes (provider docs: "Sensitive" in the attribute reference); the assembly does not mark them, and
# Terraform refuses an output of one without `sensitive = true`, so modules must meet them here too.
SENSITIVE: dict[str, frozenset[str]] = {
    "azurerm_storage_account": frozenset({
        "primary_access_key", "secondary_access_key", "primary_connection_string", "secondary_connection_string",
        "primary_blob_connection_string", "secondary_blob_connection_string"}),
    "azurerm_eventgrid_topic": frozenset({"primary_access_key", "secondary_access_key"}),
}

# Arguments every resource of the provider has as optional+computed (from the provider docs), which cdktf flattens.
OPTIONAL_COMPUTED: dict[str, frozenset[str]] = {
    "aws": frozenset({"id", "region", "tags_all"}),
    "azurerm": frozenset({"id"}),
    "google": frozenset({"id", "project"}),
}

_LINK = re.compile(r"/docs/(resources|data-sources)/(\w+) (\w+)\}")
_ARG_LINK = re.compile(r"#(\w+) \w+#\1\}")
_HCL_ATTR = re.compile(
    r"(\w+): \{\s*value: (.*?),\s*isBlock: (true|false),\s*type: \"(\w+)\",\s*storageClassType: \"(\w+)\",\s*\}", re.S
)
_GETTER = re.compile(r"get (\w+)\(\) \{\s*return this\.get(\w*)Attribute\('(\w+)'\)")
_COMPLEX = re.compile(r"this\._\w+ = new (\w+?)(List|OutputReference|Map)\(this, \"(\w+)\"(?:, (true|false))?\)")

_PRIMITIVE = {"string": "string", "number": "number", "boolean": "bool"}
_STORAGE = re.compile(r"(string|number|boolean)((?:List|Map)*)")
_GETTER_TYPES = {
    "String": "string", "Number": "number", "Boolean": "bool", "List": ["list", "string"],
    "NumberList": ["list", "number"], "StringMap": ["map", "string"], "NumberMap": ["map", "number"],
    "BooleanMap": ["map", "bool"], "Any": "dynamic",
}


class Assembly:
    """One provider's JSII assembly: type table plus the generated JS of each resource."""

    def __init__(self, tgz: bytes) -> None:
        self._tar = tarfile.open(fileobj=io.BytesIO(tgz))
        self.types: dict[str, Any] = json.loads(self._tar.extractfile("package/.jsii").read())["types"]
        self._js: dict[str, str] = {}

    def js(self, type_info: dict[str, Any]) -> str:
        filename = type_info["locationInModule"]["filename"]  # src/<dir>/index.ts
        path = "package/lib/" + filename.removeprefix("src/").removesuffix(".ts") + ".js"
        if path not in self._js:
            self._js[path] = self._tar.extractfile(path).read().decode()
        return self._js[path]

    def resource_classes(self) -> dict[tuple[str, str], dict[str, Any]]:
        """(kind, terraform name) -> class type; kind is resources, data-sources or provider."""
        found = {}
        for info in self.types.values():
            if info.get("kind") != "class":
                continue
            summary = info.get("docs", {}).get("summary", "")
            if summary.startswith("Represents a {@link"):
                match = _LINK.search(summary)
                if match:
                    found[(match.group(1), match.group(3))] = info
                elif info.get("base") == "cdktf.TerraformProvider":
                    found[("provider", "provider")] = info
        return found


def _section(js: str, start: str, end: str) -> str:
    """The text from `start` to `end`; empty when `start` is absent (provider config structs have no classes)."""
    begin = js.find(start)
    return "" if begin < 0 else js[begin:js.index(end, begin)]


def _tf_name(prop: dict[str, Any]) -> str:
    docs = prop.get("docs", {})
    summary = docs.get("summary", "") + " " + docs.get("remarks", "")
    match = _ARG_LINK.search(summary)
    # A few docs are cut short by a `*/` inside the provider's own text; cdktf's camelCase is then reversed.
    return match.group(1) if match else re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", prop["name"]).lower()


def _struct_fqn(jsii_type: dict[str, Any]) -> str | None:
    if "fqn" in jsii_type and not jsii_type["fqn"].startswith("cdktf."):
        return jsii_type["fqn"]
    for option in jsii_type.get("union", {}).get("types", []):
        element = option.get("collection", {}).get("elementtype", {})
        if "fqn" in element:
            return element["fqn"]
    return None


def _storage_type(storage: str, kind: str) -> Any:
    """cdktf storage class ("numberListList", "stringMap") -> cty type JSON; `kind` says if the outer list is a set."""
    primitive, wrappers = _STORAGE.fullmatch(storage).groups()
    cty: Any = _PRIMITIVE[primitive]
    for wrapper in re.findall("List|Map", wrappers):
        cty = [wrapper.lower(), cty]
    if kind == "set":
        cty[0] = "set"
    return cty


def _lower_first(name: str) -> str:
    return name[0].lower() + name[1:]


class Extractor:
    def __init__(self, assembly: Assembly, provider: str) -> None:
        self.assembly = assembly
        self.optional_computed = OPTIONAL_COMPUTED.get(provider, frozenset())

    def resource(self, cls: dict[str, Any]) -> dict[str, Any]:
        js = self.assembly.js(cls)
        config_fqn = cls["initializer"]["parameters"][-1]["type"]["fqn"]
        hcl = _section(js, "synthesizeHclAttributes() {", "// remove undefined attributes")
        class_body = _section(js, f"class {cls['name']} extends", f"exports.{cls['name']} = {cls['name']};")
        return self.block(config_fqn, hcl, class_body, js, top_level=True)

    def block(self, fqn: str, hcl: str, class_body: str, js: str, top_level: bool = False) -> dict[str, Any]:
        hcl_attrs = {m.group(1): m.groups()[1:] for m in _HCL_ATTR.finditer(hcl)}
        attributes: dict[str, Any] = {}
        blocks: dict[str, Any] = {}
        for prop in self.assembly.types[fqn].get("properties", []):
            name = _tf_name(prop)
            _value, is_block, kind, storage = hcl_attrs[name]
            optional = bool(prop.get("optional"))
            nested = _struct_fqn(prop["type"])
            if is_block == "true":
                struct = self.assembly.types[nested]["name"]
                nested_hcl = _section(js, f"function {_lower_first(struct)}ToHclTerraform(struct)",
                                      "// remove undefined")
                nested_class = _section(
                    js, f"class {struct}OutputReference extends", f"exports.{struct}OutputReference ="
                )
                blocks[name] = {
                    # cdktf "struct" = a single nested block (e.g. timeouts)
                    "nesting": {"set": "set", "struct": "single"}.get(kind, "list"),
                    "min_items": 0 if optional or kind == "struct" else 1,
                    # a max-1 list block is typed as one struct, not a list of them
                    "max_items": 1 if kind == "list" and "fqn" in prop["type"] else 0,
                    "block": self.block(nested, nested_hcl, nested_class, js),
                }
            elif _STORAGE.fullmatch(storage):
                cty = _storage_type(storage, kind)
                attributes[name] = {"type": cty, "optional": True} if optional else {"type": cty, "required": True}
                if top_level and name in self.optional_computed and optional:
                    attributes[name]["computed"] = True
            else:
                raise ValueError(f"{fqn}.{name}: unsupported argument kind {kind}/{storage}")
        for getter_kind, name in ((m.group(2), m.group(3)) for m in _GETTER.finditer(class_body)):
            if name not in attributes and name not in blocks:
                attributes[name] = {"type": _GETTER_TYPES[getter_kind], "computed": True}
        for struct, wrapper, name, wraps_set in _COMPLEX.findall(class_body):
            if name not in attributes and name not in blocks:
                attributes[name] = {"type": self.computed_object(struct, wrapper, wraps_set, js), "computed": True}
        if top_level and "id" not in attributes:
            attributes["id"] = {"type": "string", "computed": True}
        return {"attributes": dict(sorted(attributes.items())), "blocks": dict(sorted(blocks.items()))}

    def computed_object(self, struct: str, wrapper: str, wraps_set: str, js: str) -> Any:
        """Type of a computed-only nested value: an object of its getters, wrapped in a list/set unless single."""
        body = _section(js, f"class {struct}OutputReference extends", f"exports.{struct}OutputReference =")
        fields = {m.group(3): _GETTER_TYPES[m.group(2)] for m in _GETTER.finditer(body)}
        for inner, inner_wrapper, name, inner_set in _COMPLEX.findall(body):
            fields[name] = self.computed_object(inner, inner_wrapper, inner_set, js)
        obj = ["object", dict(sorted(fields.items()))]
        if wrapper == "OutputReference":
            return obj
        return ["set" if wraps_set == "true" else "list", obj]


def extract_provider(name: str, provider: Provider, wheel: Path) -> dict[str, Any]:
    with zipfile.ZipFile(wheel) as zf:
        member = next(n for n in zf.namelist() if n.endswith(".jsii.tgz"))
        assembly = Assembly(zf.read(member))
    classes = assembly.resource_classes()
    extractor = Extractor(assembly, name)
    wanted = [("resources", r) for r in provider.resources] + [("data-sources", d) for d in provider.data_sources]
    missing = [tf for kind, tf in wanted if (kind, tf) not in classes]
    if missing:
        raise SystemExit(f"{wheel.name}: no JSII class for {', '.join(missing)}")
    provider_class = classes[("provider", "provider")]
    provider_js = assembly.js(provider_class)
    provider_block = extractor.block(
        provider_class["initializer"]["parameters"][-1]["type"]["fqn"],
        _section(provider_js, "synthesizeHclAttributes() {", "// remove undefined"), "", provider_js,
    )
    provider_block["attributes"].pop("alias")  # a Terraform meta-argument, not the provider's
    provider_block["attributes"].pop("id", None)
    for block, (min_items, max_items) in PROVIDER_BLOCK_LIMITS.get(name, {}).items():
        provider_block["blocks"][block].update(min_items=min_items, max_items=max_items)
    resources = {tf: extractor.resource(classes[("resources", tf)]) for tf in provider.resources}
    for resource, names in SENSITIVE.items():
        for attribute in names & resources.get(resource, {}).get("attributes", {}).keys():
            resources[resource]["attributes"][attribute]["sensitive"] = True
    return {
        "source": provider.source,
        "version": provider.version,
        "generated_from": provider.cdktf_wheel,
        "provider": provider_block,
        "resources": resources,
        "data_sources": {tf: extractor.resource(classes[("data-sources", tf)]) for tf in provider.data_sources},
    }


def download(requirement: str, dest: Path) -> Path:
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", str(dest), requirement], check=True
    )
    dist, version = requirement.split("==")
    return Path(glob.glob(str(dest / f"{dist.replace('-', '_')}-{version}-*.whl"))[0])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--wheels", type=Path, help="folder holding the cdktf wheels (default: pip download them)")
    parser.add_argument("providers", nargs="*", help="provider names (default: every JSII-backed one)")
    args = parser.parse_args(argv)
    names = args.providers or [n for n, p in PROVIDERS.items() if p.cdktf_wheel]
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            provider = PROVIDERS[name]
            if provider.cdktf_wheel is None:
                raise SystemExit(f"{name}: its schema is written by hand, not extracted")
            dist, version = provider.cdktf_wheel.split("==")
            pattern = f"{dist.replace('-', '_')}-{version}-*.whl"
            local = sorted(glob.glob(str(args.wheels / pattern))) if args.wheels else []
            wheel = Path(local[0]) if local else download(provider.cdktf_wheel, Path(tmp))
            schema = extract_provider(name, provider, wheel)
            out = SCHEMA_DIR / f"{name}.json"
            out.write_text(json.dumps(schema, indent=1) + "\n")
            print(f"{out}: {len(schema['resources'])} resources, {len(schema['data_sources'])} data sources")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
