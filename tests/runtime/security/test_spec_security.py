"""The spec's security blocks: accepted with secret references, refused with a literal secret, read per
environment by spec_security and turned into client settings."""

from __future__ import annotations

from pathlib import Path

import pytest

from edakit.runtime.adapters.security import kafka_config, spec_security
from edakit.spec.errors import SpecError
from edakit.spec.loader import load_spec

SECURITY = """  security:
    sasl:
      mechanism: SCRAM-SHA-512
      username: order-service
      password: {env: ORDERS_KAFKA_PASSWORD}
"""


def spec_with(repo_root: Path, tmp_path: Path, security: str, environments: str = "") -> Path:
    text = (repo_root / "configs" / "order-events-kafka.yaml").read_text()
    text = text.replace("  min_insync_replicas: 2\n", "  min_insync_replicas: 2\n" + security, 1)
    path = tmp_path / "spec.yaml"
    path.write_text(text + environments)
    return path


def test_the_kafka_security_block_of_an_environment_becomes_client_settings(repo_root, tmp_path, monkeypatch):
    path = spec_with(repo_root, tmp_path, SECURITY)
    text = path.read_text().replace("  prod:\n    kafka:\n", "  prod:\n    kafka:\n      security:\n        sasl:\n"
                                    "          mechanism: SCRAM-SHA-256\n", 1)
    path.write_text(text)
    monkeypatch.setenv("ORDERS_KAFKA_PASSWORD", "pw")
    staging = spec_security(path, "staging", root=repo_root)["kafka"]
    prod = spec_security(path, "prod", root=repo_root)["kafka"]
    assert kafka_config(staging)["sasl.mechanism"] == "SCRAM-SHA-512"
    assert kafka_config(prod) | {"sasl.password": "?"} == {
        "security.protocol": "sasl_ssl", "ssl.endpoint.identification.algorithm": "https",
        "sasl.mechanism": "SCRAM-SHA-256", "sasl.username": "order-service", "sasl.password": "?"}


@pytest.mark.parametrize(("security", "key"), [
    (SECURITY.replace("{env: ORDERS_KAFKA_PASSWORD}", "hunter2"), "kafka.security.sasl.password"),
    (SECURITY.replace("{env: ORDERS_KAFKA_PASSWORD}", "{env: A, file: /b}"), "kafka.security.sasl.password"),
    (SECURITY.replace("SCRAM-SHA-512", "GSSAPI"), "kafka.security.sasl.mechanism"),
    ("  security:\n    tls:\n      cert_file: /etc/c.pem\n", "kafka.security.tls"),
])
def test_bad_security_blocks_are_spec_errors_naming_the_key(repo_root, tmp_path, security, key):
    with pytest.raises(SpecError) as caught:
        load_spec(spec_with(repo_root, tmp_path, security), root=repo_root)
    assert key in str(caught.value)
