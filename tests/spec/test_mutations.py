"""Whatever a user does to a valid spec, the loader returns a Spec or raises SpecError with located problems;
a dangling reference is reported whatever else is wrong with the spec."""

from __future__ import annotations

import io
import shutil
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from edakit.spec import Spec, SpecError, load_spec
from edakit.spec.errors import format_path

ROOT = Path(__file__).resolve().parents[2]
SEEDS = ("order-events-sns.yaml", "order-events-kafka.yaml", "order-events-eventgrid.yaml", "order-events-pubsub.yaml",
         "order-routing-eventbridge.yaml", "order-claim-check.yaml", "order-saga.yaml")

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(10**6), 10**6) | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=6,
)
# Values near the edges of the schema's ranges and names.
edge_values = st.sampled_from([0, -1, 1, 4, 20, 21, 31, 43201, 337, 1001, 1.5, "", "x" * 300, "kafka", "sqs-sns",
                               "pubsub", "event-grid", "eventbridge", True])


@pytest.fixture(scope="module")
def seeds(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """A copy of the repository's specs and the schema files they reference."""
    root = tmp_path_factory.mktemp("repo")
    (root / "pyproject.toml").write_text("")
    shutil.copytree(ROOT / "schemas", root / "schemas")
    shutil.copytree(ROOT / "configs" / "sagas", root / "configs" / "sagas")
    yaml = YAML(typ="safe", pure=True)
    return root, {name: yaml.load((ROOT / "configs" / name).read_text()) for name in SEEDS}


def _paths(data: Any, prefix: tuple = ()) -> list[tuple]:
    found = [prefix]
    if isinstance(data, dict):
        for key, value in data.items():
            found += _paths(value, (*prefix, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            found += _paths(value, (*prefix, index))
    return found


# A name or file no seed has, per kind of reference, and how the loader reports it dangling.
DANGLING = {
    "channel": ("no-such-channel", "unknown channel 'no-such-channel'"),
    "event": ("NoSuchEvent", "unknown event 'NoSuchEvent'"),
    "schema": ("schemas/missing/v1/missing.avsc", "schema file 'schemas/missing/v1/missing.avsc' not found"),
    "saga": ("configs/sagas/missing.yaml", "saga definition 'configs/sagas/missing.yaml' not found"),
}


def _references(data: dict[str, Any]) -> list[tuple[tuple, str]]:
    """Every place a seed refers to another entry or a file, with the kind of reference it is."""
    sites = [(("subscribers", name, "channel"), "channel") for name in data.get("subscribers", {})]
    for name, channel in data.get("channels", {}).items():
        sites += [(("channels", name, "events", index), "event") for index in range(len(channel["events"]))]
    sites += [(("events", name, "schema"), "schema") for name in data.get("events", {})]
    if "saga" in data:
        sites.append((("saga", "definition"), "saga"))
    return sites


def _mutate(data: Any, path: tuple, kind: str, value: Any, key: str) -> Any:
    if not path:
        return value if kind == "set" else data
    parent = data
    for part in path[:-1]:
        parent = parent[part]
    last = path[-1]
    if kind == "delete":
        del parent[last]
    elif kind in ("set", "dangle"):
        parent[last] = value
    elif kind == "unknown-key" and isinstance(parent[last], dict):
        parent[last][key] = value
    return data


def _dump(data: Any) -> str:
    stream = io.StringIO()
    YAML(typ="safe", pure=True).dump(data, stream)
    return stream.getvalue()


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    seed=st.sampled_from(SEEDS),
    choice=st.integers(min_value=0),
    kind=st.sampled_from(["delete", "set", "unknown-key", "edge", "text", "dangle"]),
    value=json_values,
    edge=edge_values,
    key=st.text(min_size=1, max_size=10),
    cut=st.tuples(st.integers(min_value=0), st.integers(0, 8), st.text(max_size=4)),
    env=st.sampled_from([None, "staging", "prod", "qa"]),
)
def test_loader_only_returns_a_spec_or_located_problems(
    seeds: tuple[Path, dict[str, Any]], seed: str, choice: int, kind: str, value: Any, edge: Any, key: str,
    cut: tuple[int, int, str], env: str | None,
) -> None:
    root, documents = seeds
    data = YAML(typ="safe", pure=True).load(_dump(documents[seed]))  # a fresh deep copy
    paths = _paths(data)
    path = paths[choice % len(paths)]
    if kind == "dangle":
        path, reference = _references(data)[choice % len(_references(data))]
        value = DANGLING[reference][0]
    if kind == "text":  # splice the YAML text itself: broken indentation, quotes, brackets
        text = _dump(data)
        start = cut[0] % (len(text) + 1)
        text = text[:start] + cut[2] + text[start + cut[1]:]
    else:
        mutated = _mutate(data, path, "set" if kind == "edge" else kind, edge if kind == "edge" else value, key)
        text = _dump(mutated)
    spec_file = _write(root, text)
    try:
        loaded = load_spec(spec_file, env)
    except SpecError as exc:
        _assert_located(exc, spec_file, text)
    else:
        assert isinstance(loaded, Spec) and loaded.environment == env


def _round_trips(text: str, data: Any) -> bool:
    try:
        return YAML(typ="safe", pure=True).load(text) == data
    except YAMLError:
        return False


def _write(root: Path, text: str) -> Path:
    spec_file = root / "configs" / "mutant.yaml"
    spec_file.parent.mkdir(exist_ok=True)
    spec_file.write_text(text)
    return spec_file


def _assert_located(exc: SpecError, spec_file: Path, text: str) -> None:
    assert exc.problems, "a SpecError must carry at least one problem"
    lines = text.count("\n") + 2
    for problem in exc.problems:
        assert problem.file == str(spec_file)
        assert 1 <= problem.line <= lines and problem.column >= 1, problem
        assert problem.path and problem.message, problem


def _disturbs(path: tuple, site: tuple) -> bool:
    """Whether mutating `path` could remove, replace or move the reference at `site`, or what it refers to."""
    referred = {"subscribers": ("channels",), "channels": ("events",)}.get(site[0])
    shifts = isinstance(site[-1], int) and path[: len(site) - 1] == site[:-1]  # deleting an earlier item moves it
    return site[: len(path)] == path or path[: len(site)] == site or path == referred or shifts


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    seed=st.sampled_from(SEEDS),
    site_choice=st.integers(min_value=0),
    choice=st.integers(min_value=0),
    kind=st.sampled_from(["delete", "set", "unknown-key", "edge"]),
    value=json_values,
    edge=edge_values,
    key=st.text(min_size=1, max_size=10),
    env=st.sampled_from([None, "staging", "prod", "qa"]),
)
def test_a_dangling_reference_is_reported_whatever_else_is_wrong(
    seeds: tuple[Path, dict[str, Any]], seed: str, site_choice: int, choice: int, kind: str, value: Any, edge: Any,
    key: str, env: str | None,
) -> None:
    root, documents = seeds
    data = YAML(typ="safe", pure=True).load(_dump(documents[seed]))
    sites = _references(data)
    site, reference = sites[site_choice % len(sites)]
    dangling, message = DANGLING[reference]
    data = _mutate(data, site, "dangle", dangling, key)
    paths = [path for path in _paths(data) if not _disturbs(path, site)]
    path = paths[choice % len(paths)]
    mutant = _mutate(data, path, "set" if kind == "edge" else kind, edge if kind == "edge" else value, key)
    text = _dump(mutant)
    # ruamel's emitter writes some control characters in keys as invalid YAML: then the only problem is the syntax
    assume(_round_trips(text, mutant))
    spec_file = _write(root, text)
    with pytest.raises(SpecError) as caught:
        load_spec(spec_file, env)
    _assert_located(caught.value, spec_file, text)
    at_site = [p for p in caught.value.problems if p.path == format_path(site)]
    assert len(at_site) == 1 and at_site[0].message.startswith(message), (path, at_site)
