#!/usr/bin/env python3
"""Validate event payloads against a schema: `python3 tools/schema_validator.py --schema S --payload P`.

The same as `edakit schema validate` (same options, same exit codes: 0 valid, 1 invalid, 2 bad input); kept for
users of this script. Runs with the project's virtualenv when the current interpreter lacks the kit's packages.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))

try:
    from edakit.cli.schema import validate
except ImportError as exc:
    venv_python = ROOT / ".venv" / "bin" / "python"
    if venv_python.exists() and Path(sys.prefix).resolve() != (ROOT / ".venv").resolve():
        os.execv(str(venv_python), [str(venv_python), __file__, *sys.argv[1:]])
    sys.exit(f"error: {exc.name} is not installed: run `make setup` (or use .venv/bin/python)")

if __name__ == "__main__":
    validate(prog_name="schema_validator.py")
