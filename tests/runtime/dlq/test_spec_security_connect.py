"""`edakit outbox relay --spec` and `edakit dlq replay --spec` connect with the spec's broker `security` block: a
kafka:// URL carries no TLS or SASL settings, the spec does."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from edakit.brokers import PROFILES
from edakit.cli import main
from edakit.cli.dlq import connect_with_spec
from edakit.runtime.adapters.base import BrokerError

REPO = Path(__file__).resolve().parents[3]
ANCHOR = "  min_insync_replicas: 2\n"


def kafka_spec(tmp_path: Path, security: str) -> Path:
    text = (REPO / "configs" / "order-events-kafka.yaml").read_text()
    assert ANCHOR in text
    if not (tmp_path / "schemas").exists():  # the spec's event schemas, relative to the spec's root
        (tmp_path / "schemas").symlink_to(REPO / "schemas")
    path = tmp_path / "spec.yaml"
    path.write_text(text.replace(ANCHOR, ANCHOR + security, 1))
    return path


SASL = ("  security:\n    protocol: SASL_PLAINTEXT\n    sasl:\n      mechanism: PLAIN\n      username: relay\n"
        "      password: {env: RELAY_KAFKA_PASSWORD}\n")


def test_every_url_profile_opens_with_a_security_block():
    assert {name for name, p in PROFILES.items() if p.open_url is not None} == {"kafka", "sqs-sns", "pubsub"}


def test_the_specs_sasl_block_reaches_the_kafka_clients_of_the_url(tmp_path, tansu_bootstrap, monkeypatch):
    monkeypatch.setenv("RELAY_KAFKA_PASSWORD", "pw-from-env")
    monkeypatch.setenv("EDAKIT_CONNECT_TIMEOUT", "1.5")
    spec = kafka_spec(tmp_path, SASL)
    plain = connect_with_spec(f"kafka://{tansu_bootstrap}", None, None)
    assert "sasl.mechanism" not in plain.client_config
    with pytest.raises(BrokerError) as caught:  # Tansu's listener speaks no SASL: only the spec's client fails
        connect_with_spec(f"kafka://{tansu_bootstrap}", spec, None)
    assert "pw-from-env" not in str(caught.value)


def test_outbox_relay_connects_with_the_specs_tls_and_without_spec_in_plaintext(tmp_path, tansu_bootstrap,
                                                                                 monkeypatch):
    monkeypatch.setenv("EDAKIT_CONNECT_TIMEOUT", "1.5")
    db = f"sqlite:{tmp_path / 'outbox.sqlite3'}"
    runner = CliRunner()
    assert runner.invoke(main, ["outbox", "init", "--db", db]).exit_code == 0
    relay = ["outbox", "relay", "--db", db, "--broker", f"kafka://{tansu_bootstrap}", "--until-empty"]
    plain = runner.invoke(main, relay)
    assert plain.exit_code == 0, plain.output
    tls = runner.invoke(main, [*relay, "--spec", str(kafka_spec(tmp_path, "  security:\n    protocol: SSL\n"))])
    assert tls.exit_code == 2, tls.output
    assert tls.output.startswith("error: ") and len(tls.output.strip().splitlines()) == 1


def test_a_bad_security_block_is_one_line_naming_the_key(tmp_path, tansu_bootstrap):
    bad = kafka_spec(tmp_path, "  security:\n    protocol: SSL\n    tls:\n      ca_file: /nonexistent/ca.pem\n")
    result = CliRunner().invoke(main, ["dlq", "replay", "--broker", f"kafka://{tansu_bootstrap}", "--topic", "t",
                                       "--group", "g", "--spec", str(bad), "--dry-run"])
    assert result.exit_code == 2
    assert "kafka.security.tls.ca_file" in result.output and "Traceback" not in result.output
