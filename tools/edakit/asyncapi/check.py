"""Validate exported AsyncAPI documents with AsyncAPI's own parser, every file in one node process.

`check_exports(spec_paths)` is what `make validate` runs: each spec exported (all environments) under
build/asyncapi/, then scripts/node/validate-asyncapi.mjs (@asyncapi/parser + its Avro schema parser, installed by
scripts/install-azurite.sh into .edakit-cache/node from the lockfile) parses them all.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import yaml

from edakit.asyncapi.export import export_spec
from edakit.spec import SpecError

NODE_SCRIPT = "scripts/node/validate-asyncapi.mjs"
NODE_PREFIX = ".edakit-cache/node"
TIMEOUT_SECONDS = 120


@dataclass(frozen=True)
class Diagnostic:
    file: str
    message: str
    path: str  # JSON pointer into the document

    def __str__(self) -> str:
        return f"{self.file}: {self.path or '/'}: {self.message}"


class ParserUnavailable(RuntimeError):
    """node or the locked npm packages are missing (run scripts/install-azurite.sh)."""


def validate_documents(files: list[Path], root: Path) -> list[Diagnostic]:
    """The parser's errors (severity 0) for every file; warnings and hints are not problems."""
    if not files:
        return []
    node = shutil.which("node")
    prefix = root / NODE_PREFIX
    if node is None or not (prefix / "node_modules" / "@asyncapi" / "parser").is_dir():
        raise ParserUnavailable(f"AsyncAPI parser not installed: run scripts/install-azurite.sh (needs node and npm; "
                                f"looked for {prefix}/node_modules/@asyncapi/parser)")
    # The script runs from stdin with the install prefix as working directory: ES modules resolve bare imports
    # from the importing file's directory, and stdin's is the working directory.
    script = (root / NODE_SCRIPT).read_text(encoding="utf-8")
    result = subprocess.run([node, "--input-type=module", "-", *(str(f.resolve()) for f in files)],
                            input=script, capture_output=True, text=True, cwd=prefix, timeout=TIMEOUT_SECONDS,
                            check=False)
    if result.returncode != 0:
        raise ParserUnavailable(f"validate-asyncapi.mjs failed (exit {result.returncode}): "
                                f"{' '.join(result.stderr.split())[:500]}")
    found = []
    for line in result.stdout.splitlines():
        entry = json.loads(line)
        if entry["severity"] == 0:
            pointer = "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in entry["path"])
            found.append(Diagnostic(entry["file"], entry["message"], pointer))
    return found


def check_exports(spec_paths: list[Path], root: Path, out_dir: Path | None = None) -> list[str]:
    """Export each spec (all environments) to `out_dir` (default build/asyncapi/) and return every problem: a spec
    that does not load, or what AsyncAPI's parser reports about its export. Empty: all valid."""
    out_dir = out_dir or root / "build" / "asyncapi"
    out_dir.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    files = []
    for path in spec_paths:
        try:
            document = export_spec(path, out_dir=out_dir.resolve())
        except SpecError as exc:
            problems += [str(p) for p in exc.problems]
            continue
        target = out_dir / f"{Path(path).stem}.asyncapi.yaml"
        target.write_text(yaml.safe_dump(document, sort_keys=False, allow_unicode=True), encoding="utf-8")
        files.append(target)
    try:
        problems += [str(d) for d in validate_documents(files, root)]
    except ParserUnavailable as exc:
        problems.append(str(exc))
    return problems
