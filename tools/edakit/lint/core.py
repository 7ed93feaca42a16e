"""The lint vocabulary: severities, rules (id, name, severity, one-line rationale, check) and findings."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from edakit.routing.routes import ExampleEvent
from edakit.spec.errors import KeyPath, Problem
from edakit.spec.model import Location, Spec


class Severity(Enum):
    # values are SARIF result levels, so the SARIF writer needs no mapping
    ERROR = "error"  # fails `edakit lint` and `make validate`
    WARNING = "warning"  # reported, never fails the build


@dataclass(frozen=True)
class Suppression:
    """`# edakit: ignore[IDS] reason: ...` in a spec (parsed by edakit.lint.suppressions)."""

    line: int  # where the comment is written
    column: int
    covers: int  # the line whose findings it suppresses
    rule_ids: tuple[str, ...]
    reason: str | None


@dataclass(frozen=True)
class Target:
    """One thing to lint: a spec in one environment (with the tfvars it renders) or one tfvars file.

    `tfvars` maps a Terraform module name to its input variables. For a tfvars file, `positions` holds where each
    key path of that file is written; for a spec, findings point at the spec's own keys.
    """

    file: str
    env: str | None
    spec: Spec | None
    tfvars: Mapping[str, Mapping[str, Any]]
    positions: Mapping[KeyPath, tuple[int, int]] = field(default_factory=dict)
    examples: tuple[ExampleEvent, ...] = ()
    suppressions: tuple[Suppression, ...] = ()

    def at(self, tfvars_path: KeyPath, *spec_paths: KeyPath) -> Location:
        """Where a finding points. Linting a spec: the first of `spec_paths` the spec writes (else the nearest
        written parent of the first); linting a tfvars file: `tfvars_path` or its nearest written parent."""
        if self.spec is not None:
            written = [path for path in spec_paths if path in self.spec.locations]
            return self.spec.location(*(written or [*spec_paths, ()])[0])
        for end in range(len(tfvars_path), -1, -1):
            if tfvars_path[:end] in self.positions:
                return Location(self.file, *self.positions[tfvars_path[:end]])
        return Location(self.file, 1, 1)


Check = Callable[[Target], Iterator[tuple[Location, str]]]


@dataclass(frozen=True)
class Rule:
    id: str
    name: str
    severity: Severity
    rationale: str
    check: Check


@dataclass(frozen=True)
class Finding:
    location: Location
    rule_id: str
    severity: Severity = field(compare=False)
    message: str
    suppressed: str | None = field(default=None, compare=False)  # the suppression's reason

    @property
    def problem(self) -> Problem:
        """The finding as the kit's one located-problem type (rule id and severity lead the message)."""
        return Problem(self.location.file, self.location.line, self.location.column, "",
                       f"{self.rule_id} {self.severity.value}: {self.message}")

    @property
    def sort_key(self) -> tuple[str, int, int, str, str]:
        return (self.location.file, self.location.line, self.location.column, self.rule_id, self.message)

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule_id,
            "severity": self.severity.value,
            "file": self.location.file,
            "line": self.location.line,
            "column": self.location.column,
            "message": self.message,
            "suppressed": self.suppressed,
        }


RULES: dict[str, Rule] = {}


def rule(rule_id: str, name: str, severity: Severity, rationale: str) -> Callable[[Check], Check]:
    """Register a check as a rule; the id is what findings, suppressions and SARIF name it by."""

    def register(check: Check) -> Check:
        if rule_id in RULES:
            raise ValueError(f"lint rule id {rule_id} is registered twice")
        RULES[rule_id] = Rule(rule_id, name, severity, rationale, check)
        return check

    return register


def module_vars(target: Target, module: str) -> Mapping[str, Any]:
    """The target's input variables of `module`; empty when the target does not use it."""
    return target.tfvars.get(module) or {}


def items(value: Any) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """Entries of a tfvars map of objects (subscriptions, consumer groups...), skipping malformed ones."""
    if isinstance(value, Mapping):
        for key, entry in value.items():
            if isinstance(entry, Mapping):
                yield key, entry
