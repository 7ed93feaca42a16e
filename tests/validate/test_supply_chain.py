"""Setup installs only what the committed lock files pin by hash: PyPI packages, npm packages and the Debian
packages pstest is built from. These tests fail when a pin and its lock drift apart."""

from __future__ import annotations

import json
import os
import re
import subprocess
import tomllib
from pathlib import Path

ROOT = Path(__file__).parents[2]
REQUIREMENT = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)==(?P<version>\S+)")


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def locked(path: Path) -> dict[str, tuple[str, list[str]]]:
    """name -> (version, hashes) of a pip-compile --generate-hashes file."""
    text = path.read_text(encoding="utf-8").replace("\\\n", " ")
    pins = {}
    for line in text.splitlines():
        if match := REQUIREMENT.match(line):
            pins[canonical(match["name"])] = (match["version"], re.findall(r"--hash=sha256:([0-9a-f]{64})", line))
    return pins


def pinned(requirements: list[str]) -> dict[str, str]:
    pins = {}
    for requirement in requirements:
        match = REQUIREMENT.match(re.sub(r"\[[^\]]*\]", "", requirement))
        assert match, f"{requirement!r} is not pinned with =="
        pins[canonical(match["name"])] = match["version"]
    return pins


def test_every_pyproject_pin_is_locked_at_its_version_with_hashes() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    wanted = pinned(project["dependencies"] + project["optional-dependencies"]["test"])
    lock = locked(ROOT / "requirements" / "kit.txt")
    assert {name: lock.get(name, ("missing",))[0] for name in wanted} == wanted
    assert all(hashes for _, hashes in lock.values()), [n for n, (_, h) in lock.items() if not h]
    assert {"setuptools", "wheel"} <= set(lock)  # the build backend `pip install --no-build-isolation -e .` uses


def test_checkov_is_locked_with_hashes() -> None:
    wanted = pinned([line for line in (ROOT / "requirements" / "checkov.in").read_text().splitlines() if line])
    lock = locked(ROOT / "requirements" / "checkov.txt")
    assert {name: lock[name][0] for name in wanted} == wanted
    assert len(lock) > 50 and all(hashes for _, hashes in lock.values())


def test_setup_installs_from_the_locks_with_hashes_required() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    installs = [line.strip() for line in makefile.splitlines() if "pip install" in line]
    assert installs and all("--require-hashes" in line or "--no-deps --no-build-isolation -e ." in line
                            for line in installs), installs
    assert "npm ci" in (ROOT / "scripts" / "install-azurite.sh").read_text(encoding="utf-8")


def test_the_npm_lockfile_pins_every_package_with_an_integrity_hash() -> None:
    manifest = json.loads((ROOT / "scripts" / "node" / "package.json").read_text(encoding="utf-8"))
    lock = json.loads((ROOT / "scripts" / "node" / "package-lock.json").read_text(encoding="utf-8"))
    packages = {path: entry for path, entry in lock["packages"].items() if path}
    assert lock["lockfileVersion"] >= 2 and len(packages) > 100
    assert all(re.fullmatch(r"\d+\.\d+\.\d+", v) for v in manifest["dependencies"].values())  # exact, no ranges
    for name, version in manifest["dependencies"].items():
        assert packages[f"node_modules/{name}"]["version"] == version
    assert all(entry.get("integrity", "").startswith("sha512-") for entry in packages.values())


def test_pstest_is_built_only_from_pinned_debian_packages() -> None:
    env = {**os.environ, "GO111MODULE": "off", "GOPATH": "/usr/share/gocode", "GOPROXY": "off", "GOFLAGS": "",
           "GOCACHE": str(ROOT / ".edakit-cache" / "go-build")}
    dirs = subprocess.run(["go", "list", "-deps", "-f", "{{if not .Standard}}{{.Dir}}{{end}}", "./tools/pstest-server"],
                          cwd=ROOT, env=env, check=True, capture_output=True, text=True).stdout.split()
    sources = [d for d in dirs if d.startswith("/usr/share/gocode/")]
    owners = subprocess.run(["dpkg", "-S", *sources], check=True, capture_output=True, text=True).stdout
    packages = {name.strip() for line in owners.splitlines() for name in line.split(":")[0].split(",")}
    pins = dict(line.split("=", 1) for line in (ROOT / "scripts" / "pstest-debian-packages.txt").read_text().splitlines()
                if line and not line.startswith("#"))
    assert len(sources) > 20 and packages <= set(pins), packages - set(pins)
    assert {"golang-go", "golang-google-cloud-dev"} <= set(pins)
    installed = subprocess.run(["dpkg-query", "-W", "-f", "${Package}=${Version}\\n", *pins],
                               check=True, capture_output=True, text=True).stdout.split()
    assert sorted(installed) == sorted(f"{name}={version}" for name, version in pins.items())
