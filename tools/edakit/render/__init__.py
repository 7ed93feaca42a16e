"""Spec -> one `<module>.auto.tfvars.json` per Terraform module the spec uses; one renderer per module.

A module's file holds exactly (a subset of) its input variables, so it works for the module alone and for the
pattern root that passes them through. The provider settings the pattern roots need (AWS `region`, Kafka
`bootstrap_servers`) go to `provider.auto.tfvars.json` beside them.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from edakit.brokers import PROFILES, BrokerProfile, channels_on
from edakit.render import claim_check, saga_stepfunctions
from edakit.spec import Problem, SpecError, load_environments
from edakit.spec.model import Spec

Renderer = Callable[[Spec], dict[str, Any] | None]


def _broker_tfvars(broker: BrokerProfile) -> Renderer:
    return lambda spec: broker.render(spec, channels_on(spec, broker))


def _broker_provider_settings(broker: BrokerProfile) -> Renderer:
    settings = broker.provider_settings
    assert settings is not None
    return lambda spec: settings(spec, channels_on(spec, broker))


# Each broker profile's module (edakit.brokers), then the stores and the saga.
RENDERERS: dict[str, Renderer] = {
    **{broker.module: _broker_tfvars(broker) for broker in PROFILES.values()},
    claim_check.S3_MODULE: claim_check.s3_tfvars,
    claim_check.AZURE_BLOB_MODULE: claim_check.azure_blob_tfvars,
    claim_check.GCS_MODULE: claim_check.gcs_tfvars,
    saga_stepfunctions.MODULE: saga_stepfunctions.tfvars,
}
# Azure and Google roots need no provider settings: location and project are module inputs.
PROVIDER_SETTINGS: tuple[Renderer, ...] = (
    *(_broker_provider_settings(broker) for broker in PROFILES.values() if broker.provider_settings is not None),
    claim_check.provider_settings,
    saga_stepfunctions.provider_settings,
)
PROVIDER_SETTINGS_FILE = "provider.auto.tfvars.json"


def tfvars_file(module: str) -> str:
    return f"{module}.auto.tfvars.json"


def render_tfvars(spec: Spec) -> dict[str, dict[str, Any]]:
    """Module name -> its input variables, for every module the spec uses."""
    rendered = {module: render(spec) for module, render in RENDERERS.items()}
    return {module: variables for module, variables in rendered.items() if variables is not None}


def provider_settings(spec: Spec) -> dict[str, Any]:
    """Variables of the pattern roots' provider blocks for the brokers the spec uses (empty: none)."""
    settings: dict[str, Any] = {}
    for render in PROVIDER_SETTINGS:
        settings |= render(spec) or {}
    return settings


def render_spec(spec: Spec, out_dir: str | Path) -> list[Path]:
    """Write the tfvars files into `out_dir` (deterministic bytes) and return their paths.

    A file left from an earlier render of a spec that no longer needs it is removed.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    files = {tfvars_file(module): variables for module, variables in render_tfvars(spec).items()}
    if settings := provider_settings(spec):
        files[PROVIDER_SETTINGS_FILE] = settings
    for stale in {tfvars_file(module) for module in RENDERERS} | {PROVIDER_SETTINGS_FILE}:
        if stale not in files:
            (out / stale).unlink(missing_ok=True)
    written = []
    for name, variables in files.items():
        path = out / name
        path.write_text(json.dumps(variables, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        written.append(path)
    return written


def default_out_dir(spec: Spec, root: Path) -> Path:
    """`build/<spec name>/<environment>/`; a render without --env goes to `build/<spec name>/base/`."""
    return root / "build" / spec.name / (spec.environment or "base")


def spec_files(root: Path) -> list[Path]:
    """The specs `make validate` renders: every `configs/*.yaml` (sub-directories hold other formats)."""
    return sorted((root / "configs").glob("*.yaml"))


def render_all(root: str | Path) -> list[Path]:
    """Load every spec under `root/configs/` and render each environment (or the base, if it has none) into
    `root/build/<spec>/<env>/`. Raises one SpecError with the problems of every file."""
    root = Path(root)
    problems: list[Problem] = []
    written: list[Path] = []
    for path in spec_files(root):
        try:
            for spec in load_environments(path, root=root):
                written += render_spec(spec, default_out_dir(spec, root))
        except SpecError as exc:
            problems += exc.problems
    if problems:
        raise SpecError(problems)
    return written
