"""Run the pinned Terraform (and checkov) against a module and return structured results with file:line locations."""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from edakit.spec.errors import Problem
from edakit.tfharness.install import Installation, install, interpreter

CHECKOV_ENV = "EDAKIT_CHECKOV"
_INIT_STAMP = "edakit-init.sha256"
_LOCAL_SOURCE = re.compile(rb'source\s*=\s*"(\.\.?/[^"]*)"')
_DIFF_FILE = re.compile(r"^--- old/(.+)$")
_DIFF_HUNK = re.compile(r"^@@ -(\d+)")


@dataclass(frozen=True)
class Diagnostic:
    severity: str
    summary: str
    detail: str = ""
    file: Path | None = None
    line: int | None = None
    column: int | None = None

    def location(self, relative_to: Path | None = None) -> str:
        if self.file is None:
            return ""
        path = self.file
        if relative_to is not None and path.is_relative_to(relative_to):
            path = path.relative_to(relative_to)
        return f"{path}:{self.line or 1}:{self.column or 1}"

    def problem(self, relative_to: Path | None = None) -> Problem:
        """The diagnostic as the kit's one located-problem type (edakit.spec.errors.Problem); a diagnostic about
        no file (init failed, a plugin error) has an empty file and prints its text alone."""
        text = f"{self.severity}: {self.summary}" + (f": {self.detail}" if self.detail else "")
        if self.file is None:
            return Problem("", 0, 0, "", text)
        path = self.file
        if relative_to is not None and path.is_relative_to(relative_to):
            path = path.relative_to(relative_to)
        return Problem(str(path), self.line or 1, self.column or 1, "", text)

    def format(self, relative_to: Path | None = None) -> str:
        return str(self.problem(relative_to))


@dataclass
class Result:
    step: str
    target: Path
    ok: bool
    diagnostics: list[Diagnostic] = field(default_factory=list)
    seconds: float = 0.0
    output: str = ""
    data: dict[str, Any] = field(default_factory=dict)  # step-specific: plan JSON, test counts, cached init

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "error"]


def _diagnostic(raw: dict[str, Any], base: Path) -> Diagnostic:
    where = raw.get("range") or {}
    start = where.get("start") or {}
    return Diagnostic(
        severity=raw.get("severity", "error"),
        summary=raw.get("summary", ""),
        detail=" ".join((raw.get("detail") or "").split()),
        file=(base / where["filename"]).resolve() if where.get("filename") else None,
        line=start.get("line"),
        column=start.get("column"),
    )


def _json_lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


class Harness:
    """One pinned Terraform + provider mirror; every call runs `terraform -chdir=DIR ...` offline."""

    def __init__(self, root: Path, installation: Installation | None = None) -> None:
        self.root = Path(root).resolve()
        self.installation = installation or install(self.root)
        self._env = self.installation.env()

    def terraform(self, directory: Path, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*self.installation.terraform, f"-chdir={directory}", *args],
            env=self._env, capture_output=True, text=True, stdin=subprocess.DEVNULL,
        )

    def _init_fingerprint(self, directory: Path) -> str:
        """Hash of the CLI config and the .tf files of the directory and of the local modules it calls."""
        digest = hashlib.sha256("\0".join((interpreter(), *self.installation.terraform)).encode())
        digest.update(self.installation.cli_config.read_bytes())
        pending, seen = [directory], set()
        while pending:
            current = pending.pop()
            if current in seen:
                continue
            seen.add(current)
            for path in sorted(current.glob("*.tf")):
                text = path.read_bytes()
                digest.update(str(path).encode() + b"\0" + text)
                pending += [(current / source.decode()).resolve() for source in _LOCAL_SOURCE.findall(text)]
        return digest.hexdigest()

    def init(self, directory: Path) -> Result:
        """`terraform init -backend=false`, skipped when the module's .tf files and CLI config are unchanged.

        The lock file then records the hashes of our mirror's provider shims (which embed this interpreter's path),
        not of real providers: it is rewritten on every init that runs (the kit gitignores lock files).
        """
        directory = Path(directory).resolve()
        start = time.perf_counter()
        stamp = directory / ".terraform" / _INIT_STAMP
        fingerprint = self._init_fingerprint(directory)
        lock = directory / ".terraform.lock.hcl"
        if stamp.exists() and lock.exists() and stamp.read_text() == fingerprint:
            return Result("init", directory, True, seconds=time.perf_counter() - start, data={"cached": True})
        lock.unlink(missing_ok=True)
        proc = self.terraform(directory, "init", "-backend=false", "-input=false", "-no-color")
        result = Result("init", directory, proc.returncode == 0, seconds=time.perf_counter() - start,
                        output=proc.stdout + proc.stderr, data={"cached": False})
        if result.ok:
            stamp.write_text(fingerprint)
        else:
            result.diagnostics.append(Diagnostic("error", "terraform init failed", _last_error(proc.stderr)))
        return result

    def validate(self, directory: Path) -> Result:
        directory = Path(directory).resolve()
        start = time.perf_counter()
        proc = self.terraform(directory, "validate", "-json", "-no-color")
        try:
            report = json.loads(proc.stdout)
        except json.JSONDecodeError:
            return Result("validate", directory, False, [Diagnostic("error", "terraform validate failed",
                                                                   _last_error(proc.stderr))],
                          time.perf_counter() - start, proc.stderr)
        diagnostics = [_diagnostic(d, directory) for d in report.get("diagnostics", [])]
        return Result("validate", directory, bool(report.get("valid")), diagnostics, time.perf_counter() - start,
                      proc.stdout)

    def plan(self, directory: Path, var_files: list[Path] | tuple[Path, ...] = (),
             vars: dict[str, str] | None = None) -> Result:
        """`terraform plan`; on success `data` holds `terraform show -json` of the plan (resource_changes etc.)."""
        directory = Path(directory).resolve()
        start = time.perf_counter()
        plan_file = directory / ".terraform" / "edakit.tfplan"
        args = ["plan", "-json", "-input=false", "-lock=false", f"-out={plan_file}"]
        args += [f"-var-file={Path(f).resolve()}" for f in var_files]
        args += [f"-var={key}={value}" for key, value in (vars or {}).items()]
        proc = self.terraform(directory, *args)
        messages = _json_lines(proc.stdout)
        diagnostics = [_diagnostic(m["diagnostic"], directory) for m in messages if m.get("type") == "diagnostic"]
        if proc.returncode != 0 and not diagnostics:
            diagnostics.append(Diagnostic("error", "terraform plan failed", _last_error(proc.stderr)))
        result = Result("plan", directory, proc.returncode == 0, diagnostics, output=proc.stdout)
        if result.ok:
            shown = self.terraform(directory, "show", "-json", str(plan_file))
            result.data = json.loads(shown.stdout)
        plan_file.unlink(missing_ok=True)
        result.seconds = time.perf_counter() - start
        return result

    def test(self, directory: Path) -> Result:
        """`terraform test` over the module's tests/*.tftest.hcl."""
        directory = Path(directory).resolve()
        start = time.perf_counter()
        proc = self.terraform(directory, "test", "-json", "-no-color")
        messages = _json_lines(proc.stdout)
        diagnostics = []
        for message in messages:
            if message.get("type") == "diagnostic":
                diagnostic = _diagnostic(message["diagnostic"], directory)
                run = message.get("@testrun")
                if run:
                    diagnostic = Diagnostic(diagnostic.severity, f"run {run!r}: {diagnostic.summary}",
                                            diagnostic.detail, diagnostic.file, diagnostic.line, diagnostic.column)
                diagnostics.append(diagnostic)
        summary = next((m["test_summary"] for m in messages if m.get("type") == "test_summary"), {})
        for message in messages:
            run = message.get("test_run") or {}
            if message.get("type") == "test_run" and run.get("progress") == "complete" and run.get("status") == "fail":
                if not any(message.get("@testrun", "") in d.summary for d in diagnostics):
                    diagnostics.append(Diagnostic("error", f"run {message.get('@testrun')!r} failed",
                                                  file=directory / message.get("@testfile", "")))
        if proc.returncode != 0 and not diagnostics:
            diagnostics.append(Diagnostic("error", "terraform test failed", _last_error(proc.stderr + proc.stdout)))
        return Result("test", directory, proc.returncode == 0, diagnostics, time.perf_counter() - start,
                      proc.stdout, data=summary)

    def fmt_check(self, root: Path) -> Result:
        """`terraform fmt -check -recursive`; one error per badly formatted file, at its first differing line."""
        root = Path(root).resolve()
        start = time.perf_counter()
        proc = self.terraform(root, "fmt", "-check", "-recursive", "-diff", "-no-color")
        diagnostics: list[Diagnostic] = []
        current: Path | None = None
        line_number = 0
        for line in proc.stdout.splitlines():
            if match := _DIFF_FILE.match(line):
                current = (root / match.group(1)).resolve()
            elif current is not None and (match := _DIFF_HUNK.match(line)):
                line_number = int(match.group(1))
            elif current is not None and line_number and line.startswith(" "):
                line_number += 1  # context line before the first change
            elif current is not None and line_number and line[:1] in "-+":
                diagnostics.append(Diagnostic("error", "not in canonical format", "run `terraform fmt` on it",
                                              current, line_number))
                current, line_number = None, 0
        if proc.returncode not in (0, 3) or (proc.returncode == 3 and not diagnostics):
            diagnostics.append(Diagnostic("error", "terraform fmt failed", _last_error(proc.stderr + proc.stdout)))
        return Result("fmt", root, proc.returncode == 0, diagnostics, time.perf_counter() - start, proc.stdout)

    def checkov(self, root: Path) -> Result:
        """checkov over a directory (its own venv), one error per failed check at the resource's first line."""
        root = Path(root).resolve()
        start = time.perf_counter()
        binary = find_checkov(self.root)
        if binary is None:
            return Result("checkov", root, False, [Diagnostic(
                "error", "checkov not found",
                f"set {CHECKOV_ENV} or create {self.root / '.venv-checkov'} (make setup installs checkov==3.3.30)")])
        proc = subprocess.run(
            [str(binary), "-d", str(root), "--skip-download", "--framework", "terraform", "--quiet", "--compact",
             "-o", "json"],
            capture_output=True, text=True, stdin=subprocess.DEVNULL, env={**os.environ, "LOG_LEVEL": "ERROR"},
        )
        try:
            report = json.loads(proc.stdout)
        except json.JSONDecodeError:
            return Result("checkov", root, False, [Diagnostic("error", "checkov failed", _last_error(proc.stderr))],
                          time.perf_counter() - start, proc.stderr)
        diagnostics = []
        for section in report if isinstance(report, list) else [report]:
            for check in section.get("results", {}).get("failed_checks", []):
                diagnostics.append(Diagnostic(
                    "error", f"{check['check_id']} {check['check_name']}", f"resource {check['resource']}",
                    Path(check["file_abs_path"]), check["file_line_range"][0]))
        return Result("checkov", root, not diagnostics and proc.returncode == 0, diagnostics,
                      time.perf_counter() - start, proc.stdout)


def find_checkov(root: Path) -> Path | None:
    candidates = [os.environ.get(CHECKOV_ENV), root / ".venv-checkov" / "bin" / "checkov"]
    return next((Path(c) for c in candidates if c and Path(c).exists()), None)


def _last_error(text: str) -> str:
    lines = [line.strip(" │╷╵") for line in text.strip().splitlines() if line.strip(" │╷╵")]
    return " ".join(lines[-6:])
