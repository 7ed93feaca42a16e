"""Pub/Sub push receiver: forged requests signed with locally generated RSA keys, the DLQ on pstest, a real WSGI server.

Tokens are made as Google makes them (RS256 JWT with kid, iss, aud, email, email_verified, iat, exp) with
google-auth's own signer; the receiver verifies them against the public keys given to it, never a URL.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import threading
import time
import uuid
from collections.abc import Iterator, Mapping
from pathlib import Path
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from google.auth import crypt
from google.auth import jwt as google_jwt
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jwt.algorithms import RSAAlgorithm

from edakit.runtime.adapters.base import DLQ_REASON_KEY, DeadLetterReason
from edakit.runtime.adapters.pubsub import PubSubBroker, encode
from edakit.runtime.adapters.pubsub_push import (
    ACKED,
    GoogleOidcToken,
    PubSubPushReceiver,
    google_certs_file,
    parse_envelope,
    wsgi_app,
)
from edakit.runtime.message import Message
from edakit.runtime.middleware import RetryPolicy, compose, retry
from edakit.spec import load_spec

ROOT = Path(__file__).resolve().parents[3]
AUDIENCE = "https://email.orders.example.com/pubsub/push"
ACCOUNT = "email-push@orders-platform.iam.gserviceaccount.com"
SUBSCRIPTION = "orders-order-placed-email"
KID = "k1"


def _key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


GOOGLE_KEY, OTHER_KEY = _key(), _key()


def pem(key: rsa.RSAPrivateKey) -> str:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


def public_pem(key: rsa.RSAPrivateKey) -> str:
    return key.public_key().public_bytes(serialization.Encoding.PEM,
                                         serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def x509_pem(key: rsa.RSAPrivateKey) -> str:
    """A self-signed certificate, the form of Google's oauth2/v1/certs document."""
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test-google-signer")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(1).not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=1))
            .sign(key, hashes.SHA256()))
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def token(key: rsa.RSAPrivateKey = GOOGLE_KEY, kid: str = KID, **claims: object) -> str:
    now = int(time.time())
    payload = {"aud": AUDIENCE, "azp": "1137", "email": ACCOUNT, "email_verified": True, "iat": now,
               "exp": now + 3600, "iss": "https://accounts.google.com", "sub": "1137", **claims}
    payload = {name: value for name, value in payload.items() if value is not None}
    signer = crypt.RSASigner.from_string(pem(key), key_id=kid)
    return google_jwt.encode(signer, payload).decode()


def auth(**options: object) -> GoogleOidcToken:
    options.setdefault("certs", {KID: public_pem(GOOGLE_KEY)})
    return GoogleOidcToken(AUDIENCE, ACCOUNT, **options)


def envelope(message: Message, *, attempt: int | None = 1, subscription: str = SUBSCRIPTION,
             extra: Mapping[str, str] | None = None) -> bytes:
    data, attributes = encode(message, extra)
    body: dict[str, object] = {
        "message": {"data": base64.b64encode(data).decode(), "attributes": attributes, "messageId": "1234",
                    "message_id": "1234", "publishTime": "2026-12-04T10:00:00.123Z",
                    "publish_time": "2026-12-04T10:00:00.123Z", "orderingKey": message.key or ""},
        "subscription": f"projects/orders-platform/subscriptions/{subscription}"}
    if attempt is not None:
        body["deliveryAttempt"] = attempt
    return json.dumps(body).encode()


def request_headers(bearer: str | None = None) -> dict[str, str]:
    headers = {"Content-Type": "application/json"}
    if bearer is not None:
        headers["Authorization"] = f"Bearer {bearer}"
    return headers


class Publisher:
    """Records dead-letter publishes (the pstest tests below use the real PubSubPublisher)."""

    def __init__(self) -> None:
        self.published: list[tuple[str, Message, Mapping[str, str]]] = []

    def publish(self, topic: str, messages: list[Message], extra: Mapping[str, str] | None = None) -> None:
        self.published.extend((topic, m, dict(extra or {})) for m in messages)


def receiver(handler, **options) -> PubSubPushReceiver:  # noqa: ANN001 - a handler
    options.setdefault("auth", auth())
    options.setdefault("dead_letter_publisher", Publisher())
    return PubSubPushReceiver(handler, subscription=SUBSCRIPTION, dead_letter_topic=f"{SUBSCRIPTION}-dlq", **options)


def order(**fields: object) -> Message:
    return Message.new("OrderPlaced", b'{"order_id": "o-1"}', source="/orders", key="o-1",
                       headers={"traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}, **fields)


def test_an_authentic_push_reaches_the_handler_as_the_pull_adapter_decodes_it() -> None:
    seen = []
    sent = order(subject="o-1")
    response = receiver(seen.append)("POST", request_headers(token()), envelope(sent, attempt=3))
    assert response.status == ACKED == 204
    [delivery] = seen
    assert delivery.message == sent and dict(delivery.message.headers) == dict(sent.headers)
    assert (delivery.message.payload, delivery.message.key, delivery.message.subject) == (sent.payload, "o-1", "o-1")
    assert delivery.attempt == 3 and delivery.source == SUBSCRIPTION
    assert dict(delivery.metadata) == {"message_id": "1234", "publish_time": "2026-12-04T10:00:00.123Z",
                                       "subscription": SUBSCRIPTION, "ordering_key": "o-1"}


def test_without_delivery_attempt_the_attempt_is_one() -> None:
    seen = []
    assert receiver(seen.append)("POST", request_headers(token()), envelope(order(), attempt=None)).status == 204
    assert seen[0].attempt == 1


@pytest.mark.parametrize(("bearer", "detail"), [
    (token(aud="https://other.example.com/push"), "audience"),
    (token(iss="https://evil.example.com"), "iss"),
    (token(email="someone@other.iam.gserviceaccount.com"), "email"),
    (token(email_verified=False), "not verified"),
    (token(email_verified="true"), "not verified"),
    (token(iat=int(time.time()) - 7200, exp=int(time.time()) - 3600), "expired"),
    (token(exp=None), "exp"),
    (token(key=OTHER_KEY), "signature"),
    (token(kid="unknown"), "not a Google signing key"),
    ("a" * 9000, "characters"),
    ("not-a-jwt", "not a JWT"),
])
def test_a_forged_or_wrong_token_is_refused_403_before_the_handler(bearer: str, detail: str,
                                                                    caplog: pytest.LogCaptureFixture) -> None:
    seen = []
    response = receiver(seen.append)("POST", request_headers(bearer), envelope(order()))
    assert (response.status, response.body) == (403, b"token refused") and seen == []
    assert detail in caplog.text  # the reason is in the log only


def _unsigned(header: dict, claims: dict, signature: bytes) -> str:
    def part(raw: bytes) -> str:
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
    return ".".join([part(json.dumps(header).encode()), part(json.dumps(claims).encode()), part(signature)])


@pytest.mark.parametrize("alg", ["none", "HS256", "ES256"])
def test_a_token_in_another_algorithm_is_refused(alg: str) -> None:
    """alg=none and HS256 keyed with the public key are the classic forgeries."""
    claims = google_jwt.decode(token(), verify=False)
    import hmac
    signing_input = _unsigned({"alg": alg, "kid": KID, "typ": "JWT"}, claims, b"").rsplit(".", 1)[0]
    signature = hmac.new(public_pem(GOOGLE_KEY).encode(), signing_input.encode(), "sha256").digest()
    forged = _unsigned({"alg": alg, "kid": KID, "typ": "JWT"}, claims, b"" if alg == "none" else signature)
    seen = []
    assert receiver(seen.append)("POST", request_headers(forged), envelope(order())).status == 403 and seen == []


def test_no_token_is_401_with_the_scheme_to_use() -> None:
    for headers in (request_headers(), {**request_headers(), "Authorization": "Basic dXNlcjpwYXNz"}):
        response = receiver(lambda d: None)("POST", headers, envelope(order()))
        assert response.status == 401 and response.headers["WWW-Authenticate"] == "Bearer"


def test_certificates_in_googles_x509_and_jwks_documents_are_read_from_a_file(tmp_path: Path) -> None:
    v1, v3 = tmp_path / "v1.json", tmp_path / "v3.json"
    v1.write_text(json.dumps({KID: x509_pem(GOOGLE_KEY)}))
    jwk = json.loads(RSAAlgorithm.to_jwk(GOOGLE_KEY.public_key()))
    v3.write_text(json.dumps({"keys": [{**jwk, "kid": KID, "use": "sig", "alg": "RS256"}]}))
    for path in (v1, v3):
        seen = []
        got = receiver(seen.append, auth=auth(certs=None, certs_loader=google_certs_file(path)))
        assert got("POST", request_headers(token()), envelope(order())).status == 204 and len(seen) == 1


def test_a_rotated_key_is_picked_up_from_the_file_and_forged_kids_do_not_reread_it(tmp_path: Path) -> None:
    path = tmp_path / "certs.json"
    path.write_text(json.dumps({KID: public_pem(GOOGLE_KEY)}))
    reads = []
    load = google_certs_file(path)

    def counting() -> Mapping[str, str]:
        reads.append(1)
        return load()

    push = receiver(lambda d: None, auth=auth(certs=None, certs_loader=counting, min_reload_seconds=0))
    assert push("POST", request_headers(token()), envelope(order())).status == 204
    path.write_text(json.dumps({"k2": public_pem(OTHER_KEY)}))  # Google rotated: k1 retired, k2 new
    assert push("POST", request_headers(token(key=OTHER_KEY, kid="k2")), envelope(order())).status == 204
    assert len(reads) == 2
    limited = receiver(lambda d: None, auth=auth(certs=None, certs_loader=counting, min_reload_seconds=300))
    for n in range(20):
        assert limited("POST", request_headers(token(kid=f"forged{n}")), envelope(order())).status == 403
    assert len(reads) == 3  # one load for the first unknown kid, none for the other 19


def test_without_any_certificates_the_push_is_retried_503(tmp_path: Path) -> None:
    push = receiver(lambda d: None, auth=auth(certs=None, certs_loader=google_certs_file(tmp_path / "missing.json")))
    assert push("POST", request_headers(token()), envelope(order())).status == 503


@pytest.mark.parametrize(("method", "headers", "body", "status"), [
    ("GET", request_headers(), b"", 405),
    ("POST", {"Content-Type": "text/plain"}, b"{}", 415),
    ("POST", request_headers(), b"[1, 2]", 400),
    ("POST", request_headers(), b'{"message": {"data": "!!", "messageId": "1", "publishTime": "2026-01-01T00:00:00Z"},'
                                b' "subscription": "projects/p/subscriptions/orders-order-placed-email"}', 400),
    ("POST", request_headers(), b'{"message": {"data": "e30=", "messageId": "1", "publishTime": "2026-01-01T00:00:00Z"},'
                                b' "subscription": "projects/p/subscriptions/orders-order-placed-email"}', 400),
    ("POST", request_headers(), b'{"message": {"data": "e30=", "messageId": "1", "publishTime": "2026-01-01T00:00:00Z"},'
                                b' "subscription": "projects/p/subscriptions/orders-order-placed-email",'
                                b' "deliveryAttempt": 0}', 400),
])
def test_requests_that_are_no_push_get_the_status_that_says_why(method: str, headers: dict, body: bytes,
                                                                 status: int) -> None:
    seen = []
    push = receiver(seen.append)
    headers = {**headers, "Authorization": f"Bearer {token()}"}
    assert push(method, headers, body).status == status and seen == []


def test_an_oversized_body_is_413_and_another_subscriptions_push_is_403() -> None:
    seen = []
    push = receiver(seen.append, max_body_bytes=1000)
    big = order(subject="x" * 2000)
    assert push("POST", request_headers(token()), envelope(big)).status == 413
    assert push("POST", request_headers(token()), envelope(order(), subscription="other-sub")).status == 403
    assert seen == []


def test_a_replay_for_another_subscription_is_acknowledged_unseen() -> None:
    seen = []
    push = receiver(seen.append)
    assert push("POST", request_headers(token()),
                envelope(order(), extra={"edakit_replay_for": "orders-order-placed-billing"})).status == 204
    assert push("POST", request_headers(token()),
                envelope(order(), extra={"edakit_replay_for": SUBSCRIPTION})).status == 204
    assert len(seen) == 1


def test_a_failing_handler_is_nacked_503_then_dead_lettered_with_the_reason_and_acked() -> None:
    publisher = Publisher()

    def charge(delivery) -> None:  # noqa: ANN001
        raise ConnectionError("payment provider down")

    push = receiver(compose(charge, retry(RetryPolicy(max_attempts=3, base_delay=0, max_delay=0))),
                    dead_letter_publisher=publisher)
    sent = order()
    assert [push("POST", request_headers(token()), envelope(sent, attempt=n)).status for n in (1, 2)] == [503, 503]
    assert publisher.published == []
    assert push("POST", request_headers(token()), envelope(sent, attempt=3)).status == 204
    [(topic, message, extra)] = publisher.published
    reason = DeadLetterReason.from_json(extra[DLQ_REASON_KEY])
    assert (topic, message.id, reason.error_type, reason.attempts) == (f"{SUBSCRIPTION}-dlq", sent.id,
                                                                       "ConnectionError", 3)


def test_the_dead_letter_lands_where_the_pull_adapters_dlq_reader_finds_it(pstest_host: str) -> None:
    broker = PubSubBroker("edakit-push", create_missing=True, emulator_host=pstest_host)
    topic, group = f"t{uuid.uuid4().hex[:10]}", "email"
    broker.subscriber(topic, group).close()  # creates the subscription, its -dlq topic and the DLQ subscription
    publisher = broker.publisher()
    try:
        def poison(delivery) -> None:  # noqa: ANN001
            raise ValueError("template missing")

        push = PubSubPushReceiver(compose(poison, retry(RetryPolicy(max_attempts=1))), subscription=f"{topic}-{group}",
                                  dead_letter_topic=f"{topic}-{group}-dlq", dead_letter_publisher=publisher,
                                  auth=auth())
        sent = order()
        assert push("POST", request_headers(token()), envelope(sent, subscription=f"{topic}-{group}")).status == 204
        dlq = broker.dead_letter_subscriber(topic, group)
        [dead] = dlq.receive(10, timeout=5)
        assert dead.message == sent
        assert DeadLetterReason.from_json(dead.metadata[DLQ_REASON_KEY]).error_message == "template missing"
        dead.ack()
        dlq.close()
        # A dead-letter topic that is not there: the publish fails, the push is nacked (redelivered), not acked.
        lost = PubSubPushReceiver(compose(poison, retry(RetryPolicy(max_attempts=1))), subscription=f"{topic}-{group}",
                                  dead_letter_topic=f"missing-{uuid.uuid4().hex[:6]}", dead_letter_publisher=publisher,
                                  auth=auth())
        assert lost("POST", request_headers(token()), envelope(sent, subscription=f"{topic}-{group}")).status == 503
    finally:
        publisher.close()


def test_pushes_beyond_max_concurrent_are_answered_429() -> None:
    entered, release = threading.Event(), threading.Event()

    def slow(delivery) -> None:  # noqa: ANN001
        entered.set()
        release.wait(5)

    push = receiver(slow, max_concurrent=1)
    first = threading.Thread(target=push, args=("POST", request_headers(token()), envelope(order())))
    first.start()
    assert entered.wait(5)
    assert push("POST", request_headers(token()), envelope(order())).status == 429
    release.set()
    first.join(5)


def test_from_spec_takes_audience_account_subscription_and_lease_from_the_push_subscriber() -> None:
    spec = load_spec(ROOT / "configs/order-events-pubsub.yaml", "staging")
    seen = []
    push = PubSubPushReceiver.from_spec(spec, "email", seen.append, dead_letter_publisher=Publisher(),
                                        certs={KID: public_pem(GOOGLE_KEY)})
    topic = spec.channels["order-placed"].resource_name
    assert (push.subscription, push.dead_letter_topic) == (f"{topic}-email", f"{topic}-email-dlq")
    assert (push.auth.audience, push.auth.service_account_email) == (AUDIENCE, ACCOUNT)
    assert push.lease_seconds == spec.subscribers["email"].pubsub.ack_deadline_seconds
    assert push("POST", request_headers(token()), envelope(order(), subscription=f"{topic}-email")).status == 204
    with pytest.raises(ValueError, match=r"subscribers.billing: expected a Pub/Sub subscriber with pubsub.push"):
        PubSubPushReceiver.from_spec(spec, "billing", seen.append, dead_letter_publisher=Publisher(),
                                     certs={KID: public_pem(GOOGLE_KEY)})


def test_a_receiver_without_auth_must_say_so() -> None:
    with pytest.raises(ValueError, match="needs auth=GoogleOidcToken"):
        PubSubPushReceiver(lambda d: None, subscription=SUBSCRIPTION, dead_letter_topic="d",
                           dead_letter_publisher=Publisher())


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.binary(max_size=300), st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
        st.sampled_from(["message", "data", "attributes", "messageId", "publishTime", "subscription",
                         "deliveryAttempt", "orderingKey", "x"]), inner, max_size=6), max_leaves=20,
).map(lambda doc: json.dumps(doc).encode())))
def test_any_body_is_answered_never_raised_and_only_a_decodable_push_reaches_the_handler(body: bytes) -> None:
    seen = []
    response = PUSH_FOR_PROPERTY(seen)("POST", request_headers(), body)
    assert response.status in (204, 400, 403)
    assert response.status == 204 or not seen


def PUSH_FOR_PROPERTY(seen: list) -> PubSubPushReceiver:  # noqa: N802 - built per example, no auth (bodies only)
    return PubSubPushReceiver(seen.append, subscription=SUBSCRIPTION, dead_letter_topic="d",
                              dead_letter_publisher=Publisher(), allow_unauthenticated=True)


@settings(max_examples=60, deadline=None)
@given(payload=st.binary(max_size=200), subject=st.none() | st.text(min_size=1, max_size=30),
       note=st.text(max_size=1200), key=st.none() | st.text(min_size=1, max_size=20))
def test_every_message_the_publisher_encodes_arrives_unchanged(payload: bytes, subject: str | None, note: str,
                                                               key: str | None) -> None:
    """Binary mode, and structured mode when an attribute exceeds Pub/Sub's 1024-byte value limit."""
    sent = Message.new("OrderPlaced", payload, source="/orders", subject=subject, key=key,
                       headers={"note": note} if note else {}, content_type="application/octet-stream")
    seen = []
    push = PUSH_FOR_PROPERTY(seen)
    assert push("POST", request_headers(), envelope(sent)).status == 204
    got = seen[0].message
    assert (got.id, got.payload, got.subject, got.key, dict(got.headers), got.time) == (
        sent.id, sent.payload, sent.subject, sent.key, dict(sent.headers), sent.time)


def test_parse_envelope_takes_either_spelling_and_missing_data_as_empty() -> None:
    body = {"message": {"message_id": "9", "publish_time": "2026-01-01T00:00:00Z", "attributes": {"a": "b"}},
            "subscription": "projects/p/subscriptions/s"}
    parsed = parse_envelope(json.dumps(body).encode())
    assert (parsed.data, parsed.message_id, parsed.delivery_attempt, dict(parsed.attributes)) == (b"", "9", 1,
                                                                                                   {"a": "b"})


class _Quiet(WSGIRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def served() -> Iterator[tuple[str, list]]:
    seen: list = []
    server: WSGIServer = make_server("127.0.0.1", 0, wsgi_app(receiver(seen.append), max_body_bytes=100_000),
                                     handler_class=_Quiet)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/pubsub/push", seen
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def test_mounted_in_a_wsgi_server_it_answers_pubsub_over_http(served: tuple[str, list]) -> None:
    url, seen = served
    sent = order()
    ok = requests.post(url, data=envelope(sent), headers=request_headers(token()), timeout=5)
    assert ok.status_code == 204 and seen[0].message == sent
    assert requests.post(url, data=envelope(sent), headers=request_headers(), timeout=5).status_code == 401
    # A Content-Length over the bound is refused before the body is read.
    big = requests.post(url, data=b"x" * 100_001, headers=request_headers(token()), timeout=5)
    assert big.status_code == 413 and len(seen) == 1


def test_the_wsgi_app_wants_a_content_length_and_reads_no_more_than_it_says() -> None:
    seen: list = []
    app = wsgi_app(receiver(seen.append), max_body_bytes=100_000)
    statuses: list[str] = []
    body = envelope(order())

    class Input:
        def __init__(self) -> None:
            self.asked: list[int] = []

        def read(self, size: int = -1) -> bytes:
            self.asked.append(size)
            return body[:size]

    def call(**environ: str) -> Input:
        stream = Input()
        b"".join(app({"REQUEST_METHOD": "POST", "wsgi.input": stream, "CONTENT_TYPE": "application/json",
                      "HTTP_AUTHORIZATION": f"Bearer {token()}", **environ}, lambda status, headers: statuses.append(status)))
        return stream

    assert call().asked == [] and statuses[-1] == "411 Length Required"  # chunked: refused unread
    assert call(CONTENT_LENGTH=str(len(body))).asked == [len(body)] and statuses[-1] == "204 No Content"
    assert len(seen) == 1
