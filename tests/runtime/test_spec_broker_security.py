"""spec_broker(spec) opens the spec's broker with the spec's `security` block, not only its address."""

from __future__ import annotations

import json
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from edakit.runtime.settings import broker_settings, spec_broker
from edakit.spec import load_spec

KAFKA_SASL = """  security:
    sasl:
      mechanism: SCRAM-SHA-512
      username: order-service
      password: {env: ORDERS_KAFKA_PASSWORD}
"""


def _spec(repo_root: Path, tmp_path: Path, config: str, anchor: str, block: str) -> Path:
    text = (repo_root / "configs" / config).read_text()
    assert anchor in text
    path = tmp_path / config
    path.write_text(text.replace(anchor, anchor + block, 1))
    return path


def test_kafka_clients_authenticate_with_the_specs_sasl_block(repo_root, tmp_path, monkeypatch):
    monkeypatch.setenv("ORDERS_KAFKA_PASSWORD", "pw-from-env")
    path = _spec(repo_root, tmp_path, "order-events-kafka.yaml", "  min_insync_replicas: 2\n", KAFKA_SASL)
    broker = spec_broker(load_spec(path, root=repo_root))
    assert broker.client_config["security.protocol"] == "sasl_ssl"
    assert broker.client_config["sasl.mechanism"] == "SCRAM-SHA-512"
    assert broker.client_config["sasl.password"] == "pw-from-env"
    assert broker.consumer_config["sasl.username"] == "order-service"


def test_a_spec_without_security_opens_a_plaintext_kafka_client(repo_root):
    broker = spec_broker(load_spec(repo_root / "configs" / "order-events-kafka.yaml", root=repo_root))
    assert "security.protocol" not in broker.client_config
    assert broker_settings(load_spec(repo_root / "configs" / "order-events-kafka.yaml", root=repo_root)).security \
        is None


def test_sqs_sns_acts_as_the_specs_role(repo_root, tmp_path, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    block = "  security:\n    role_arn: arn:aws:iam::123456789012:role/orders-publisher\n"
    path = _spec(repo_root, tmp_path, "order-events-sns.yaml", "  region: eu-west-1\n", block)
    broker = spec_broker(load_spec(path, root=repo_root))
    credentials = broker._session.get_credentials()  # noqa: SLF001 - the session the adapter's clients come from
    assert credentials.method == "assume-role"  # deferred: STS is called on first use, not here
    assert broker._session.region_name == "eu-west-1"  # noqa: SLF001


def test_pubsub_uses_the_specs_service_account(repo_root, tmp_path):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    key_file = tmp_path / "sa.json"
    email = "orders@orders-platform.iam.gserviceaccount.com"
    key_file.write_text(json.dumps({"type": "service_account", "project_id": "orders-platform",
                                    "private_key_id": "k1", "private_key": pem, "client_email": email,
                                    "client_id": "1", "token_uri": "http://127.0.0.1:9/token"}))
    block = f"  security:\n    service_account_file: {key_file}\n"
    path = _spec(repo_root, tmp_path, "order-events-pubsub.yaml", "  project_id: orders-platform\n", block)
    broker = spec_broker(load_spec(path, root=repo_root))
    assert broker.credentials is not None and broker.credentials.service_account_email == email
    assert broker.project == "orders-platform"
