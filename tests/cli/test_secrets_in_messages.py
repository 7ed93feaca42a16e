"""Issue 10 item 8: no command echoes a secret from a URL or DSN it was given, a registry that cannot be reached is
one line and exit 2, and no message quotes more than a short prefix of a huge bad value."""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from edakit.cli import main
from edakit.devservers import free_port

SECRET = "s3cr3t-Pa55"


def run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), env={"EDAKIT_CONNECT_TIMEOUT": "1", "AWS_DEFAULT_REGION": "eu-west-1",
                                                       "AWS_ACCESS_KEY_ID": "testing",
                                                       "AWS_SECRET_ACCESS_KEY": "testing", **(env or {})})
    return result.exit_code, result.stdout, result.stderr


def assert_one_line_without_secret(code: int, out: str, err: str) -> str:
    assert code == 2, (out, err)
    assert SECRET not in out + err and "Pa55" not in out + err, err
    [line] = err.splitlines()
    assert line.startswith("error: ") and "Traceback" not in err
    return line


DEAD = free_port()  # bound, then released: nothing listens there

DB_FORMS = [
    f"postgresql+psycopg://app:{SECRET}@127.0.0.1:{DEAD}/orders",
    f"host=127.0.0.1 port={DEAD} user=app password={SECRET} dbname=orders",
    f"host=127.0.0.1 user=app password='{SECRET} with a space' dbname=orders",
    f"postgresql://127.0.0.1:{DEAD}/orders?user=app&password={SECRET}",
    f"postgres://127.0.0.1:{DEAD}/orders?sslpassword={SECRET}&password={SECRET}&sslmode=require",
    f"postgresql://app:{SECRET}@127.0.0.1:{DEAD}/orders",
    f"postgresql://app:pw%zz{SECRET}@127.0.0.1:{DEAD}/orders",  # libpq quotes this token out of the URL
    f"postgresql://app:{SECRET}@127.0.0.1:notaport/orders",
]


@pytest.mark.parametrize("db", DB_FORMS)
@pytest.mark.parametrize("command", ["lag", "init"])
def test_outbox_never_echoes_a_database_password(db: str, command: str) -> None:
    assert_one_line_without_secret(*run("outbox", command, "--db", db))


BROKER_FORMS = [
    f"kafka://app:{SECRET}@127.0.0.1:{DEAD}",
    f"kafka://127.0.0.1:{DEAD}?sasl.password={SECRET}",
    f"sqs:http://app:{SECRET}@127.0.0.1:{DEAD}",
    f"pubsub://app:{SECRET}@127.0.0.1:{DEAD}/project",
    f"amqp://app:{SECRET}@127.0.0.1:{DEAD}/vhost",
    f"rediss://:{SECRET}@127.0.0.1:{DEAD}/0",
]


@pytest.mark.parametrize("broker", BROKER_FORMS)
def test_dlq_and_relay_never_echo_a_broker_password(broker: str, tmp_path: Path) -> None:
    assert_one_line_without_secret(*run("dlq", "ls", "--broker", broker, "--topic", "t", "--group", "g"))
    db = f"sqlite:{tmp_path / 'outbox.db'}"
    assert run("outbox", "init", "--db", db)[0] == 0
    assert_one_line_without_secret(*run("outbox", "relay", "--db", db, "--broker", broker, "--until-empty"))


@pytest.fixture(scope="module")
def not_a_registry() -> Iterator[str]:
    """A web server that is no schema registry (it answers 501/404 with HTML): what a wrong --url reaches."""
    class Quiet(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:  # its log would land on the stderr the test reads
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("command", ["push", "diff"])
def test_schema_push_and_diff_against_no_registry_are_one_line(command: str, repo_root: Path,
                                                               not_a_registry: str) -> None:
    schemas = str(repo_root / "schemas")
    line = assert_one_line_without_secret(*run("schema", command, "--url", f"http://127.0.0.1:{DEAD}",
                                               "--schemas", schemas))
    assert line.startswith(f"error: schema registry http://127.0.0.1:{DEAD}: cannot reach it")
    line = assert_one_line_without_secret(*run("schema", command, "--url", f"{not_a_registry}/?token={SECRET}",
                                               "--schemas", schemas))
    assert line.startswith(f"error: schema registry {not_a_registry}/?token=***: HTTP 50") or "HTTP 404" in line
    line = assert_one_line_without_secret(*run("schema", command, "--url", f"https://key:{SECRET}@127.0.0.1:{DEAD}",
                                               "--schemas", schemas))
    assert "credentials in the URL are not supported" in line
    line = assert_one_line_without_secret(*run("schema", command, "--url", "file:///etc/passwd",
                                               "--schemas", schemas))
    assert "expected http(s)://" in line


def test_a_huge_wrong_typed_payload_value_is_quoted_by_a_short_prefix(repo_root: Path, tmp_path: Path) -> None:
    payload = tmp_path / "big.json"
    payload.write_text(json.dumps({"event_id": "x", "event_time": "9" * 9_000_000, "order_id": ["y" * 1_000_000]}))
    code, out, err = run("schema", "validate", "--schema",
                         str(repo_root / "schemas/order-events/v1/order-placed.schema.json"), "--payload", str(payload))
    assert code == 1
    assert len(out) < 3000, len(out)
    assert "is not of type 'integer'" in out and "more characters)" in out


def test_a_huge_bad_value_in_a_spec_is_quoted_by_a_short_prefix(repo_root: Path, tmp_path: Path) -> None:
    spec = yaml.safe_load((repo_root / "configs/order-claim-check.yaml").read_text())
    spec["subscribers"]["invoicing"]["channel"] = "c" * 60_000
    spec["events"]["OrderPlaced"]["schema"] = "s" * 60_000
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(spec, width=10**9))
    for command in (["spec", "check"], ["lint"], ["routes"]):
        code, out, err = run(*command, str(path))
        assert code == 2 and len(err) < 3000, (command, len(err))
        assert "more characters)" in err


def test_validate_quotes_a_short_prefix_of_a_huge_bad_value(repo_root: Path, tmp_path: Path) -> None:
    import shutil

    for name in ("configs", "schemas"):
        shutil.copytree(repo_root / name, tmp_path / name)
    path = tmp_path / "configs/order-claim-check.yaml"
    spec = yaml.safe_load(path.read_text())
    spec["subscribers"]["invoicing"]["channel"] = "c" * 60_000
    path.write_text(yaml.safe_dump(spec, width=10**9))
    result = CliRunner().invoke(main, ["validate", str(tmp_path)])
    assert result.exit_code == 2, result.output[-2000:]
    assert len(result.output) < 20_000 < 60_000 and "more characters)" in result.output
