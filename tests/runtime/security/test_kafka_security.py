"""Kafka security settings: the spec's `kafka.security` -> librdkafka settings on every client of a KafkaBroker.

What runs against a real broker here: Tansu 0.6.0 with `--authentication` (SASL SCRAM required). It cannot keep a
SCRAM user (see devservers.tansu_broker), so the test shows that the kit's clients perform the SCRAM exchange
(Tansu answers "unknown-user", which only a client that sent SCRAM gets) and report it without the password.
Tansu 0.6.0 serves no TLS (a TLS ClientHello is read as a Kafka frame; --cert/--key are parsed, never used) and
noida-db's Kafka service has no TLS or SASL options: mutual TLS runs end to end through a TLS listener in front of
Tansu (test_kafka_tls.py); PLAIN, OAUTHBEARER and MSK IAM are tested as the client configuration produced (and the
MSK IAM token as signed).
"""

from __future__ import annotations

import ast
import base64
import time
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edakit import devservers
from edakit.runtime.adapters.base import BrokerUnreachable
from edakit.runtime.adapters.kafka import KafkaBroker
from edakit.runtime.adapters.security import MAX_SECRET_BYTES, SecurityConfigError, kafka_config, secret

SCRAM = {"sasl": {"mechanism": "SCRAM-SHA-512", "username": "order-service", "password": {"env": "KAFKA_PW"}}}


@pytest.fixture(scope="module")
def tansu_scram():
    with devservers.tansu_broker(authentication=True) as bootstrap:
        yield bootstrap


def test_scram_over_tls_by_default_with_the_password_from_the_environment():
    config = kafka_config(SCRAM, env={"KAFKA_PW": "s3cr3t pw"})
    assert config == {"security.protocol": "sasl_ssl", "ssl.endpoint.identification.algorithm": "https",
                      "sasl.mechanism": "SCRAM-SHA-512", "sasl.username": "order-service",
                      "sasl.password": "s3cr3t pw"}


def test_a_secret_file_is_read_without_its_trailing_newline(tmp_path: Path):
    (tmp_path / "pw").write_text("from-a-file\n")
    block = {"protocol": "SASL_PLAINTEXT",
             "sasl": {"mechanism": "PLAIN", "username": {"env": "USER"}, "password": {"file": str(tmp_path / "pw")}}}
    config = kafka_config(block, env={"USER": "svc"})
    assert (config["security.protocol"], config["sasl.username"], config["sasl.password"]) == (
        "sasl_plaintext", "svc", "from-a-file")


def test_tls_with_a_client_certificate(tmp_path: Path):
    for name in ("ca.pem", "cert.pem", "key.pem"):
        (tmp_path / name).write_text("-----BEGIN X-----\n")
    block = {"tls": {"ca_file": str(tmp_path / "ca.pem"), "cert_file": str(tmp_path / "cert.pem"),
                     "key_file": str(tmp_path / "key.pem"), "key_password": {"env": "KEY_PW"}}}
    assert kafka_config(block, env={"KEY_PW": "kp"}) == {
        "security.protocol": "ssl", "ssl.ca.location": str(tmp_path / "ca.pem"),
        "ssl.certificate.location": str(tmp_path / "cert.pem"), "ssl.key.location": str(tmp_path / "key.pem"),
        "ssl.key.password": "kp", "ssl.endpoint.identification.algorithm": "https"}


def test_oauthbearer_uses_librdkafkas_oidc_flow():
    block = {"sasl": {"mechanism": "OAUTHBEARER", "token_endpoint_url": "https://login.example/token",
                      "client_id": "kafka-client", "client_secret": {"env": "CS"}, "scope": "kafka"}}
    config = kafka_config(block, env={"CS": "client-secret"})
    assert config["sasl.oauthbearer.method"] == "oidc"
    assert config["sasl.oauthbearer.client.secret"] == "client-secret"
    assert config["sasl.oauthbearer.scope"] == "kafka"


@pytest.mark.parametrize(("block", "env", "expected"), [
    (SCRAM, {}, "kafka.security.sasl.password: environment variable KAFKA_PW is not set or empty"),
    ({"sasl": {"mechanism": "PLAIN", "username": "u", "password": "hunter2"}}, {},
     "kafka.security.sasl.password: expected {env: NAME} or {file: PATH}"),
    ({"sasl": {"mechanism": "SCRAM-SHA-1"}}, {}, "kafka.security.sasl.mechanism: expected one of"),
    ({"protocol": "SSL", "sasl": SCRAM["sasl"]}, {}, "kafka.security.sasl: protocol SSL takes no sasl block"),
    ({"protocol": "SASL_SSL"}, {}, "kafka.security.sasl: protocol SASL_SSL needs a sasl block"),
    ({"protocol": "SASL_PLAINTEXT", "tls": {"verify_hostname": False}, "sasl": SCRAM["sasl"]}, {"KAFKA_PW": "x"},
     "kafka.security.tls: protocol SASL_PLAINTEXT is not encrypted"),
    ({"tls": {"cert_file": "/etc/hostname"}}, {}, "kafka.security.tls: a client certificate needs both"),
    ({"tls": {"ca_file": "/nonexistent/ca.pem"}}, {}, "kafka.security.tls.ca_file: expected a readable file"),
    ({"sasl": {"mechanism": "OAUTHBEARER", "token_endpoint_url": "http://idp/token", "client_id": "c",
               "client_secret": {"env": "CS"}}}, {}, "token_endpoint_url: expected an https:// URL"),
    ({"sasl": {"mechanism": "AWS_MSK_IAM"}}, {}, "kafka.security.sasl.aws_region: required for AWS_MSK_IAM"),
    ({"tls": {}, "ssl": {}}, {}, "kafka.security.ssl: unknown key"),
])
def test_bad_settings_are_one_line_naming_the_key(block, env, expected):
    with pytest.raises(SecurityConfigError) as caught:
        kafka_config(block, env=env)
    assert expected in str(caught.value) and "\n" not in str(caught.value)
    assert "hunter2" not in str(caught.value)


def test_secret_files_are_bounded_and_must_hold_text(tmp_path: Path):
    big, empty = tmp_path / "big", tmp_path / "empty"
    big.write_bytes(b"x" * (MAX_SECRET_BYTES + 1))
    empty.write_text("\n")
    with pytest.raises(SecurityConfigError, match=f"larger than {MAX_SECRET_BYTES} bytes"):
        secret({"file": str(big)}, "k")
    with pytest.raises(SecurityConfigError, match="is empty"):
        secret({"file": str(empty)}, "k")
    with pytest.raises(SecurityConfigError, match="cannot read secret file"):
        secret({"file": str(tmp_path / "missing")}, "k")


MISTAKES = [
    lambda sasl: {"sasl": {**sasl, "extra": "x"}},  # an unknown key next to the password
    lambda sasl: {"sasl": {k: v for k, v in sasl.items() if k != "username"}},  # a required key missing
    lambda sasl: {"protocol": "SASL_PLAINTEXT", "tls": {"verify_hostname": True}, "sasl": sasl},  # tls on plaintext
    lambda sasl: {"protocol": "SASL_SSL", "tls": {"verify_hostname": "yes"}, "sasl": sasl},  # a bad value
    lambda sasl: {"protocol": "SSL", "sasl": sasl},  # sasl where the protocol has none
]


@settings(max_examples=80, deadline=None)
@given(password=st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n\x00"),
                        min_size=4, max_size=40),
       from_file=st.booleans(), mistake=st.sampled_from(MISTAKES))
def test_any_password_reaches_the_client_exactly_and_no_error_quotes_it(tmp_path_factory, password, from_file,
                                                                        mistake):
    if from_file:
        path = tmp_path_factory.mktemp("s") / "pw"
        path.write_text(password + "\n", encoding="utf-8")
        ref, env = {"file": str(path)}, {}
    else:
        ref, env = {"env": "PW"}, {"PW": password}
    sasl = {"mechanism": "SCRAM-SHA-256", "username": "u", "password": ref}
    assert kafka_config({"sasl": sasl}, env=env)["sasl.password"] == password
    with pytest.raises(SecurityConfigError) as caught:
        kafka_config(mistake(sasl), env=env)
    assert password not in str(caught.value)


def test_every_client_of_a_secured_broker_gets_the_security_settings(monkeypatch):
    monkeypatch.setenv("KAFKA_PW", "pw")
    broker = KafkaBroker("127.0.0.1:1", security=SCRAM | {"protocol": "SASL_PLAINTEXT"},
                         producer_config={"linger.ms": 1})
    for config in (broker.client_config, broker.producer_config, broker.consumer_config):
        assert config["sasl.mechanism"] == "SCRAM-SHA-512" and config["security.protocol"] == "sasl_plaintext"


def test_kafka_adapter_builds_clients_only_from_the_brokers_settings():
    """The AdminClients of create_topics and of the DLQ replay lookup were built from bootstrap.servers alone (they
    would fail on a secured cluster): now AdminClient() is called in KafkaBroker.admin_client only, and Producer()
    and Consumer() only with settings derived from the broker's producer/consumer config."""
    import edakit.runtime.adapters.kafka as module

    tree = ast.parse(Path(module.__file__).read_text())
    calls: dict[str, list[str]] = {"AdminClient": [], "Producer": [], "Consumer": []}
    for function in ast.walk(tree):
        if isinstance(function, ast.FunctionDef):
            for node in ast.walk(function):
                if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in calls:
                    calls[node.func.id].append(f"{function.name}:{ast.unparse(node.args[0]) if node.args else ''}")
    assert [c.split(":")[0] for c in calls["AdminClient"]] == ["admin_client"]
    for call in calls["Producer"] + calls["Consumer"]:
        assert "config" in call.split(":", 1)[1], call


def test_a_scram_client_is_refused_by_tansu_and_the_reason_says_so_without_the_password(tansu_scram, monkeypatch):
    monkeypatch.setenv("EDAKIT_TEST_KAFKA_PW", "pw-not-for-logs-7f3a")
    broker = KafkaBroker(tansu_scram, security={"protocol": "SASL_PLAINTEXT", "sasl": {
        "mechanism": "SCRAM-SHA-512", "username": "order-service", "password": {"env": "EDAKIT_TEST_KAFKA_PW"}}})
    started = time.monotonic()
    with pytest.raises(BrokerUnreachable) as caught:
        broker.check_reachable(2)
    assert time.monotonic() - started < 5
    text = str(caught.value)
    assert "authentication failed" in text and "SCRAM" in text and "unknown-user" in text, text
    assert "pw-not-for-logs-7f3a" not in text
    # The same broker without security settings: refused too, but never through a SCRAM exchange.
    with pytest.raises(BrokerUnreachable) as plain:
        KafkaBroker(tansu_scram).check_reachable(2)
    assert "SCRAM" not in str(plain.value)


def test_msk_iam_signs_a_connect_token_with_the_aws_credential_chain(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAEXAMPLEKEY000001")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-a-real-secret")
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    config = kafka_config({"sasl": {"mechanism": "AWS_MSK_IAM", "aws_region": "eu-west-1"}})
    assert (config["security.protocol"], config["sasl.mechanism"]) == ("sasl_ssl", "OAUTHBEARER")
    token, expiry = config["oauth_cb"]("")
    url = urlparse(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode())
    query = parse_qs(url.query)
    assert url.netloc == "kafka.eu-west-1.amazonaws.com"
    assert query["Action"] == ["kafka-cluster:Connect"]
    assert query["X-Amz-Credential"][0].startswith("AKIAEXAMPLEKEY000001/")
    assert "X-Amz-Signature" in query
    assert time.time() < expiry <= time.time() + 16 * 60  # seconds, as librdkafka expects (the signer gives ms)


def test_msk_iam_with_a_role_assumes_it_through_sts(monkeypatch, moto_url):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_ENDPOINT_URL_STS", moto_url)
    config = kafka_config({"sasl": {"mechanism": "AWS_MSK_IAM", "aws_region": "eu-west-1",
                                    "aws_role_arn": "arn:aws:iam::123456789012:role/order-producer"}})
    token, _ = config["oauth_cb"]("")
    query = parse_qs(urlparse(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()).query)
    # moto's AssumeRole hands out ASIA... temporary keys and a session token: the token is signed with those.
    assert query["X-Amz-Credential"][0].startswith("ASIA")
    assert "X-Amz-Security-Token" in query
