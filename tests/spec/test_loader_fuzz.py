"""The spec loader never crashes: whatever bytes a spec file holds (the kit's own specs with text cut and spliced
in, values replaced, arbitrary text and bytes, alias bombs, deep nesting), `load_environments` returns specs or
raises SpecError whose every problem names the file and a line and column inside it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from edakit.spec import SpecError, load_environments

ROOT = Path(__file__).resolve().parents[2]


def _without_descriptions(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_descriptions(v) for k, v in value.items() if k != "description"}
    if isinstance(value, list):
        return [_without_descriptions(v) for v in value]
    return value


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, child in items:
        found += _paths(child, (*prefix, key))
    return found


# The kit's specs as compact JSON (JSON is YAML; compact keeps each parse cheap), and every key path in each.
_YAML = YAML(typ="safe", pure=True)
SEEDS = [_without_descriptions(_YAML.load(path.read_text())) for path in sorted((ROOT / "configs").glob("*.yaml"))]
SEED_PATHS = [_paths(seed) for seed in SEEDS]

# What a YAML or JSON file can hold that a parser might not expect.
SPLICES = ["&a ", "*a", "&a [1, 2]", "[*a, *a, *a]", "<<: *a", "<<: ", "[", "]", "{", "}", ": ", ", ", "- ", "\n",
           "  ", "\t", "? ", "!!float ", "!!int ", "!!bool ", "!!binary ", "!!timestamp ", "!!omap ", "!!set ",
           "!!python/object:os.system ", "!Ref ", '"', "'", '"\\ud800"', "\\ud800", "\\x", "#", "---\n", "...\n",
           "%YAML 1.1\n", "|", ">", "\ufeff", "\x00", "é", "1e999", ".nan", "-.inf", "0x", "0o9", "1" * 5000, "~",
           "null", "true", "2026-13-45", "x" * 300, '"OrderPlaced"', '"kafka"', '"sqs-sns"', "-1", "0"]
splice = st.lists(st.sampled_from(SPLICES), max_size=4).map("".join)
scalar = st.one_of(st.none(), st.booleans(), st.integers(-10, 10**6), st.floats(), st.sampled_from(SPLICES))
value = st.recursive(scalar, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(SPLICES),
                                                                                           inner, max_size=3),
                     max_leaves=4)


@st.composite
def spliced(draw: st.DrawFn) -> bytes:
    """A seed's text with a span cut out and syntax spliced in."""
    text = json.dumps(SEEDS[draw(st.integers(0, len(SEEDS) - 1))])
    at = draw(st.integers(0, len(text)))
    return (text[:at] + draw(splice) + text[at + draw(st.integers(0, 20)):]).encode("utf-8", "surrogatepass")


@st.composite
def replaced(draw: st.DrawFn) -> bytes:
    """A seed with one value (or key) replaced: well-formed YAML, near-valid spec."""
    index = draw(st.integers(0, len(SEEDS) - 1))
    data = json.loads(json.dumps(SEEDS[index]))
    path = draw(st.sampled_from(SEED_PATHS[index][1:]))
    parent = data
    for part in path[:-1]:
        parent = parent[part]
    if draw(st.booleans()) and isinstance(parent, dict):
        parent[draw(st.sampled_from(SPLICES))] = parent.pop(path[-1])
    else:
        parent[path[-1]] = draw(value)
    return json.dumps(data).encode()


hostile = st.sampled_from([
    b"a: &a [1,1,1,1,1,1,1,1,1]\n" + b"".join(b"%c: &%c [%s]\n" % (n, n, b",".join([b"*%c" % p] * 9))
                                               for p, n in zip(b"abcdefgh", b"bcdefghi")),
    b"x: " + b"[" * 2_000,
    b"x: " + b"{a: " * 5000,
    b"a: &a [*a]\n",
    b"\xff\xfe\x00",
])
# Cheap inputs (arbitrary text and bytes, YAML made of the splices) outnumber the near-valid ones, which take a full
# load each (a few ms): 500 examples, about 100 per kind of input, take a few seconds.
tokens = st.lists(st.sampled_from(SPLICES), max_size=12).map("".join).map(lambda t: t.encode("utf-8", "surrogatepass"))
spec_bytes = st.one_of(spliced(), st.text(max_size=60).map(str.encode), st.binary(max_size=60), tokens,
                       st.one_of(replaced(), hostile))


@pytest.fixture(scope="module")
def spec_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz") / "spec.yaml"


def test_the_seeds_are_valid_specs(spec_file: Path) -> None:
    for seed in SEEDS:
        spec_file.write_text(json.dumps(seed))
        assert load_environments(spec_file, root=ROOT)


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spec_bytes)
def test_the_loader_never_crashes_and_every_problem_is_located(spec_file: Path, content: bytes) -> None:
    spec_file.write_bytes(content)
    try:
        load_environments(spec_file, root=ROOT)
    except SpecError as exc:
        lines = content.count(b"\n") + 1
        for problem in exc.problems:
            assert problem.file == str(spec_file)
            assert 1 <= problem.line <= lines and problem.column >= 1 and problem.message, problem
