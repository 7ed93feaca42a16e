"""`edakit docs` on modules: golden README, idempotence, stale detection, text outside the markers, bad input."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edakit.docs import DocsError, check_docs, module_dirs, write_docs
from edakit.docs.readme import BEGIN, END
from edakit.docs.terraform import read_module

FIXTURE = Path(__file__).parent / "fixtures" / "complete"
# Modules whose README section this project keeps generated (the others are still being written).
FINISHED = ("terraform/modules/aws-sns-sqs-fanout", "terraform/modules/kafka-topics",
            "terraform/patterns/fan-out/aws-sns-sqs", "terraform/patterns/fan-out/kafka")


@pytest.fixture
def module(tmp_path: Path) -> Path:
    """A copy of the fixture module, free to edit."""
    return Path(shutil.copytree(FIXTURE, tmp_path / "complete"))


def readme_with_section(module: Path, section: str) -> None:
    text = (FIXTURE / "README.md").read_text(encoding="utf-8")
    head, rest = text.split(BEGIN + "\n")
    _, tail = rest.split(END)
    (module / "README.md").write_text(head + BEGIN + "\n" + section + END + tail, encoding="utf-8")


def test_fixture_readme_is_the_golden_output(repo_root: Path) -> None:
    assert check_docs(repo_root, [FIXTURE]) == []


def test_write_regenerates_the_golden_readme_from_an_empty_section(module: Path, tmp_path: Path) -> None:
    readme_with_section(module, "")
    assert write_docs(tmp_path, [module]) == [module / "README.md"]
    assert (module / "README.md").read_bytes() == (FIXTURE / "README.md").read_bytes()


def test_second_write_changes_nothing(module: Path, tmp_path: Path) -> None:
    readme_with_section(module, "| stale | table |\n")
    write_docs(tmp_path, [module])
    first = (module / "README.md").read_bytes()
    assert write_docs(tmp_path, [module]) == []
    assert (module / "README.md").read_bytes() == first


def test_check_names_the_readme_and_first_stale_line(module: Path, tmp_path: Path) -> None:
    variables = module / "variables.tf"
    variables.write_text(variables.read_text().replace('"Create anything at all."', '"Create the topic."'))
    readme = (module / "README.md").read_text().split("\n")
    stale_line = next(index for index, line in enumerate(readme) if line.startswith("| `enabled`")) + 1

    (problem,) = check_docs(tmp_path, [module])
    assert (problem.file, problem.line) == (str(module / "README.md"), stale_line)
    assert "Create anything at all." in problem.message and "Create the topic." in problem.message
    assert f"README.md:{stale_line}: generated docs are stale" in str(problem)
    assert (module / "README.md").read_text().split("\n") == readme  # check never writes


def test_markers_are_appended_when_missing(module: Path, tmp_path: Path) -> None:
    (module / "README.md").write_text("# complete\n\nNo markers yet.")
    write_docs(tmp_path, [module])
    text = (module / "README.md").read_text()
    assert text.startswith("# complete\n\nNo markers yet.\n\n" + BEGIN + "\n")
    assert text.endswith(END + "\n") and "| `subscribers` |" in text
    assert check_docs(tmp_path, [module]) == []


def test_missing_readme_is_reported_then_created(module: Path, tmp_path: Path) -> None:
    (module / "README.md").unlink()
    (problem,) = check_docs(tmp_path, [module])
    assert problem.file == str(module / "README.md") and "missing" in problem.message
    write_docs(tmp_path, [module])
    assert (module / "README.md").read_text().startswith("# complete\n\n" + BEGIN)


# Hand-written text: any lines except the two marker lines themselves.
HAND_WRITTEN = st.lists(st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)
                        .filter(lambda line: line.strip() not in (BEGIN, END) and "\n" not in line), max_size=6)


@settings(max_examples=40, deadline=None)
@given(before=HAND_WRITTEN, after=HAND_WRITTEN)
def test_text_outside_the_markers_is_kept_byte_for_byte(tmp_path_factory: pytest.TempPathFactory,
                                                        before: list[str], after: list[str]) -> None:
    module = Path(shutil.copytree(FIXTURE, tmp_path_factory.mktemp("outside") / "complete"))
    head, tail = "\n".join(before + [BEGIN]), "\n".join([END] + after)
    (module / "README.md").write_bytes((head + "\nold section\n" + tail).encode())
    write_docs(module, [module])
    text = (module / "README.md").read_bytes().decode()
    assert text.startswith(head + "\n") and text.endswith("\n" + tail)
    assert text.count(BEGIN) == 1 and text.count(END) == 1


@pytest.mark.parametrize(("readme", "line", "expected"), [
    (f"# x\n{BEGIN}\nno end\n", 2, "never closed"),
    (f"# x\n{END}\n{BEGIN}\n", 2, f"unexpected {END}"),
    (f"{BEGIN}\n{END}\n\n{BEGIN}\n{END}\n", 4, f"unexpected {BEGIN}"),
])
def test_misplaced_markers_are_bad_input(module: Path, tmp_path: Path, readme: str, line: int, expected: str) -> None:
    (module / "README.md").write_text(readme)
    with pytest.raises(DocsError) as error:
        write_docs(tmp_path, [module])
    (problem,) = error.value.problems
    assert (problem.file, problem.line) == (str(module / "README.md"), line) and expected in problem.message
    assert (module / "README.md").read_text() == readme


@pytest.mark.parametrize(("source", "line", "expected"), [
    ('variable "x" {\n  type = string\n  default = "unterminated\n}\n', 3, "not valid HCL"),
    ('variable "x" {\n  type = string\n  default = var.other\n}\n', 3, "expected a constant value"),
    ('variable "x" {\n  type = string\n\n  validation {\n    condition = true\n  }\n}\n', 4, "needs an error_message"),
    ('variable "x" {\n  sensitive = "yes"\n}\n', 2, "sensitive must be true or false"),
    ('output {\n  value = 1\n}\n', 1, "exactly one label"),
    ('variable "x" {\n  default = "%{ if true }x%{ endif }"\n}\n', 2, "found a template directive"),
])
def test_unreadable_terraform_names_file_and_line(tmp_path: Path, source: str, line: int, expected: str) -> None:
    good, bad = tmp_path / "good", tmp_path / "bad"
    shutil.copytree(FIXTURE, good)
    bad.mkdir()
    (bad / "main.tf").write_text(source)
    with pytest.raises(DocsError) as error:
        check_docs(tmp_path, [good, bad, tmp_path / "absent"])
    first, second = error.value.problems  # every bad module in one run; the good one is not a problem
    assert (first.file, first.line) == (str(bad / "main.tf"), line) and expected in first.message
    assert second.file == str(tmp_path / "absent") and "not a Terraform module" in second.message


def test_modules_and_pattern_roots_are_found(tmp_path: Path) -> None:
    for directory in ("terraform/modules/a", "terraform/modules/b/examples/complete", "terraform/modules/empty",
                      "terraform/patterns/fan-out/kafka", "terraform/patterns/fan-out"):
        (tmp_path / directory).mkdir(parents=True, exist_ok=True)
    for file in ("terraform/modules/a/main.tf", "terraform/modules/b/variables.tf",
                 "terraform/modules/b/examples/complete/main.tf", "terraform/patterns/fan-out/kafka/main.tf",
                 "terraform/modules/empty/README.md"):
        (tmp_path / file).write_text("")
    assert module_dirs(tmp_path) == [tmp_path / "terraform/modules/a", tmp_path / "terraform/modules/b",
                                     tmp_path / "terraform/patterns/fan-out/kafka"]


def test_finished_module_readmes_are_current(repo_root: Path) -> None:
    assert check_docs(repo_root, [repo_root / path for path in FINISHED]) == []


@pytest.mark.parametrize(("default", "expected"), [
    ("!false", "!false"),
    ("(1 + 2) * 3", "(1 + 2) * 3"),
    ("true ? 1 : -2.5e3", "true ? 1 : -2.5e3"),
    ('{\n    in = 1\n    "k|" : [\n      "a",\n    ]\n  }', '{ in = 1, "k|" = ["a"] }'),
    ('"x${1 + 1}"', '"x${1 + 1}"'),
    ('"tab\\there $${literal}"', '"tab\\there $${literal}"'),
    ("<<EOT\nkept  as is\n  \"quoted\" \\n\nEOT", '"kept  as is\\n  \\"quoted\\" \\\\n\\n"'),
])
def test_defaults_render_as_one_line_of_terraform(tmp_path: Path, default: str, expected: str) -> None:
    (tmp_path / "variables.tf").write_text(f'variable "v" {{\n  default = {default}\n}}\n')
    (variable,) = read_module(tmp_path).variables
    assert variable.default == expected


def test_modules_without_inputs_or_outputs_say_so(tmp_path: Path) -> None:
    (tmp_path / "outputs" / "only").mkdir(parents=True)
    (tmp_path / "outputs" / "only" / "outputs.tf").write_text('output "id" {\n  value = 1\n}\n')
    (tmp_path / "variables").mkdir()
    (tmp_path / "variables" / "variables.tf").write_text('variable "id" {}\n')
    write_docs(tmp_path, [tmp_path / "outputs" / "only", tmp_path / "variables"])
    only_outputs = (tmp_path / "outputs" / "only" / "README.md").read_text()
    assert only_outputs.startswith("# only\n\n") and "No inputs." in only_outputs and "| `id` |  |" in only_outputs
    only_inputs = (tmp_path / "variables" / "README.md").read_text()
    assert "No outputs." in only_inputs and "| `id` | `any` | required |  |  |" in only_inputs
