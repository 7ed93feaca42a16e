"""`edakit lint`: event-driven best practice over specs and rendered tfvars.

Each rule lives in one place (`edakit.lint.rules.*`) with an id, a name, a severity and a one-line rationale;
`lint_paths` runs them all, `blocking` picks what fails the build, `edakit.lint.report` formats the findings.
"""

from edakit.lint import rules as _rules  # noqa: F401  (registers every rule)
from edakit.lint.core import RULES, Finding, Rule, Severity, Target
from edakit.lint.report import FORMATS, format_json, format_sarif, format_table, sarif_log
from edakit.lint.run import blocking, lint_paths, lint_target

__all__ = [
    "FORMATS",
    "RULES",
    "Finding",
    "Rule",
    "Severity",
    "Target",
    "blocking",
    "format_json",
    "format_sarif",
    "format_table",
    "lint_paths",
    "lint_target",
    "sarif_log",
]
