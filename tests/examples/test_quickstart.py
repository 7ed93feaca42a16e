"""The README's Quick Start, run exactly as printed (each command of its sh block through bash, from the repository
root) in a scratch copy of the repository's tracked configs, schemas, Terraform and examples: the Terraform commands
go through the kit's offline harness, and nothing is written into the working tree (build/, .terraform/)."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parents[2]
COPIED = ["configs", "schemas", "terraform", "examples", "tools/schema_validator.py", "pyproject.toml"]


def quick_start_commands(readme: str) -> list[str]:
    """The commands of the first sh block under `## Quick Start`: continuation lines joined, comments dropped."""
    section = re.search(r"^## Quick Start\n(.*?)(?=^## )", readme, re.MULTILINE | re.DOTALL)
    assert section, "README.md has no '## Quick Start' section"
    block = re.search(r"^```sh\n(.*?)^```", section.group(1), re.MULTILINE | re.DOTALL)
    assert block, "the Quick Start section has no ```sh block"
    joined = re.sub(r"\\\n\s*", "", block.group(1))
    return [line.split(" # ", 1)[0].strip() for line in joined.splitlines()
            if line.strip() and not line.lstrip().startswith("#")]


@pytest.mark.parametrize(("text", "expected"), [
    ("## Quick Start\n\n```sh\na --x \\\n    --y  # why\n# note\n\nb\n```\n\n## Next\n```sh\nc\n```\n",
     ["a --x --y", "b"]),
    ("intro\n## Quick Start\n```sh\none\n```\n```sh\ntwo\n```\n## After\n", ["one"]),
])
def test_quick_start_commands_are_read_from_the_section_block(text, expected):
    assert quick_start_commands(text) == expected


TOKEN = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789./=-_", min_size=1, max_size=12)
COMMAND = st.lists(TOKEN, min_size=1, max_size=6)


@given(st.lists(st.tuples(COMMAND, st.lists(st.booleans(), min_size=5, max_size=5), st.booleans()), max_size=5))
def test_any_block_of_commands_continuations_and_comments_reads_back(commands):
    """Each command is written with a continuation after any of its words and may follow a comment line."""
    lines = []
    for words, breaks, commented in commands:
        if commented:
            lines.append("# what the next command does")
        text = words[0]
        for word, broken in zip(words[1:], breaks, strict=False):
            text += (" \\\n    " if broken else " ") + word
        lines.append(text)
    readme = "# Title\n\n## Quick Start\n\n```sh\n" + "\n".join(lines) + "\n```\n\n## Next\n"
    assert quick_start_commands(readme) == [" ".join(words) for words, _, _ in commands]


@pytest.fixture(scope="module")
def scratch_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    scratch = tmp_path_factory.mktemp("quickstart")
    files = subprocess.run(["git", "ls-files", "-z", *COPIED], cwd=ROOT, capture_output=True, check=True).stdout
    subprocess.run(["cp", "--parents", "-t", str(scratch), *files.decode().split("\0")[:-1]], cwd=ROOT, check=True)
    (scratch / ".venv").symlink_to(ROOT / ".venv")  # what `make setup` made
    return scratch


def test_the_quick_start_runs_as_printed(scratch_repo: Path):
    commands = quick_start_commands((ROOT / "README.md").read_text())
    kafka = [c for c in commands if c.startswith(".venv/bin/edakit tf plan terraform/patterns/fan-out/kafka ")]
    sns = [c for c in commands if c.startswith(".venv/bin/edakit tf plan terraform/patterns/fan-out/aws-sns-sqs ")]
    validator = ("python3 tools/schema_validator.py --schema schemas/order-events/v1/order-placed.avsc "
                 "--payload examples/order-placed.json")
    assert len(kafka) == 1 and "environment=staging" in kafka[0]
    assert len(sns) == 1 and "--var-file" in sns[0]
    assert validator in commands
    env = {k: v for k, v in os.environ.items() if not k.startswith(("EDAKIT_", "TF_", "VIRTUAL_ENV"))}
    outputs = {}
    for command in commands:
        done = subprocess.run(["bash", "-c", command], cwd=scratch_repo, env=env, capture_output=True, text=True,
                              stdin=subprocess.DEVNULL, timeout=120)
        assert done.returncode == 0, f"{command}\n{done.stdout}\n{done.stderr}"
        outputs[command] = done.stdout
    planned = outputs[kafka[0]]
    assert re.search(r"^ +create module\.topics\.kafka_topic\.this\[\"orders-kafka-staging-order-placed\"\]$",
                     planned, re.MULTILINE), planned
    assert re.search(r"^ok: \d+ resource changes planned$", planned, re.MULTILINE)
    assert re.search(r"^ +create module\.fanout\.aws_sns_topic\.this$", outputs[sns[0]], re.MULTILINE), outputs[sns[0]]
    assert outputs[validator].strip() == "examples/order-placed.json: valid"
    assert not (ROOT / "examples/order-placed.json").is_symlink()  # a file a reader can open and edit
