"""The `start_worker` fixture: `edakit worker run` subprocesses, killed at teardown if a test left one running."""

from __future__ import annotations

import json
import os
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from worker_helpers import EDAKIT, ROOT, SERVICE, WorkerProcess


@pytest.fixture
def start_worker() -> Iterator:
    started: list[WorkerProcess] = []

    def start(directory: Path, spec: Path, out: Path, *args: str, **env: str) -> WorkerProcess:
        service = directory / "service_app.py"
        service.write_text(SERVICE)
        environment = {**os.environ, "WORKER_SPEC": str(spec), "WORKER_ROOT": str(ROOT), "WORKER_OUT": str(out),
                       **env}
        proc = subprocess.Popen([str(EDAKIT), "worker", "run", "service_app:app", "--port", "0", *args],
                                cwd=directory, env=environment, stderr=subprocess.PIPE, text=True)
        first = proc.stderr.readline()
        try:
            port = json.loads(first)["port"]
        except (ValueError, KeyError):
            proc.kill()
            raise AssertionError(f"worker did not start: {first}{proc.stderr.read()}") from None
        worker = WorkerProcess(proc, port, out, [json.loads(first)])

        def read() -> None:
            for line in proc.stderr:
                try:
                    worker.lines.append(json.loads(line))
                except ValueError:
                    worker.lines.append({"not_json": line})  # the tests assert there is none

        worker.reader = threading.Thread(target=read, daemon=True)
        worker.reader.start()
        started.append(worker)
        return worker

    yield start
    for worker in started:
        if worker.proc.poll() is None:
            worker.proc.kill()
            worker.proc.wait(10)
