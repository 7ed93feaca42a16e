"""Every module default a broker profile (and through it a lint rule) assumes is the default the module's
variables.tf declares, read with python-hcl2 (edakit.docs.terraform.variable_defaults)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edakit.brokers import PROFILES
from edakit.docs.terraform import variable_defaults
from edakit.lint.rules import delivery, kafka, replay

ROOT = Path(__file__).resolve().parents[2]
MODULES = ROOT / "terraform" / "modules"


def terraform_text(value: Any) -> str:
    """A Python default as the Terraform source text variable_defaults returns."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value)
    return str(value)


@pytest.mark.parametrize("name", list(PROFILES))
def test_every_profile_default_is_the_modules_default(name: str) -> None:
    profile = PROFILES[name]
    declared = variable_defaults(MODULES / profile.module)
    assert profile.module_defaults, f"{name}: a profile names the module defaults its rules rely on"
    for key, value in profile.module_defaults.items():
        assert key in declared, f"{profile.module}/variables.tf declares no default for {key}"
        assert declared[key] == terraform_text(value), f"{profile.module}: {key}"


def test_lint_reads_the_defaults_from_the_profiles() -> None:
    """The constants the lint rules compare with are the profiles' (a rule restating a default would drift)."""
    sqs, kafka_profile = PROFILES["sqs-sns"], PROFILES["kafka"]
    assert delivery.SQS_RETENTION_SECONDS == sqs.default("subscribers.message_retention_seconds") == 345600
    assert delivery.SQS_VISIBILITY_SECONDS == sqs.default("subscribers.visibility_timeout_seconds") == 30
    assert replay.KAFKA_RETENTION_HOURS == kafka_profile.default("default_retention_hours") == 168
    assert replay.EVENTBRIDGE_ARCHIVE_DAYS == PROFILES["eventbridge"].default("archive.retention_days")
    assert kafka.MIN_REPLICATION_FACTOR <= kafka_profile.default("default_replication_factor")
    with pytest.raises(KeyError, match="no module default 'nope' in the kafka profile"):
        kafka_profile.default("nope")


def test_a_default_that_drifted_from_the_module_is_found(tmp_path: Path) -> None:
    """The comparison fails when a module changes a default the profile restates."""
    profile = PROFILES["kafka"]
    text = (MODULES / profile.module / "variables.tf").read_text(encoding="utf-8")
    drifted, count = re.subn(r"(retry_topic_count\s*=\s*optional\(number,\s*)3\)", r"\g<1>4)", text)
    assert count == 1
    (tmp_path / "variables.tf").write_text(drifted, encoding="utf-8")
    declared = variable_defaults(tmp_path)
    assert declared["consumer_groups.retry_topic_count"] == "4"
    assert declared["consumer_groups.retry_topic_count"] != terraform_text(
        profile.default("consumer_groups.retry_topic_count"))


# A random object type with optional() defaults, its Terraform source and the defaults it declares.
NAMES = st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True)
LITERALS = st.one_of(st.integers(-1000, 10**6).map(str), st.booleans().map(terraform_text),
                     st.from_regex(r"[A-Za-z0-9 ._-]{0,12}", fullmatch=True).map(json.dumps), st.just("{}"),
                     st.just("[]"))


def _objects(depth: int) -> st.SearchStrategy[tuple[str, dict[str, str]]]:
    leaf = st.sampled_from(["string", "number", "bool", "list(string)"]).map(lambda t: (t, {}))
    inner = leaf if depth == 0 else st.one_of(leaf, st.deferred(lambda: _objects(depth - 1)))

    def attribute(parts: tuple[str, tuple[str, dict[str, str]], str | None, str]) -> tuple[str, str, dict]:
        name, (type_text, nested), default, wrapper = parts
        if wrapper:
            type_text = f"{wrapper}({type_text})"
        found = {f"{name}.{k}": v for k, v in nested.items()}
        if default is None:
            return name, f"{name} = optional({type_text})" if found else f"{name} = {type_text}", found
        return name, f"{name} = optional({type_text}, {default})", {name: default, **found}

    attributes = st.lists(st.tuples(NAMES, inner, st.none() | LITERALS, st.sampled_from(["", "map", "list"]))
                          .map(attribute), min_size=1, max_size=4, unique_by=lambda a: a[0])
    return attributes.map(lambda attrs: ("object({" + ", ".join(a[1] for a in attrs) + "})",
                                         {k: v for a in attrs for k, v in a[2].items()}))


@settings(max_examples=60, deadline=None)
@given(name=NAMES, shape=_objects(2), wrapper=st.sampled_from(["", "map", "list", "set"]))
def test_variable_defaults_finds_every_optional_default(tmp_path_factory: pytest.TempPathFactory, name: str,
                                                        shape: tuple[str, dict[str, str]], wrapper: str) -> None:
    type_text, expected = shape
    module = tmp_path_factory.mktemp("module")
    constraint = f"{wrapper}({type_text})" if wrapper else type_text
    (module / "variables.tf").write_text(f'variable "{name}" {{\n  type = {constraint}\n}}\n', encoding="utf-8")
    assert variable_defaults(module) == {f"{name}.{key}": value for key, value in expected.items()}
