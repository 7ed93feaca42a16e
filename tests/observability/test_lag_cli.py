"""`edakit lag` and `edakit lag serve` from the command line: an unreachable or hung target is exit 2 and one line
(never an empty table), `serve` binds 127.0.0.1 and stops on SIGTERM, `--watch` redraws in place."""

from __future__ import annotations

import os
import pty
import re
import select
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from click.testing import CliRunner

from edakit.cli import main
from edakit.devservers import free_port

EDAKIT = [str(Path(sys.executable).parent / "edakit")]
ENV = {**os.environ, "EDAKIT_CONNECT_TIMEOUT": "1", "AWS_DEFAULT_REGION": "eu-west-1", "AWS_ACCESS_KEY_ID": "testing",
       "AWS_SECRET_ACCESS_KEY": "testing"}


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in ("EDAKIT_CONNECT_TIMEOUT", "AWS_DEFAULT_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(key, ENV[key])


def cases(tmp: Path, hung_port: int) -> dict[str, list[str]]:
    dead = free_port()  # bound, then released: nothing listens there
    return {
        "kafka down": ["--broker", f"kafka://127.0.0.1:{dead}"],
        "kafka hung": ["--broker", f"kafka://127.0.0.1:{hung_port}"],
        "sqs down": ["--broker", f"sqs:http://127.0.0.1:{dead}"],
        "pubsub down": ["--broker", f"pubsub://127.0.0.1:{dead}/edakit-test"],
        "outbox postgresql down": ["--db", f"postgresql://app:s3cr3t-pw@127.0.0.1:{dead}/orders"],
        "outbox sqlite missing": ["--db", f"sqlite:{tmp / 'missing.db'}"],
        "azblob without a connection string": ["--broker", "azblob:deadletters"],
        "unknown scheme": ["--broker", "amqp://127.0.0.1:5672"],
    }


ALL = ["kafka down", "kafka hung", "sqs down", "pubsub down", "outbox postgresql down", "outbox sqlite missing",
       "azblob without a connection string", "unknown scheme"]
SERVE = ["kafka hung", "outbox sqlite missing", "azblob without a connection string", "unknown scheme"]  # same path


@pytest.mark.parametrize(("command", "name"), [(["lag"], n) for n in ALL] + [(["lag", "serve"], n) for n in SERVE])
def test_an_unreachable_target_is_one_line_and_exit_2(tmp_path: Path, hung_port: int, env: None,  # noqa: ARG001
                                                      monkeypatch: pytest.MonkeyPatch, name: str,
                                                      command: list[str]) -> None:
    monkeypatch.delenv("AZURE_STORAGE_CONNECTION_STRING", raising=False)
    started = time.monotonic()
    result = CliRunner().invoke(main, [*command, *cases(tmp_path, hung_port)[name]])
    assert result.exit_code == 2, (name, result.output)
    assert result.stdout == ""  # no table, no "[]"
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert "Traceback" not in result.stderr and "s3cr3t-pw" not in result.stderr
    assert time.monotonic() - started < 8


def test_serve_binds_localhost_answers_and_stops_on_sigterm(tmp_path: Path) -> None:
    db = f"sqlite:{tmp_path / 'outbox.db'}"
    subprocess.run([*EDAKIT, "outbox", "init", "--db", db], env=ENV, check=True, capture_output=True)
    proc = subprocess.Popen([*EDAKIT, "lag", "serve", "--db", db, "--port", "0"], env=ENV, stderr=subprocess.PIPE,
                            stdout=subprocess.DEVNULL, text=True)
    try:
        line = proc.stderr.readline()
        match = re.match(r"serving http://127\.0\.0\.1:(\d+)/metrics for 1 target\(s\)", line)
        assert match, line
        with urllib.request.urlopen(f"http://127.0.0.1:{match[1]}/metrics", timeout=10) as response:
            text = response.read().decode()
        assert f'edakit_outbox_rows{{broker="outbox",relay="{db}#outbox",target="{db}"}} 0.0' in text
        assert f'edakit_lag_scrape_success{{target="{db}"}} 1.0' in text
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_watch_redraws_in_place_until_interrupted(tmp_path: Path) -> None:
    db = f"sqlite:{tmp_path / 'outbox.db'}"
    subprocess.run([*EDAKIT, "outbox", "init", "--db", db], env=ENV, check=True, capture_output=True)
    leader, follower = pty.openpty()  # a terminal: where redrawing in place makes sense
    proc = subprocess.Popen([*EDAKIT, "lag", "--db", db, "--watch", "0.5"], env=ENV, stdout=follower,
                            stderr=subprocess.PIPE)
    os.close(follower)
    out = b""
    deadline = time.monotonic() + 30
    try:
        while out.count(b"\x1b[H\x1b[2J") < 2 and time.monotonic() < deadline:
            if select.select([leader], [], [], 0.2)[0]:
                out += os.read(leader, 65536)
        (tmp_path / "outbox.db").unlink()  # the target goes away while watched: its error shows, the watch goes on
        while b"does not exist" not in out and time.monotonic() < deadline:
            if select.select([leader], [], [], 0.2)[0]:
                out += os.read(leader, 65536)
        proc.send_signal(signal.SIGINT)
        code = proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(leader)
    text = out.decode()
    assert code == 0, (code, text, proc.stderr.read().decode())
    assert text.count("\x1b[H\x1b[2J") >= 2, text  # each refresh homes the cursor and clears: in place, not scrolling
    assert text.count("RELAY") >= 2 and "every 0.5 s, Ctrl-C stops" in text
    assert "does not exist" in text.rsplit("Ctrl-C stops", 1)[1]
