"""`edakit tf install`: the provider mirror and CLI config, laid out idempotently."""

from __future__ import annotations

import os
from pathlib import Path

from edakit.tfharness.catalog import PROVIDERS
from edakit.tfharness.install import install, interpreter, platform_dir


def test_install_lays_out_mirror_and_config_once(repo_root: Path, tmp_path: Path) -> None:
    first = install(repo_root, cache=tmp_path)
    shims = sorted(first.mirror.rglob("terraform-provider-*"))
    assert [s.relative_to(first.mirror).as_posix() for s in shims] == sorted(
        f"{p.source}/{p.version}/{platform_dir()}/terraform-provider-{p.type}_v{p.version}" for p in PROVIDERS.values()
    )
    for shim in shims:
        assert os.access(shim, os.X_OK)
        assert f"{interpreter()} -m edakit.tfharness.plugin --provider " in shim.read_text()
    config = first.cli_config.read_text()
    assert f'path    = "{first.mirror}"' in config and "direct" not in config
    assert all(f'"{p.source}"' in config for p in PROVIDERS.values())
    stamps = {p: p.stat().st_mtime_ns for p in [*shims, first.cli_config]}
    second = install(repo_root, cache=tmp_path)
    assert second == first
    assert {p: p.stat().st_mtime_ns for p in stamps} == stamps  # nothing rewritten
    assert second.env()["TF_CLI_CONFIG_FILE"] == str(first.cli_config)
