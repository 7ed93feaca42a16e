"""Pattern roots' pass-through declarations are generated from the modules they call, and checked for staleness."""

from __future__ import annotations

from pathlib import Path

import pytest

from edakit.docs import DocsError, check_docs, write_docs
from edakit.docs.inputs import MODULE_INPUTS, module_inputs
from edakit.tfharness import Harness

MODULE = '''variable "name" {
  description = "Topic name."
  type        = string

  validation {
    # Why the rule exists.
    condition     = length(var.name) > 0
    error_message = "name must not be empty."
  }
}

variable "subscribers" {
  description = "Subscribers by name."
  type = map(object({
    max_receive_count = optional(number, 5)
  }))
  default  = {}
  nullable = false
}

variable "tags" {
  description = "Tags."
  type        = map(string)
  default     = {}
}
'''

ROOT = '''module "fanout" {
  source = "../../modules/fanout"

  name        = var.name
  subscribers = var.subscribers
  tags        = merge(var.tags, { pattern = "fan-out" })
}
'''

OWN_VARIABLES = '''variable "environment" {
  description = "Deployment environment."
  type        = string
}
'''


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    (tmp_path / "modules" / "fanout").mkdir(parents=True)
    (tmp_path / "modules" / "fanout" / "variables.tf").write_text(MODULE)
    (tmp_path / "patterns" / "fan-out").mkdir(parents=True)
    (tmp_path / "patterns" / "fan-out" / "main.tf").write_text(ROOT)
    (tmp_path / "patterns" / "fan-out" / "variables.tf").write_text(OWN_VARIABLES)
    return tmp_path


def root(tree: Path) -> Path:
    return tree / "patterns" / "fan-out"


def test_declarations_are_the_modules_own_without_validation(tree: Path) -> None:
    text = module_inputs(root(tree))
    assert text is not None
    body = text.split('(../../modules/fanout)\n\n', 1)[1]
    assert body == '''variable "name" {
  description = "Topic name."
  type        = string
}

variable "subscribers" {
  description = "Subscribers by name."
  type = map(object({
    max_receive_count = optional(number, 5)
  }))
  default  = {}
  nullable = false
}

variable "tags" {
  description = "Tags."
  type        = map(string)
  default     = {}
}
'''


def test_generated_root_is_valid_and_formatted_terraform(tree: Path, repo_root: Path) -> None:
    write_docs(tree, [root(tree)])
    harness = Harness(repo_root)
    for result in (harness.init(root(tree)), harness.validate(root(tree)), harness.fmt_check(tree)):
        assert result.ok and not result.diagnostics, [d.format() for d in result.diagnostics]


def test_a_hand_declared_input_is_left_out(tree: Path) -> None:
    (root(tree) / "variables.tf").write_text(OWN_VARIABLES + '\nvariable "tags" {\n  type = map(string)\n}\n')
    text = module_inputs(root(tree))
    assert text is not None and 'variable "tags"' not in text and 'variable "name"' in text


def test_a_module_that_gains_an_attribute_makes_the_root_stale(tree: Path) -> None:
    write_docs(tree, [root(tree)])
    assert check_docs(tree, [root(tree)]) == []
    module = tree / "modules" / "fanout" / "variables.tf"
    module.write_text(MODULE.replace("max_receive_count = optional(number, 5)",
                                     "max_receive_count = optional(number, 5)\n    raw = optional(bool, false)"))
    [problem] = check_docs(tree, [root(tree)])
    assert problem.file == str(root(tree) / MODULE_INPUTS) and problem.line is not None
    assert "stale" in problem.message and "raw = optional(bool, false)" in problem.message


def test_an_input_the_module_lacks_is_bad_input_at_the_module_block(tree: Path) -> None:
    (root(tree) / "main.tf").write_text(ROOT.replace("  tags ", "  colour = var.colour\n  tags "))
    with pytest.raises(DocsError) as raised:
        module_inputs(root(tree))
    [problem] = raised.value.problems
    assert (problem.file, problem.line) == (str(root(tree) / "main.tf"), 1)
    assert "passes colour" in problem.message and "no such variable" in problem.message


def test_one_input_to_two_modules_with_different_declarations_must_be_declared_by_hand(tree: Path) -> None:
    (tree / "modules" / "store").mkdir()
    (tree / "modules" / "store" / "variables.tf").write_text(
        'variable "tags" {\n  description = "Store tags."\n  type        = map(string)\n}\n')
    (root(tree) / "main.tf").write_text(ROOT + '\nmodule "store" {\n  source = "../../modules/store"\n\n'
                                               '  tags = var.tags\n}\n')
    with pytest.raises(DocsError, match='var.tags goes to modules "fanout" and "store"'):
        module_inputs(root(tree))
    (root(tree) / "variables.tf").write_text(OWN_VARIABLES + '\nvariable "tags" {\n  type = map(string)\n}\n')
    assert 'variable "tags"' not in (module_inputs(root(tree)) or "")


def test_a_file_left_over_from_a_removed_pass_through_is_reported(tree: Path) -> None:
    write_docs(tree, [root(tree)])
    (root(tree) / "main.tf").write_text('module "fanout" {\n  source = "../../modules/fanout"\n\n  name = "fixed"\n}\n')
    with pytest.raises(DocsError, match="no longer passes through: delete it"):
        check_docs(tree, [root(tree)])


def test_the_repository_roots_are_generated_and_current(repo_root: Path) -> None:
    roots = sorted(repo_root.glob("terraform/patterns/*/*/main.tf"))
    assert roots and all((path.parent / MODULE_INPUTS).exists() for path in roots)
    assert check_docs(repo_root) == []
