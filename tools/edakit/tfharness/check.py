"""`edakit tf check`: every module, example and pattern through fmt, init, validate, terraform test and checkov."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

from edakit.tfharness.runner import Diagnostic, Harness, Result


def discover(root: Path) -> list[Path]:
    """Every directory under terraform/ holding .tf files: modules, their examples, pattern roots (any depth)."""
    terraform = root / "terraform"
    found = {path.parent for path in terraform.rglob("*.tf")}
    return sorted(d for d in found if not any(part.startswith(".") for part in d.relative_to(terraform).parts))


def check_directory(harness: Harness, directory: Path, require_tests: bool = False) -> list[Result]:
    """init, validate, and terraform test where the directory has tests (`require_tests`: it must)."""
    results = [harness.init(directory)]
    if not results[-1].ok:
        return results
    results.append(harness.validate(directory))
    has_tests = any((directory / "tests").glob("*.tftest.hcl"))
    if has_tests and results[-1].ok:
        results.append(harness.test(directory))
    elif not has_tests and require_tests:
        results.append(Result("test", directory, False, [Diagnostic(
            "error", "module has no tests", "add tests/*.tftest.hcl (mock_provider runs, expect_failures)",
            directory / "tests")]))
    return results


def _summary(results: Iterable[Result]) -> str:
    parts = []
    for result in results:
        if result.step == "test" and result.data:
            parts.append(f"test {result.data.get('passed', 0)} passed {result.seconds:.1f}s")
        elif result.data.get("cached"):
            parts.append(f"{result.step} cached")
        else:
            parts.append(f"{result.step} {result.seconds:.1f}s")
    return ", ".join(parts)


def check_all(root: Path, paths: list[Path] | None = None, echo: Callable[[str], None] = print,
              harness: Harness | None = None, checkov: bool = True) -> bool:
    """Run every check, print one line per directory and one per problem (file:line); True when all pass.

    checkov=False is for quick local iterations (checkov alone takes seconds); `edakit validate` keeps it on.
    """
    root = Path(root).resolve()
    harness = harness or Harness(root)
    targets = [Path(p).resolve() for p in paths] if paths else discover(root)
    if not targets:
        echo(f"no Terraform directories under {root / 'terraform'}")
        return False
    scan_roots = [Path(p).resolve() for p in paths] if paths else [root / "terraform"]
    ok = True
    for scan_root in scan_roots:  # fmt and checkov walk whole trees: once per tree, not per directory
        for result in (harness.fmt_check(scan_root), *([harness.checkov(scan_root)] if checkov else [])):
            ok &= _report(result, root, echo, _display(scan_root, root), _summary([result]))
    modules = root / "terraform" / "modules"
    for directory in targets:
        results = check_directory(harness, directory, require_tests=directory.parent == modules)
        passed = all(r.ok for r in results)
        ok &= passed
        _report_many(results, root, echo, _display(directory, root), passed)
    return ok


def _display(path: Path, root: Path) -> str:
    return str(path.relative_to(root)) if path.is_relative_to(root) else str(path)


def _report(result: Result, root: Path, echo: Callable[[str], None], name: str, summary: str) -> bool:
    echo(f"{'ok  ' if result.ok else 'FAIL'} {name} [{summary}]")
    for diagnostic in result.diagnostics:
        echo(f"    {diagnostic.format(root)}")
    if not result.ok and not result.diagnostics:
        echo(f"    {result.step} failed without a diagnostic")
    return result.ok


def _report_many(results: list[Result], root: Path, echo: Callable[[str], None], name: str, passed: bool) -> None:
    echo(f"{'ok  ' if passed else 'FAIL'} {name} [{_summary(results)}]")
    for result in results:
        for diagnostic in result.diagnostics:
            echo(f"    {result.step}: {diagnostic.format(root)}")
