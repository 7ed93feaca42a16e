"""The package works installed, not only from a checkout (issue 12 item 7).

Builds the wheel once for this module from a copy of the sources, installs it into a fresh venv that cannot see the
checkout (third-party dependencies come from the project venv's site-packages through a .pth line, so nothing is
downloaded, and that line does not run the project venv's own .pth files such as the editable install's), and runs
the kit there from a user's repository in a temp dir: a spec copied with the files it references.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from dataclasses import asdict
from pathlib import Path

import pytest

from edakit.render import render_spec
from edakit.runtime.settings import consumer_settings
from edakit.saga import load_saga
from edakit.spec import load_spec

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "tools" / "edakit"
SPECS = ("configs/order-events-sns.yaml", "configs/order-saga.yaml")
# Package data kept in one place: the copy editors see (the configs' `yaml-language-server: $schema=` comments point
# at it) is the file; the package holds a symlink to it, which the wheel and sdist builds replace by its contents.
ONE_TRUTH = {
    "tools/edakit/spec/edakit-spec.schema.json": "configs/edakit-spec.schema.json",
    "tools/edakit/saga/saga.schema.json": "configs/saga.schema.json",
}
# What is in tools/edakit besides code and is not read by it.
NOT_DATA = {".py", ".pyc", ".md"}


def _run(command: list[str | Path], **kwargs) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(part) for part in command], capture_output=True, text=True, timeout=120, **kwargs)


def _copy_sources(dest: Path) -> None:
    """What the wheel is built from: pyproject.toml, README.md, tools/, and the files tools/' symlinks point at."""
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, dest / name)
    shutil.copytree(ROOT / "tools", dest / "tools", symlinks=True,
                    ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    for link in (path for path in PACKAGE.rglob("*") if path.is_symlink()):
        target = link.resolve().relative_to(ROOT)  # a symlink out of the repository fails here
        if not (dest / target).exists():
            (dest / target).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / target, dest / target)


@pytest.fixture(scope="module")
def sources(tmp_path_factory: pytest.TempPathFactory) -> Path:
    src = tmp_path_factory.mktemp("src")
    _copy_sources(src)
    return src


def _build_wheel(source: Path, dist: Path) -> Path:
    """`pip wheel` of a source tree or an sdist, with the project venv's setuptools and nothing downloaded."""
    built = _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
                  "-q", "-w", dist, source])
    assert built.returncode == 0, built.stderr
    (found,) = dist.glob("eda_kit-*.whl")
    return found


@pytest.fixture(scope="module")
def wheel(sources: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _build_wheel(sources, tmp_path_factory.mktemp("dist"))


@pytest.fixture(scope="module")
def venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A venv holding the installed wheel; the project venv's site-packages only supplies the dependencies."""
    path = tmp_path_factory.mktemp("venv") / "v"
    created = _run([sys.executable, "-m", "venv", "--without-pip", path])
    assert created.returncode == 0, created.stderr
    python = path / "bin" / "python"
    site = Path(_run([python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"]).stdout.strip())
    deps = dict.fromkeys([sysconfig.get_path("purelib"), sysconfig.get_path("platlib")])
    (site / "project-venv-dependencies.pth").write_text("".join(f"{line}\n" for line in deps))
    installed = _run([sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", "--no-index", "-q",
                      wheel])
    assert installed.returncode == 0, installed.stderr
    return path


@pytest.fixture(scope="module")
def user_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A service's repository outside the checkout: the specs, every file they reference, the editors' schemas."""
    repo = tmp_path_factory.mktemp("service-repo")
    wanted = {*SPECS, *ONE_TRUTH.values()}
    for spec_path in SPECS:
        spec = load_spec(ROOT / spec_path, root=ROOT)
        wanted |= {event.schema for event in spec.events.values()}
        if spec.saga is not None:
            wanted.add(spec.saga.definition)
    for relative in wanted:
        (repo / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / relative, repo / relative)
    assert _run(["git", "init", "-q", repo]).returncode == 0  # what makes it the repository root for load_spec
    return repo


def _in_venv(venv: Path, repo: Path, *args: str | Path) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("PYTHON", "VIRTUAL_ENV"))}
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    return _run(list(args), cwd=repo, env=env)


def test_the_wheel_ships_every_data_file_of_the_package(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    data = sorted(str(path.relative_to(PACKAGE.parent)) for path in PACKAGE.rglob("*")
                  if path.is_file() and path.suffix not in NOT_DATA and "__pycache__" not in path.parts)
    assert {*ONE_TRUTH} - {f"tools/{name}" for name in data} == set(), "package data missing in the checkout"
    assert [name for name in data if name not in names] == []
    with zipfile.ZipFile(wheel) as archive:
        for packaged, canonical in ONE_TRUTH.items():
            assert archive.read(packaged.removeprefix("tools/")) == (ROOT / canonical).read_bytes(), packaged


def test_a_wheel_built_from_the_sdist_carries_the_schemas_too(sources: Path, tmp_path: Path) -> None:
    """`python -m build` goes source -> sdist -> wheel: the sdist must hold the schemas' contents, not symlinks
    pointing out of it."""
    made = _run([sys.executable, "-c", "import sys; from setuptools.build_meta import build_sdist;"
                 " print(build_sdist(sys.argv[1]))", tmp_path / "sdist"], cwd=sources)
    assert made.returncode == 0, made.stderr
    sdist = tmp_path / "sdist" / made.stdout.split()[-1]
    with zipfile.ZipFile(_build_wheel(sdist, tmp_path / "dist")) as archive:
        for packaged, canonical in ONE_TRUTH.items():
            assert archive.read(packaged.removeprefix("tools/")) == (ROOT / canonical).read_bytes(), packaged


@pytest.mark.parametrize("packaged", sorted(ONE_TRUTH))
def test_package_schemas_and_the_editors_copy_cannot_differ(packaged: str) -> None:
    """The package's schema is a symlink to configs/' file (not a copy that could drift), and configs/ holds the
    file itself, so the configs' `$schema=` comments keep working in editors."""
    link, canonical = ROOT / packaged, ROOT / ONE_TRUTH[packaged]
    assert link.is_symlink(), f"{packaged} must be a symlink to {ONE_TRUTH[packaged]}, not a copy"
    assert link.resolve() == canonical.resolve()
    assert canonical.is_file() and not canonical.is_symlink()


def test_every_schema_comment_in_configs_points_at_a_file() -> None:
    comments = {spec: line.split("$schema=", 1)[1].strip()
                for spec in (ROOT / "configs").rglob("*.yaml")
                for line in spec.read_text(encoding="utf-8").splitlines()[:1] if "$schema=" in line}
    assert set(comments) >= {ROOT / spec for spec in SPECS}
    assert {str(spec.relative_to(ROOT)): target for spec, target in comments.items()
            if not (spec.parent / target).is_file()} == {}


def test_installed_cli_checks_and_renders_a_copied_spec(venv: Path, user_repo: Path, tmp_path: Path) -> None:
    where = _in_venv(venv, user_repo, "python", "-c", "import edakit, sys; print(edakit.__file__); print(sys.path)")
    assert where.returncode == 0, where.stderr
    module_file, path = where.stdout.splitlines()
    assert Path(module_file).is_relative_to(venv), module_file
    assert str(ROOT / "tools") not in path

    checked = _in_venv(venv, user_repo, venv / "bin" / "edakit", "spec", "check", *SPECS)
    assert checked.returncode == 0, checked.stderr
    assert [line.split(":")[0] for line in checked.stdout.splitlines()] == [f"ok {spec}" for spec in SPECS]

    schema = _in_venv(venv, user_repo, venv / "bin" / "edakit", "spec", "schema")
    assert json.loads(schema.stdout) == json.loads((ROOT / "configs" / "edakit-spec.schema.json").read_text())

    for spec_path in SPECS:
        rendered = _in_venv(venv, user_repo, venv / "bin" / "edakit", "render", spec_path, "--env", "staging")
        assert rendered.returncode == 0, rendered.stderr
        spec = load_spec(user_repo / spec_path, "staging", root=user_repo)
        expected = {path.name: json.loads(path.read_text()) for path in render_spec(spec, tmp_path / spec.name)}
        out = user_repo / "build" / spec.name / "staging"
        assert {path.name: json.loads(path.read_text()) for path in out.iterdir()} == expected
        assert expected  # the saga spec's file carries the ASL generated through the saga schema


LIBRARY = """
import dataclasses, json, sys
from edakit.runtime.settings import consumer_settings
from edakit.saga import load_saga
from edakit.spec import load_spec
spec = load_spec(sys.argv[1], "prod")
print(json.dumps({name: dataclasses.asdict(consumer_settings(spec, name)) for name in sorted(spec.subscribers)},
                 default=repr))
print(load_saga(load_spec(sys.argv[2]).saga.definition_path).name)
"""


def test_installed_library_loads_a_spec_and_gives_consumer_settings(venv: Path, user_repo: Path) -> None:
    ran = _in_venv(venv, user_repo, "python", "-c", LIBRARY, *SPECS)
    assert ran.returncode == 0, ran.stderr
    settings, saga = ran.stdout.splitlines()
    spec = load_spec(user_repo / SPECS[0], "prod", root=user_repo)
    assert json.loads(settings) == json.loads(json.dumps(
        {name: asdict(consumer_settings(spec, name)) for name in sorted(spec.subscribers)}, default=repr))
    assert saga == load_saga(user_repo / load_spec(user_repo / SPECS[1], root=user_repo).saga.definition).name


def test_installed_terraform_plugin_serves_its_provider_schemas(venv: Path, user_repo: Path) -> None:
    script = ("import json; from edakit.tfharness.plugin import load_schema\n"
              "print(json.dumps(sorted(load_schema('kafka')['resources'])))\nload_schema('none')")
    ran = _in_venv(venv, user_repo, "python", "-c", script)
    assert ran.returncode == 1
    shipped = json.loads((PACKAGE / "tfharness" / "provider_schemas" / "kafka.json").read_text())
    assert json.loads(ran.stdout) == sorted(shipped["resources"])
    known = sorted(path.stem for path in (PACKAGE / "tfharness" / "provider_schemas").glob("*.json"))
    assert ran.stderr.strip() == f"no provider schema none.json; known: {', '.join(known)}"
