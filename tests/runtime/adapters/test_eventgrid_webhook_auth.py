"""Event Grid webhook authentication: Entra ID bearer tokens and shared-secret delivery headers, over real HTTP.

The webhook is served by a ThreadingHTTPServer on 127.0.0.1 and called with http.client, as Event Grid calls it.
Tokens are real RS256 JWTs signed with RSA keys generated here (`cryptography`), shaped as Entra ID issues them for
a subscription with `active_directory_tenant_id`/`active_directory_app_id_or_uri` (v1: `iss`
https://sts.windows.net/<tenant>/, `appid`; v2: `iss` https://login.microsoftonline.com/<tenant>/v2.0, `azp`).
Other local servers stand for URLs an attacker could name (a token's `jku`/`x5u`, a validation event's
`validationUrl`): each counts the requests it gets, and the tests assert it got none.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import json
import logging
import ssl
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import jwt
import pytest
from adapter_conformance import event
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from hypothesis import given, settings
from hypothesis import strategies as st
from test_eventgrid_adapter import BATCH_CONTENT_TYPE, Recorder, _self_signed, batch_of

from edakit.runtime.adapters.eventgrid import (
    EVENT_GRID_APP_ID,
    VALIDATION_EVENT,
    EntraIdToken,
    EventGridWebhook,
    KeysUnavailable,
    SharedSecretHeader,
    fetch_jwks,
)
from edakit.runtime.cloudevents import to_structured

TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
OTHER_TENANT = "11111111-2222-3333-4444-555555555555"
APP_URI = "api://orders-email-webhook"
APP_ID = "9b2c6c38-5f5a-4c67-8a2e-4f6f0c1f5a11"
OTHER_APP = "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"  # another application registered in the same tenant
SECRET = "s3cr3t-delivery-header-value-0123456789"
V1_ISSUER = f"https://sts.windows.net/{TENANT}/"
V2_ISSUER = f"https://login.microsoftonline.com/{TENANT}/v2.0"


# --- keys and tokens --------------------------------------------------------------------------------------------

@dataclass
class SigningKey:
    kid: str
    private: rsa.RSAPrivateKey

    @property
    def jwk(self) -> dict[str, Any]:
        entry = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.private.public_key()))
        return {**entry, "kid": self.kid, "use": "sig"}  # as Entra ID publishes them: no alg, use sig

    @property
    def pem(self) -> bytes:
        return self.private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption())


def _rsa() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def tenant_key() -> SigningKey:
    return SigningKey("tenant-key-1", _rsa())


@pytest.fixture(scope="module")
def attacker_key() -> SigningKey:
    return SigningKey("tenant-key-1", _rsa())  # same kid as the tenant's: only the signature tells them apart


def jwks_of(*keys: SigningKey) -> dict[str, Any]:
    return {"keys": [k.jwk for k in keys]}


def claims(version: str = "v1", **overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    base: dict[str, Any] = {"aud": APP_URI, "tid": TENANT, "iat": now - 10, "nbf": now - 10, "exp": now + 3600}
    if version == "v1":
        base |= {"iss": V1_ISSUER, "appid": EVENT_GRID_APP_ID, "ver": "1.0"}
    else:
        base |= {"iss": V2_ISSUER, "azp": EVENT_GRID_APP_ID, "ver": "2.0", "aud": APP_ID}
    base |= overrides
    return {k: v for k, v in base.items() if v is not None}


def sign(key: SigningKey, payload: dict[str, Any], **header: Any) -> str:
    return jwt.encode(payload, key.pem, algorithm="RS256", headers={"kid": key.kid, **header})


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unsigned(header: dict[str, Any], payload: dict[str, Any], signature: bytes = b"") -> str:
    """A JWT assembled by hand, the way an attacker would: any alg, any signature."""
    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(payload).encode())}"
    return f"{signing_input}.{_b64(signature)}"


def hs256_with_public_key(key: SigningKey, payload: dict[str, Any]) -> str:
    """The algorithm-confusion attack: HMAC over the token with the (public) RSA key as the secret."""
    public_pem = key.private.public_key().public_bytes(serialization.Encoding.PEM,
                                                       serialization.PublicFormat.SubjectPublicKeyInfo)
    header = {"alg": "HS256", "typ": "JWT", "kid": key.kid}
    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(payload).encode())}"
    return f"{signing_input}.{_b64(hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest())}"


def entra(tenant_key: SigningKey, **options: Any) -> EntraIdToken:
    options.setdefault("jwks", jwks_of(tenant_key))
    return EntraIdToken(TENANT, options.pop("audience", (APP_URI, APP_ID)), **options)


# --- servers ----------------------------------------------------------------------------------------------------

@dataclass
class Served:
    """The webhook behind a real HTTP server; `webhook` is swapped per test."""

    port: int
    webhook: EventGridWebhook | None = None

    def request(self, method: str, headers: dict[str, str], body: bytes = b"") -> tuple[int, dict[str, str], bytes]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            connection.request(method, "/api/events", body=body, headers=headers)
            response = connection.getresponse()
            return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
        finally:
            connection.close()

    def post(self, headers: dict[str, str], body: bytes) -> int:
        return self.request("POST", headers, body)[0]


@pytest.fixture(scope="module")
def served() -> Iterator[Served]:
    state = Served(0)

    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            assert state.webhook is not None
            response = state.webhook(self.command, dict(self.headers.items()), body)
            self.send_response(response.status)
            for name, value in response.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(response.body)))
            self.end_headers()
            self.wfile.write(response.body)

        do_POST = do_OPTIONS = do_GET = _serve  # noqa: N815 - http.server's naming

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


@dataclass
class Bait:
    """A local server standing for a URL named in untrusted input; `hits` counts requests it got."""

    url: str
    body: bytes = b""
    hits: list[str] = field(default_factory=list)


@contextmanager
def bait_server(body: bytes = b"") -> Iterator[Bait]:
    bait = Bait("", body)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            bait.hits.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(bait.body)))
            self.end_headers()
            self.wfile.write(bait.body)

        do_POST = do_GET  # noqa: N815

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    bait.url = f"http://127.0.0.1:{server.server_address[1]}/"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield bait
    finally:
        server.shutdown()
        server.server_close()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Content-Type": BATCH_CONTENT_TYPE}


# --- Entra ID tokens over HTTP ----------------------------------------------------------------------------------

def test_a_valid_event_grid_token_is_delivered(served: Served, tenant_key: SigningKey) -> None:
    recorder = Recorder()
    served.webhook = EventGridWebhook(recorder, auth=entra(tenant_key))
    sent = event(1)
    assert served.post(bearer(sign(tenant_key, claims())), batch_of(sent)) == 200
    assert recorder.messages == [sent]


def test_without_a_token_the_answer_is_401_and_the_handler_sees_nothing(served: Served,
                                                                        tenant_key: SigningKey) -> None:
    recorder = Recorder()
    served.webhook = EventGridWebhook(recorder, auth=entra(tenant_key))
    # The issue's reproduction: a structured CloudEvent from /attacker with no credentials.
    forged = to_structured(event(1).__class__.new("com.example.order.placed", b"{}", source="/attacker"))
    status, headers, _ = served.request("POST", {"Content-Type": "application/cloudevents+json"}, forged)
    assert (status, headers["www-authenticate"]) == (401, "Bearer")
    assert served.post({"Authorization": "Basic dXNlcjpwdw==", "Content-Type": BATCH_CONTENT_TYPE},
                       batch_of(event(2))) == 401
    assert served.post({"Authorization": "Bearer ", "Content-Type": BATCH_CONTENT_TYPE}, batch_of(event(3))) == 401
    assert recorder.messages == []


@pytest.mark.parametrize("forge", [
    pytest.param(lambda key, attacker: sign(attacker, claims()), id="signed-by-another-key-same-kid"),
    pytest.param(lambda key, attacker: sign(key, claims(aud="api://some-other-api")), id="wrong-aud"),
    pytest.param(lambda key, attacker: sign(key, claims(iss=f"https://sts.windows.net/{OTHER_TENANT}/")),
                 id="wrong-iss"),
    pytest.param(lambda key, attacker: sign(key, claims(iss=V2_ISSUER)), id="v2-iss-on-a-v1-webhook"),
    pytest.param(lambda key, attacker: sign(key, claims(tid=OTHER_TENANT)), id="wrong-tid"),
    pytest.param(lambda key, attacker: sign(key, claims(tid=None)), id="no-tid"),
    pytest.param(lambda key, attacker: sign(key, claims(exp=int(time.time()) - 600)), id="expired"),
    pytest.param(lambda key, attacker: sign(key, claims(nbf=int(time.time()) + 600)), id="not-yet-valid"),
    pytest.param(lambda key, attacker: sign(key, claims(exp=None)), id="no-exp"),
    pytest.param(lambda key, attacker: sign(key, claims(appid=OTHER_APP)), id="other-app-in-the-tenant"),
    pytest.param(lambda key, attacker: sign(key, claims(appid=None, azp=EVENT_GRID_APP_ID)),
                 id="v1-token-with-azp-instead-of-appid"),
    pytest.param(lambda key, attacker: unsigned({"alg": "none", "typ": "JWT", "kid": key.kid}, claims()),
                 id="alg-none"),
    pytest.param(lambda key, attacker: hs256_with_public_key(key, claims()), id="hs256-with-the-public-key"),
    pytest.param(lambda key, attacker: sign(key, claims(), kid="unknown-kid"), id="unknown-kid"),
    pytest.param(lambda key, attacker: "not.a.jwt", id="garbage"),
    pytest.param(lambda key, attacker: "x" * 20_000, id="oversized"),
])
def test_forged_or_misdirected_tokens_are_403(served: Served, tenant_key: SigningKey, attacker_key: SigningKey,
                                              forge: Callable[[SigningKey, SigningKey], str]) -> None:
    recorder = Recorder()
    served.webhook = EventGridWebhook(recorder, auth=entra(tenant_key))
    assert served.post(bearer(forge(tenant_key, attacker_key)), batch_of(event(1))) == 403
    assert recorder.messages == []


@pytest.mark.parametrize("header", ["jku", "x5u"])
def test_a_key_url_in_the_token_is_never_fetched(served: Served, attacker_key: SigningKey, tenant_key: SigningKey,
                                                 header: str) -> None:
    attacker = SigningKey("attacker-kid", attacker_key.private)
    recorder = Recorder()
    with bait_server(json.dumps(jwks_of(attacker)).encode()) as keys_url:
        # Both with a fixed JWKS and with a fetcher for the tenant's own keys URL: neither looks at the token's URL.
        for auth in (entra(tenant_key), entra(tenant_key, jwks=None, jwks_fetcher=lambda url: jwks_of(tenant_key))):
            served.webhook = EventGridWebhook(recorder, auth=auth)
            token = sign(attacker, claims(), **{header: keys_url.url + "keys"})
            assert served.post(bearer(token), batch_of(event(1))) == 403
        assert keys_url.hits == []
    assert recorder.messages == []


def test_an_embedded_x5c_certificate_is_not_trusted(served: Served, tenant_key: SigningKey,
                                                    attacker_key: SigningKey) -> None:
    served.webhook = EventGridWebhook(Recorder(), auth=entra(tenant_key))
    with tempfile.TemporaryDirectory() as directory:
        cert, _ = _self_signed(Path(directory))
        der = ssl.PEM_cert_to_DER_cert(cert.read_text())
    token = sign(attacker_key, claims(), x5c=[base64.b64encode(der).decode()])
    assert served.post(bearer(token), batch_of(event(1))) == 403


def test_v2_tokens_carry_the_caller_in_azp(served: Served, tenant_key: SigningKey) -> None:
    recorder = Recorder()
    served.webhook = EventGridWebhook(recorder, auth=entra(tenant_key, issuer_version="v2"))
    assert served.post(bearer(sign(tenant_key, claims("v2"))), batch_of(event(1))) == 200
    assert served.post(bearer(sign(tenant_key, claims("v2", azp=OTHER_APP))), batch_of(event(2))) == 403
    assert served.post(bearer(sign(tenant_key, claims("v1"))), batch_of(event(3))) == 403  # v1 issuer
    assert len(recorder.messages) == 1


def test_a_required_app_role_admits_another_caller_only_when_configured(served: Served,
                                                                        tenant_key: SigningKey) -> None:
    role = "AzureEventGridSecureWebhookSubscriber"
    with_role = sign(tenant_key, claims(appid=OTHER_APP, roles=[role]))
    served.webhook = EventGridWebhook(Recorder(), auth=entra(tenant_key))
    assert served.post(bearer(with_role), batch_of(event(1))) == 403  # default: Event Grid's application only
    served.webhook = EventGridWebhook(Recorder(), auth=entra(tenant_key, allowed_client_ids=(),
                                                                   required_roles=(role,)))
    assert served.post(bearer(with_role), batch_of(event(1))) == 200
    other_role = sign(tenant_key, claims(appid=OTHER_APP, roles=["Reader"]))
    assert served.post(bearer(other_role), batch_of(event(1))) == 403


def test_keys_are_fetched_from_the_tenant_url_once_and_refreshed_for_a_rotated_kid(
        served: Served, tenant_key: SigningKey) -> None:
    rotated = SigningKey("tenant-key-2", _rsa())
    published = [jwks_of(tenant_key)]
    fetched: list[str] = []

    def fetcher(url: str) -> dict[str, Any]:
        fetched.append(url)
        return published[-1]

    auth = entra(tenant_key, jwks=None, jwks_fetcher=fetcher, min_refresh_seconds=0.5)
    served.webhook = EventGridWebhook(Recorder(), auth=auth)
    assert served.post(bearer(sign(tenant_key, claims())), batch_of(event(1))) == 200
    assert served.post(bearer(sign(tenant_key, claims())), batch_of(event(2))) == 200
    assert fetched == [f"https://login.microsoftonline.com/{TENANT}/discovery/keys"]
    forged_kid = sign(rotated, claims(), kid="forged")
    assert served.post(bearer(forged_kid), batch_of(event(3))) == 403
    assert len(fetched) == 1  # an unknown kid within the refresh interval fetches nothing
    published.append(jwks_of(tenant_key, rotated))  # Entra ID rotates its keys
    time.sleep(0.6)
    # After the interval one unknown kid fetches once; more unknown kids do not: forged kids cannot hammer the URL.
    assert [served.post(bearer(forged_kid), batch_of(event(4))) for _ in range(3)] == [403, 403, 403]
    assert len(fetched) == 2
    assert served.post(bearer(sign(rotated, claims())), batch_of(event(5))) == 200  # learnt with that fetch
    assert len(fetched) == 2


def test_unreachable_keys_are_503_so_event_grid_retries(served: Served, tenant_key: SigningKey) -> None:
    def down(url: str) -> dict[str, Any]:
        raise OSError("connection refused")

    recorder = Recorder()
    served.webhook = EventGridWebhook(recorder, auth=entra(tenant_key, jwks=None, jwks_fetcher=down))
    status, headers, _ = served.request("POST", bearer(sign(tenant_key, claims())), batch_of(event(1)))
    assert (status, headers["retry-after"]) == (503, "30")
    assert recorder.messages == []


# --- shared secret header ---------------------------------------------------------------------------------------

def test_shared_secret_header_right_wrong_missing(served: Served) -> None:
    recorder = Recorder()
    served.webhook = EventGridWebhook(recorder, auth=SharedSecretHeader("X-Delivery-Secret", SECRET))
    headers = {"Content-Type": BATCH_CONTENT_TYPE}
    assert served.post({**headers, "x-delivery-secret": SECRET}, batch_of(event(1))) == 200
    assert served.post({**headers, "X-Delivery-Secret": SECRET + "x"}, batch_of(event(2))) == 403
    assert served.post({**headers, "X-Delivery-Secret": SECRET[:-1]}, batch_of(event(3))) == 403
    assert served.post({**headers, "X-Delivery-Secret": ""}, batch_of(event(4))) == 403
    assert served.post(headers, batch_of(event(5))) == 401
    assert [m.payload for m in recorder.messages] == [b'{"n":1}']


def test_rotation_accepts_old_and_new_secret_and_both_checks_must_pass(served: Served,
                                                                       tenant_key: SigningKey) -> None:
    new = "n3w-delivery-header-value-9876543210"
    recorder = Recorder()
    served.webhook = EventGridWebhook(recorder, auth=SharedSecretHeader("X-Delivery-Secret", [SECRET, new]))
    for secret in (SECRET, new):
        assert served.post({"Content-Type": BATCH_CONTENT_TYPE, "X-Delivery-Secret": secret}, batch_of(event(1))) \
            == 200
    served.webhook = EventGridWebhook(recorder, auth=[entra(tenant_key), SharedSecretHeader("X-Delivery-Secret",
                                                                                            SECRET)])
    token = sign(tenant_key, claims())
    assert served.post({**bearer(token), "X-Delivery-Secret": SECRET}, batch_of(event(2))) == 200
    assert served.post(bearer(token), batch_of(event(3))) == 401
    assert served.post({**bearer(token), "X-Delivery-Secret": new}, batch_of(event(4))) == 403
    assert served.post({"Content-Type": BATCH_CONTENT_TYPE, "X-Delivery-Secret": SECRET}, batch_of(event(5))) == 401
    assert len(recorder.messages) == 3


def test_secret_header_settings_are_checked() -> None:
    with pytest.raises(ValueError, match="at least 16"):
        SharedSecretHeader("X-Delivery-Secret", "short")
    with pytest.raises(ValueError, match="aeg-"):
        SharedSecretHeader("aeg-secret", SECRET)
    with pytest.raises(ValueError, match="HTTP header name"):
        SharedSecretHeader("X Secret", SECRET)


# --- validation handshakes ----------------------------------------------------------------------------------------

def validation_event(validation_url: str) -> bytes:
    return json.dumps([{"id": "2d1781af", "topic": "/subscriptions/x", "subject": "", "eventType": VALIDATION_EVENT,
                        "eventTime": "2018-01-25T22:12:19.4556811Z", "metadataVersion": "1", "dataVersion": "1",
                        "data": {"validationCode": "512d38b6-c7b8-40c8-89fe-f46f9e9622b6",
                                 "validationUrl": validation_url}}]).encode()


def test_handshakes_need_the_same_credentials_and_never_fetch_the_validation_url(
        served: Served, tenant_key: SigningKey) -> None:
    recorder = Recorder()
    served.webhook = EventGridWebhook(recorder, auth=entra(tenant_key))
    token = sign(tenant_key, claims())
    with bait_server() as validation_url:
        body = validation_event(validation_url.url + "validate?code=x")
        validation = {"aeg-event-type": "SubscriptionValidation", "Content-Type": "application/json"}
        assert served.post(validation, body) == 401
        assert served.post({**validation, "Authorization": f"Bearer {sign(tenant_key, claims(appid=OTHER_APP))}"},
                           body) == 403
        status, _, answer = served.request("POST", {**validation, "Authorization": f"Bearer {token}"}, body)
        assert (status, json.loads(answer)) == (200, {"validationResponse": "512d38b6-c7b8-40c8-89fe-f46f9e9622b6"})
        assert validation_url.hits == []
    origin = {"WebHook-Request-Origin": "eventgrid.azure.net"}
    assert served.request("OPTIONS", origin)[0] == 401
    status, headers, _ = served.request("OPTIONS", {**origin, "Authorization": f"Bearer {token}"})
    assert (status, headers["webhook-allowed-origin"]) == (200, "eventgrid.azure.net")
    assert recorder.messages == []


def test_the_secret_header_guards_the_handshakes_too(served: Served) -> None:
    served.webhook = EventGridWebhook(Recorder(), auth=SharedSecretHeader("X-Delivery-Secret", SECRET))
    body = validation_event("https://rp-eastus2.eventgrid.azure.net/x")
    validation = {"aeg-event-type": "SubscriptionValidation", "Content-Type": "application/json"}
    assert served.post(validation, body) == 401
    assert served.post({**validation, "X-Delivery-Secret": "wrong-secret-of-enough-length"}, body) == 403
    assert served.post({**validation, "X-Delivery-Secret": SECRET}, body) == 200
    assert served.request("OPTIONS", {"WebHook-Request-Origin": "eventgrid.azure.net"})[0] == 401


# --- construction -------------------------------------------------------------------------------------------------

def test_authentication_is_required_and_its_absence_is_loud(caplog: pytest.LogCaptureFixture,
                                                            tenant_key: SigningKey) -> None:
    with pytest.raises(ValueError, match="needs auth=EntraIdToken"):
        EventGridWebhook(Recorder())
    with pytest.raises(ValueError, match="contradict"):
        EventGridWebhook(Recorder(), auth=entra(tenant_key), allow_unauthenticated=True)
    with caplog.at_level(logging.WARNING, logger="edakit.runtime.adapters.eventgrid"):
        webhook = EventGridWebhook(Recorder(), allow_unauthenticated=True)
    assert "allow_unauthenticated=True" in caplog.text and "any client" in caplog.text
    assert webhook("POST", {"content-type": BATCH_CONTENT_TYPE}, batch_of(event(1))).status == 200


def test_entra_settings_are_checked(tenant_key: SigningKey) -> None:
    with pytest.raises(ValueError, match="GUID"):
        EntraIdToken("contoso.onmicrosoft.com/../evil", APP_URI, jwks=jwks_of(tenant_key))
    with pytest.raises(ValueError, match="exactly one of jwks"):
        EntraIdToken(TENANT, APP_URI)
    with pytest.raises(ValueError, match="v1 or v2"):
        EntraIdToken(TENANT, APP_URI, issuer_version="v3", jwks=jwks_of(tenant_key))
    with pytest.raises(ValueError, match="no caller"):
        EntraIdToken(TENANT, APP_URI, allowed_client_ids=(), jwks=jwks_of(tenant_key))


# --- fetch_jwks over HTTPS ----------------------------------------------------------------------------------------

@contextmanager
def https_server(routes: dict[str, tuple[int, dict[str, str], bytes]]) -> Iterator[tuple[str, ssl.SSLContext]]:
    with tempfile.TemporaryDirectory() as directory:
        cert_file, key_file = _self_signed(Path(directory))

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                status, headers, body = routes.get(self.path, (404, {}, b""))
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        server_context.load_cert_chain(cert_file, key_file)
        server.socket = server_context.wrap_socket(server.socket, server_side=True)
        client_context = ssl.create_default_context(cafile=str(cert_file))
        thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
        thread.start()
        try:
            yield f"https://127.0.0.1:{server.server_address[1]}", client_context
        finally:
            server.shutdown()
            server.server_close()


def test_fetch_jwks_is_https_only_bounded_and_follows_no_redirect(tenant_key: SigningKey) -> None:
    document = json.dumps(jwks_of(tenant_key)).encode()
    with bait_server() as elsewhere:
        routes = {"/keys": (200, {"Content-Type": "application/json"}, document),
                  "/big": (200, {}, b"[" + b" " * 300_000 + b"]"),
                  "/moved": (302, {"Location": elsewhere.url + "keys"}, b"")}
        with https_server(routes) as (base, context):
            assert fetch_jwks(base + "/keys", ssl_context=context) == jwks_of(tenant_key)
            with pytest.raises(KeysUnavailable, match="over 262144 bytes"):
                fetch_jwks(base + "/big", ssl_context=context)
            with pytest.raises(KeysUnavailable, match="not followed"):
                fetch_jwks(base + "/moved", ssl_context=context)
            # The fetcher as the webhook uses it: keys from the configured URL verify a real token.
            auth = EntraIdToken(TENANT, APP_URI, jwks_fetcher=lambda url: fetch_jwks(base + "/keys",
                                                                                     ssl_context=context))
            auth.check({"authorization": f"Bearer {sign(tenant_key, claims())}"})
        assert elsewhere.hits == []
    with pytest.raises(ValueError, match="only https"):
        fetch_jwks(elsewhere.url + "keys")


# --- properties ---------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def doubly_guarded(tenant_key: SigningKey) -> tuple[Recorder, EventGridWebhook, str]:
    recorder = Recorder()
    webhook = EventGridWebhook(recorder, auth=[entra(tenant_key), SharedSecretHeader("x-delivery-secret", SECRET)])
    return recorder, webhook, sign(tenant_key, claims())


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_no_tampered_token_or_stray_header_gets_through(doubly_guarded: tuple[Recorder, EventGridWebhook, str],
                                                        data: st.DataObject) -> None:
    recorder, webhook, token = doubly_guarded
    recorder.deliveries.clear()
    position = data.draw(st.integers(0, len(token) - 1))
    replacement = data.draw(st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_."))
    tampered = token[:position] + replacement + token[position + 1:]
    secret = data.draw(st.one_of(st.just(SECRET), st.text(max_size=60)))
    headers = {"content-type": BATCH_CONTENT_TYPE, "authorization": f"Bearer {tampered}", "x-delivery-secret": secret}
    status = webhook("POST", headers, batch_of(event(1))).status
    if tampered == token and secret == SECRET:
        assert status == 200 and len(recorder.messages) == 1
    elif same_token(tampered, token) and secret == SECRET:
        assert status in (200, 403)  # the same bytes in a non-canonical encoding: accepting it changes nothing
    else:
        assert status in (401, 403), (position, replacement, secret)
        assert recorder.messages == []


def same_token(a: str, b: str) -> bool:
    """Whether two JWTs decode to the same bytes: base64url's last character of a segment can carry unused bits,
    so changing it may leave the token as it was."""
    def segments(token: str) -> list[bytes] | None:
        try:
            return [base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)) for part in token.split(".")]
        except ValueError:
            return None

    return segments(a) is not None and segments(a) == segments(b)
