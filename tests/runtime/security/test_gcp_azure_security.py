"""Pub/Sub credentials (`pubsub.security`: a service-account key file, ADC, impersonation) and the Event Grid
publisher's Entra ID credential (`event_grid.security`), offline: the service account's signed JWT is exchanged at a
local token endpoint that checks the signature with the account's public key (Google's JWT-bearer grant)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs

import jwt
import pytest
from azure.identity import ClientSecretCredential, DefaultAzureCredential, ManagedIdentityCredential
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from google.auth import impersonated_credentials
from google.auth.transport.requests import Request
from google.oauth2 import service_account

from edakit.runtime.adapters.pubsub import PubSubBroker
from edakit.runtime.adapters.security import SecurityConfigError, azure_credential, pubsub_credentials

SA_EMAIL = "order-consumer@orders-prod.iam.gserviceaccount.com"


@pytest.fixture(scope="module")
def token_endpoint() -> Iterator[tuple[str, rsa.RSAPrivateKey, list[dict]]]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    grants: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            form = parse_qs(self.rfile.read(int(self.headers["Content-Length"])).decode())
            try:
                # google-auth always names Google's token endpoint as the audience, wherever token_uri points.
                claims = jwt.decode(form["assertion"][0], key.public_key(), algorithms=["RS256"],
                                    audience="https://oauth2.googleapis.com/token")
                status, body = 200, {"access_token": "ya29.local", "expires_in": 3600, "token_type": "Bearer"}
            except jwt.InvalidTokenError as exc:
                claims, status, body = {}, 400, {"error": "invalid_grant", "error_description": str(exc)}
            grants.append({"grant_type": form.get("grant_type"), **claims})
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    url = f"http://127.0.0.1:{server.server_port}/token"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield url, key, grants
    finally:
        server.shutdown()
        server.server_close()


def key_file(tmp_path: Path, token_uri: str, key: rsa.RSAPrivateKey) -> Path:
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    path = tmp_path / "sa.json"
    path.write_text(json.dumps({"type": "service_account", "project_id": "orders-prod", "private_key_id": "k1",
                                "private_key": pem, "client_email": SA_EMAIL, "client_id": "1",
                                "token_uri": token_uri}))
    return path


def test_a_service_account_key_file_gets_a_token_with_its_signed_assertion(tmp_path, token_endpoint):
    url, key, grants = token_endpoint
    credentials = pubsub_credentials({"service_account_file": str(key_file(tmp_path, url, key))})
    assert isinstance(credentials, service_account.Credentials)
    assert credentials.service_account_email == SA_EMAIL
    credentials.refresh(Request())
    assert credentials.token == "ya29.local"
    grant = grants[-1]
    assert grant["grant_type"] == ["urn:ietf:params:oauth:grant-type:jwt-bearer"]
    assert (grant["iss"], grant["scope"]) == (SA_EMAIL, "https://www.googleapis.com/auth/pubsub")


def test_adc_reads_google_application_credentials(tmp_path, token_endpoint, monkeypatch):
    url, key, _ = token_endpoint
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(key_file(tmp_path, url, key)))
    credentials = pubsub_credentials(None)
    assert credentials.service_account_email == SA_EMAIL


def test_impersonation_wraps_the_source_credentials(tmp_path, token_endpoint):
    url, key, _ = token_endpoint
    target = "order-publisher@orders-prod.iam.gserviceaccount.com"
    credentials = pubsub_credentials({"service_account_file": str(key_file(tmp_path, url, key)),
                                      "impersonate_service_account": target})
    assert isinstance(credentials, impersonated_credentials.Credentials)
    assert credentials.service_account_email == target


def test_a_broker_hands_its_credentials_to_both_clients(tmp_path, token_endpoint):
    url, key, _ = token_endpoint
    credentials = pubsub_credentials({"service_account_file": str(key_file(tmp_path, url, key))})
    broker = PubSubBroker("orders-prod", credentials=credentials)
    publisher, subscriber = broker.publisher_client(), broker.subscriber_client()
    try:
        # What the gRPC channels sign with: the account's credentials (the library re-scopes a copy of them).
        for client in (publisher, subscriber):
            used = client._transport._credentials  # noqa: SLF001
            assert used.service_account_email == SA_EMAIL and used.signer_email == SA_EMAIL
    finally:
        publisher.transport.close()
        subscriber.close()


@pytest.mark.parametrize(("block", "expected"), [
    ({"service_account_file": "/nonexistent/sa.json"}, "pubsub.security.service_account_file: expected a readable"),
    ({"keyfile": "x"}, "pubsub.security.keyfile: unknown key"),
])
def test_bad_pubsub_settings_name_the_key(block, expected):
    with pytest.raises(SecurityConfigError, match=expected.replace(".", r"\.")):
        pubsub_credentials(block)


def test_a_key_file_that_is_no_service_account_is_one_line(tmp_path):
    path = tmp_path / "sa.json"
    path.write_text('{"type": "service_account"}')
    with pytest.raises(SecurityConfigError) as caught:
        pubsub_credentials({"service_account_file": str(path)})
    assert str(caught.value).startswith("pubsub.security.service_account_file: ") and "\n" not in str(caught.value)


def test_azure_credentials_by_kind(monkeypatch):
    monkeypatch.setenv("EG_SECRET", "sp-secret")
    assert isinstance(azure_credential(None), DefaultAzureCredential)
    assert isinstance(azure_credential({"credential": "managed_identity", "client_id": "mi"}),
                      ManagedIdentityCredential)
    credential = azure_credential({"credential": "client_secret", "tenant_id": "t-1", "client_id": "orders-pub",
                                   "client_secret": {"env": "EG_SECRET"}})
    assert isinstance(credential, ClientSecretCredential)


@pytest.mark.parametrize(("block", "expected"), [
    ({"credential": "client_secret", "tenant_id": "t", "client_id": "c", "client_secret": {"env": "EG_UNSET"}},
     "event_grid.security.client_secret: environment variable EG_UNSET is not set or empty"),
    ({"credential": "client_secret", "tenant_id": "t", "client_id": "c"},
     "event_grid.security.client_secret: required for credential: client_secret"),
    ({"credential": "access_key"}, "event_grid.security.credential: expected one of"),
    ({"client_secret": {"env": "X"}}, "event_grid.security.client_secret: only used with credential: client_secret"),
])
def test_bad_azure_settings_name_the_key(block, expected, monkeypatch):
    monkeypatch.delenv("EG_UNSET", raising=False)
    with pytest.raises(SecurityConfigError) as caught:
        azure_credential(block)
    assert str(caught.value).startswith(expected)
