"""`edakit docs`: writes, `--check` exit codes, and bad input."""

from __future__ import annotations

import shutil
from pathlib import Path

from click.testing import CliRunner

from edakit.cli import main

FIXTURE = Path(__file__).parent / "fixtures" / "complete"


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["docs", *args])
    return result.exit_code, result.stdout, result.stderr


def test_check_fails_on_a_stale_readme_then_passes_after_writing(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    module = root / "terraform" / "modules" / "complete"
    shutil.copytree(FIXTURE, module)
    readme = module / "README.md"
    readme.write_text(readme.read_text().replace("| ARN of the topic. |", "| ARN of the queue. |"))

    code, out, err = run("--check", "--root", str(root))
    assert code == 1
    assert out.startswith(f"{readme}:") and "ARN of the queue." in out and "1 stale generated file(s)" in err
    assert "ARN of the queue." in readme.read_text()

    code, out, _ = run("--root", str(root))
    assert (code, out) == (0, f"wrote {readme}\n")
    assert run("--check", "--root", str(root))[0] == 0
    assert run("--root", str(root))[:2] == (0, "")


def test_paths_limit_the_run_to_those_modules(tmp_path: Path) -> None:
    shutil.copytree(FIXTURE, tmp_path / "a")
    shutil.copytree(FIXTURE, tmp_path / "b")
    (tmp_path / "b" / "README.md").write_text("# b\n")
    assert run("--check", str(tmp_path / "a"))[0] == 0
    code, out, _ = run("--check", str(tmp_path / "a"), str(tmp_path / "b"))
    assert code == 1 and out.startswith(f"{tmp_path / 'b' / 'README.md'}:3: ") and "found end of file" in out


def test_unreadable_module_exits_2_naming_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text('variable "x" {\n  default = local.y\n}\n')
    code, out, err = run("--check", str(tmp_path))
    assert (code, out) == (2, "")
    assert f"{tmp_path / 'main.tf'}:2: expected a constant value" in err
