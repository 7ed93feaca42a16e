"""Pub/Sub server for the DLQ tests: Google's pstest (tools/pstest-server), as in tests/runtime/adapters."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from edakit.devservers import free_port, wait_for_port


@pytest.fixture(scope="session")
def dlq_pstest_host(repo_root: Path) -> Iterator[str]:
    subprocess.run(["bash", str(repo_root / "scripts" / "build-pstest.sh")], check=True)
    port = free_port()
    proc = subprocess.Popen([str(repo_root / ".edakit-cache" / "bin" / "pstest-server"), "-port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_port(port, proc)
        yield f"127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)
