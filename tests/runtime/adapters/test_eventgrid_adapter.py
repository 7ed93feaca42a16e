"""Event Grid adapter: publish, push-delivery webhook, dead letters from Blob storage.

Event Grid has no emulator that can be installed here. The publish path is therefore tested against a local HTTPS
endpoint (self-signed certificate for 127.0.0.1, made with `cryptography`) that implements Event Grid's documented
publish contract for CloudEvents topics: POST /api/events?api-version=..., an `Authorization: Bearer` Entra ID token
(or, with local auth on, the `aeg-sas-key` header), content type
`application/cloudevents-batch+json; charset=utf-8`, 200 on success, 401 on a bad key, 400 on a malformed batch,
413 over 1 MB. It is a stand-in for the service, not the service. Dead letters are read from Azurite (Azure Blob
emulator from npm, installed by scripts/install-azurite.sh), in the blob layout Event Grid documents.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import ssl
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from adapter_conformance import event
from azure.core.credentials import AccessToken, TokenCredential
from azure.identity import ClientSecretCredential
from azure.storage.blob import BlobServiceClient, ContainerClient
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from hypothesis import given, settings
from hypothesis import strategies as st

from edakit.runtime.adapters.base import DeadLetterReason, PublishError
from edakit.runtime.adapters.eventgrid import (
    EVENT_GRID_SCOPE,
    MAX_REQUEST_BYTES,
    VALIDATION_EVENT,
    EventGridPublisher,
    EventGridWebhook,
    WebhookDelivery,
    WebhookResponse,
    dead_letter_prefix,
    read_dead_letters,
)
from edakit.runtime.cloudevents import from_structured, to_binary, to_structured
from edakit.runtime.message import Message, MessageError
from edakit.runtime.middleware import RetryPolicy, compose, retry

KEY = "test-topic-key"
ENTRA_TOKEN = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.entra-access-token-for-eventgrid.signature"
BATCH_CONTENT_TYPE = "application/cloudevents-batch+json; charset=utf-8"
REQUIRED = ("id", "source", "type", "specversion")


# --- a local HTTPS endpoint with Event Grid's publish contract ------------------------------------------------------

@dataclass
class TopicEndpoint:
    url: str
    ca_file: str
    requests: list[tuple[dict[str, str], bytes]] = field(default_factory=list)


def _self_signed(directory: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(hours=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
            .sign(key, hashes.SHA256()))
    cert_file, key_file = directory / "cert.pem", directory / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_file, key_file


def _contract_status(path: str, headers: dict[str, str], body: bytes) -> tuple[int, str]:
    url = urlsplit(path)
    if url.path != "/api/events" or "api-version" not in parse_qs(url.query):
        return 404, "expected POST /api/events?api-version=..."
    if headers.get("aeg-sas-key") != KEY and headers.get("authorization") != f"Bearer {ENTRA_TOKEN}":
        return 401, "bad or missing aeg-sas-key or Authorization: Bearer token"
    if len(body) > MAX_REQUEST_BYTES:
        return 413, "request over 1 MB"
    if headers.get("content-type") != BATCH_CONTENT_TYPE:
        return 400, f"content type must be {BATCH_CONTENT_TYPE}"
    try:
        events = json.loads(body)
    except ValueError:
        return 400, "body is not JSON"
    if not isinstance(events, list) or not all(
            isinstance(e, dict) and all(isinstance(e.get(a), str) for a in REQUIRED) and e["specversion"] == "1.0"
            for e in events):
        return 400, "expected a JSON array of CloudEvents 1.0 events"
    return 200, ""


@pytest.fixture(scope="module")
def topic_endpoint() -> Iterator[TopicEndpoint]:
    with tempfile.TemporaryDirectory() as directory:
        cert_file, key_file = _self_signed(Path(directory))
        endpoint = TopicEndpoint("", str(cert_file))

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                headers = {k.lower(): v for k, v in self.headers.items()}
                status, error = _contract_status(self.path, headers, body)
                if status == 200:
                    endpoint.requests.append((headers, body))
                payload = json.dumps({"error": {"code": str(status), "message": error}}).encode() if error else b""
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: object) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert_file, key_file)
        server.socket = context.wrap_socket(server.socket, server_side=True)
        endpoint.url = f"https://127.0.0.1:{server.server_address[1]}/api/events"
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        yield endpoint
        server.shutdown()
        server.server_close()


def publisher_for(endpoint: TopicEndpoint, key: str = KEY) -> EventGridPublisher:
    return EventGridPublisher({"orders": endpoint.url}, key, connection_verify=endpoint.ca_file, retry_total=0)


def test_publish_sends_a_cloudevents_batch_with_the_key(topic_endpoint: TopicEndpoint) -> None:
    publisher = publisher_for(topic_endpoint)
    sent = [event(1, key="order-1", traceparent="00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
            Message.new("com.example.blob", bytes(range(256)), source="/files", subject="客户/1",
                        content_type="application/octet-stream", headers={"tenant": "Zürich"})]
    before = len(topic_endpoint.requests)
    publisher.publish("orders", sent)
    publisher.close()
    [(headers, body)] = topic_endpoint.requests[before:]
    assert headers["content-type"] == BATCH_CONTENT_TYPE
    events = json.loads(body)
    assert [from_structured(json.dumps(e)) for e in events] == sent
    assert events[0]["data"] == {"n": 1}  # JSON payloads travel as data, not base64


class IssuingCredential:
    """An azure.core TokenCredential that issues `token` and records the scopes asked for, as azure-identity's
    credentials do after their own exchange with Entra ID."""

    def __init__(self, token: str) -> None:
        self.token = token
        self.scopes: list[tuple[str, ...]] = []

    def get_token(self, *scopes: str, claims: str | None = None, tenant_id: str | None = None,
                  enable_cae: bool = False, **kwargs: object) -> AccessToken:
        self.scopes.append(scopes)
        return AccessToken(self.token, int(time.time()) + 3600)


def test_publish_with_an_entra_id_token_credential_sends_a_bearer_token(topic_endpoint: TopicEndpoint) -> None:
    credential = IssuingCredential(ENTRA_TOKEN)
    assert isinstance(credential, TokenCredential)  # the azure.core protocol the publisher takes
    publisher = EventGridPublisher({"orders": topic_endpoint.url}, credential,
                                   connection_verify=topic_endpoint.ca_file, retry_total=0)
    sent = [event(1), event(2)]
    before = len(topic_endpoint.requests)
    publisher.publish("orders", sent)
    publisher.publish("orders", [event(3)])
    publisher.close()
    requests = topic_endpoint.requests[before:]
    assert [h["authorization"] for h, _ in requests] == [f"Bearer {ENTRA_TOKEN}"] * 2
    assert all("aeg-sas-key" not in h for h, _ in requests)  # no access key: the module turns local auth off
    assert [from_structured(json.dumps(e)) for e in json.loads(requests[0][1])] == sent
    assert set(credential.scopes) == {(EVENT_GRID_SCOPE,)}
    assert EVENT_GRID_SCOPE == "https://eventgrid.azure.net/.default"


TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"


@pytest.fixture(scope="module")
def entra_token_endpoint() -> Iterator[tuple[str, str, list[dict[str, list[str]]]]]:
    """A local HTTPS endpoint speaking Entra ID's side of the client-credentials flow as MSAL uses it (OpenID
    configuration, then POST /<tenant>/oauth2/v2.0/token); issues ENTRA_TOKEN. Yields (authority, CA file, the
    token requests' form fields)."""
    requests: list[dict[str, list[str]]] = []
    with tempfile.TemporaryDirectory() as directory:
        cert_file, key_file = _self_signed(Path(directory))

        class Handler(BaseHTTPRequestHandler):
            def _answer(self, document: dict[str, object]) -> None:
                payload = json.dumps(document).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                base = f"https://127.0.0.1:{server.server_address[1]}/{TENANT}"
                self._answer({"issuer": f"{base}/v2.0", "token_endpoint": f"{base}/oauth2/v2.0/token",
                              "authorization_endpoint": f"{base}/oauth2/v2.0/authorize"})

            def do_POST(self) -> None:  # noqa: N802
                form = parse_qs(self.rfile.read(int(self.headers.get("Content-Length", 0))).decode())
                requests.append(form)
                self._answer({"access_token": ENTRA_TOKEN, "token_type": "Bearer", "expires_in": 3600})

            def log_message(self, *args: object) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert_file, key_file)
        server.socket = context.wrap_socket(server.socket, server_side=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        yield f"https://127.0.0.1:{server.server_address[1]}", str(cert_file), requests
        server.shutdown()
        server.server_close()


def test_publish_with_an_azure_identity_credential(topic_endpoint: TopicEndpoint,
                                                   entra_token_endpoint: tuple[str, str, list]) -> None:
    # The credential DefaultAzureCredential picks for a service principal (AZURE_CLIENT_ID/_SECRET), here pointed at
    # a local token endpoint: azure-identity and MSAL run unchanged, only Entra ID is local.
    authority, ca_file, token_requests = entra_token_endpoint
    credential = ClientSecretCredential(TENANT, "orders-publisher", "client-secret", authority=authority,
                                        disable_instance_discovery=True, connection_verify=ca_file)
    publisher = EventGridPublisher({"orders": topic_endpoint.url}, credential,
                                   connection_verify=topic_endpoint.ca_file, retry_total=0)
    before = len(topic_endpoint.requests)
    publisher.publish("orders", [event(1)])
    publisher.close()
    [(headers, _)] = topic_endpoint.requests[before:]
    assert headers["authorization"] == f"Bearer {ENTRA_TOKEN}"
    [form] = token_requests
    assert (form["grant_type"], form["client_id"], form["scope"]) == (
        ["client_credentials"], ["orders-publisher"], [EVENT_GRID_SCOPE])


def test_a_token_the_topic_refuses_raises_publish_error_naming_401(topic_endpoint: TopicEndpoint) -> None:
    publisher = EventGridPublisher({"orders": topic_endpoint.url}, IssuingCredential("expired-token"),
                                   connection_verify=topic_endpoint.ca_file, retry_total=0)
    with pytest.raises(PublishError, match="'orders': HTTP 401"):
        publisher.publish("orders", [event(1)])
    publisher.close()


def test_publish_with_a_bad_key_raises_publish_error_naming_401(topic_endpoint: TopicEndpoint) -> None:
    publisher = publisher_for(topic_endpoint, key="wrong")
    with pytest.raises(PublishError, match="'orders': HTTP 401"):
        publisher.publish("orders", [event(1)])
    publisher.close()


def test_publish_to_an_unknown_topic_names_the_known_ones(topic_endpoint: TopicEndpoint) -> None:
    with pytest.raises(PublishError, match="no endpoint for topic 'payments'; known: orders"):
        publisher_for(topic_endpoint).publish("payments", [event(1)])


def test_a_request_over_one_megabyte_is_split(topic_endpoint: TopicEndpoint) -> None:
    publisher = publisher_for(topic_endpoint)
    sent = [event(n, payload=b'{"blob":"' + b"x" * 400_000 + b'"}') for n in range(5)]
    before = len(topic_endpoint.requests)
    publisher.publish("orders", sent)
    publisher.close()
    requests = topic_endpoint.requests[before:]
    assert len(requests) == 3 and all(len(body) <= MAX_REQUEST_BYTES for _, body in requests)
    assert [from_structured(json.dumps(e)) for _, body in requests for e in json.loads(body)] == sent


def test_the_stand_in_rejects_a_malformed_batch_with_400(topic_endpoint: TopicEndpoint) -> None:
    # The contract the publish tests rely on: the endpoint really refuses what Event Grid refuses.
    assert _contract_status("/api/events?api-version=2018-01-01", {"aeg-sas-key": KEY, "content-type":
                            BATCH_CONTENT_TYPE}, b'[{"id":"1"}]')[0] == 400
    assert _contract_status("/api/events?api-version=2018-01-01", {"aeg-sas-key": KEY, "content-type":
                            "application/json"}, b"[]")[0] == 400


# --- webhook --------------------------------------------------------------------------------------------------------

class Recorder:
    """A handler that records what it got and settles each delivery with `settle` (None: leaves it to the webhook)."""

    def __init__(self, settle=None) -> None:
        self.deliveries: list[WebhookDelivery] = []
        self.settle = settle

    @property
    def messages(self) -> list[Message]:
        return [d.message for d in self.deliveries]

    def __call__(self, delivery: WebhookDelivery) -> None:
        self.deliveries.append(delivery)
        if self.settle is not None:
            self.settle(delivery)


def unauthenticated_webhook(handler, **options) -> EventGridWebhook:  # noqa: ANN001, ANN003
    """The webhook without authentication, for its delivery mechanics; authentication is tested over HTTP in
    test_eventgrid_webhook_auth.py."""
    return EventGridWebhook(handler, allow_unauthenticated=True, **options)


def test_published_batch_delivered_to_the_webhook_reaches_the_handler(topic_endpoint: TopicEndpoint) -> None:
    publisher = publisher_for(topic_endpoint)
    sent = [event(n, key=f"k{n}") for n in range(3)]
    before = len(topic_endpoint.requests)
    publisher.publish("orders", sent)
    publisher.close()
    [(headers, body)] = topic_endpoint.requests[before:]
    recorder = Recorder()
    response = unauthenticated_webhook(recorder)("POST", {"Content-Type": headers["content-type"]}, body)
    assert response.status == 200
    assert recorder.messages == sent


def test_cloudevents_abuse_protection_handshake() -> None:
    webhook = unauthenticated_webhook(Recorder())
    allowed = webhook("OPTIONS", {"WebHook-Request-Origin": "eventgrid.azure.net", "WebHook-Request-Rate": "120"}, b"")
    assert allowed.status == 200
    assert allowed.headers["WebHook-Allowed-Origin"] == "eventgrid.azure.net"
    assert allowed.headers["WebHook-Allowed-Rate"] == "120"
    refused = webhook("OPTIONS", {"WebHook-Request-Origin": "evil.example.com"}, b"")
    assert "WebHook-Allowed-Origin" not in refused.headers and refused.status == 403
    assert webhook("OPTIONS", {}, b"").status == 400


def test_event_grid_schema_subscription_validation_echoes_the_code() -> None:
    body = json.dumps([{"id": "2d1781af", "topic": "/subscriptions/x", "subject": "", "eventType": VALIDATION_EVENT,
                        "eventTime": "2018-01-25T22:12:19.4556811Z", "metadataVersion": "1", "dataVersion": "1",
                        "data": {"validationCode": "512d38b6-c7b8-40c8-89fe-f46f9e9622b6",
                                 "validationUrl": "https://rp-eastus2.eventgrid.azure.net/x"}}]).encode()
    response = unauthenticated_webhook(Recorder())("POST", {"aeg-event-type": "SubscriptionValidation"}, body)
    assert response.status == 200
    assert json.loads(response.body) == {"validationResponse": "512d38b6-c7b8-40c8-89fe-f46f9e9622b6"}
    bad = unauthenticated_webhook(Recorder())("POST", {"aeg-event-type": "SubscriptionValidation"},
                                              b'[{"eventType":"x"}]')
    assert bad.status == 400


def _reason(delivery: WebhookDelivery) -> DeadLetterReason:
    now = dt.datetime.now(dt.timezone.utc)
    return DeadLetterReason("ValueError", "amount < 0", delivery.attempt, now, now, delivery.source)


def _fail(delivery: WebhookDelivery) -> None:
    raise TimeoutError("database")


def batch_of(*messages: Message) -> bytes:
    return b"[" + b",".join(to_structured(m) for m in messages) + b"]"


@pytest.mark.parametrize(("settle", "status", "retry_after"), [
    (lambda d: d.dead_letter(_reason(d)), 400, None),
    (_fail, 503, "1"),
    (lambda d: d.nack(delay_seconds=29.5), 503, "30"),
    (lambda d: d.ack(), 200, None),
])
def test_settling_maps_to_dead_letter_retry_or_success_status(settle, status: int, retry_after: str | None) -> None:
    recorder = Recorder(settle)
    first, second = event(1), event(2)
    headers = {"content-type": BATCH_CONTENT_TYPE, "aeg-delivery-count": "2", "aeg-subscription-name": "ORDERS-BILLING"}
    response = unauthenticated_webhook(recorder)("POST", headers, batch_of(first, second))
    assert response.status == status
    assert response.headers.get("Retry-After") == retry_after
    # The first event not acked decides the answer; the rest come again with the batch.
    assert recorder.messages == ([first, second] if status == 200 else [first])
    assert (recorder.deliveries[0].attempt, recorder.deliveries[0].source) == (3, "ORDERS-BILLING")
    if status == 400:
        assert json.loads(response.body)["id"] == first.id
        assert DeadLetterReason.from_json(json.dumps(json.loads(response.body)["dlq_reason"])) \
            == recorder.deliveries[0].reason


def test_a_delivery_settles_once() -> None:
    def twice(delivery: WebhookDelivery) -> None:
        delivery.ack()
        delivery.nack()

    recorder = Recorder(twice)
    assert unauthenticated_webhook(recorder)("POST", {"content-type": BATCH_CONTENT_TYPE},
                                             batch_of(event(1))).status == 200
    assert recorder.deliveries[0].outcome == "acked"


def test_the_runtime_retry_middleware_drives_event_grid_retries_then_dead_lettering() -> None:
    def handler(delivery: WebhookDelivery) -> None:
        raise (ValueError if delivery.message.type == "poison" else TimeoutError)("boom")

    policy = RetryPolicy(max_attempts=3, base_delay=1, max_delay=1, non_retryable=(ValueError,))
    webhook = unauthenticated_webhook(compose(handler, retry(policy)))

    def deliver(message: Message, delivery_count: int) -> WebhookResponse:
        headers = {"content-type": BATCH_CONTENT_TYPE, "aeg-delivery-count": str(delivery_count)}
        return webhook("POST", headers, batch_of(message))

    flaky = event(1)
    assert [deliver(flaky, count).status for count in range(3)] == [503, 503, 400]
    dead = DeadLetterReason.from_json(json.dumps(json.loads(deliver(flaky, 2).body)["dlq_reason"]))
    assert (dead.error_type, dead.attempts) == ("TimeoutError", 3)
    poison = Message.new("poison", b"{}", source="/s")
    assert deliver(poison, 0).status == 400


def test_malformed_deliveries_are_400_and_oversized_413() -> None:
    webhook = unauthenticated_webhook(Recorder(), max_body_bytes=1000)
    assert webhook("POST", {"content-type": BATCH_CONTENT_TYPE}, b"not json").status == 400
    assert webhook("POST", {"content-type": BATCH_CONTENT_TYPE, "aeg-delivery-count": "x"}, b"[]").status == 400
    missing_source = b'[{"id":"1","type":"t","specversion":"1.0","time":"2024-01-01T00:00:00Z"}]'
    response = webhook("POST", {"content-type": BATCH_CONTENT_TYPE}, missing_source)
    assert response.status == 400 and b"event #0" in response.body and b"source" in response.body
    assert webhook("POST", {"content-type": "text/plain"}, b"hello").status == 400
    assert webhook("POST", {"content-type": BATCH_CONTENT_TYPE}, b"[" + b" " * 1000 + b"]").status == 413
    assert webhook("GET", {}, b"").status == 405


def test_structured_and_binary_single_events_are_delivered() -> None:
    recorder = Recorder()
    webhook = unauthenticated_webhook(recorder)
    structured, binary = event(1), event(2, key="k")
    assert webhook("POST", {"Content-Type": "application/cloudevents+json"}, to_structured(structured)).status == 200
    assert webhook("POST", to_binary(binary, "ce-"), binary.payload).status == 200
    assert recorder.messages == [structured, binary]


def test_requests_beyond_max_concurrent_get_429() -> None:
    entered, release = threading.Event(), threading.Event()

    def slow(delivery: WebhookDelivery) -> None:
        entered.set()
        release.wait(5)

    webhook = unauthenticated_webhook(slow, max_concurrent=1)
    body = batch_of(event(1))
    results: list[int] = []
    worker = threading.Thread(target=lambda: results.append(webhook("POST", {"content-type": BATCH_CONTENT_TYPE},
                                                                    body).status))
    worker.start()
    assert entered.wait(5)
    assert webhook("POST", {"content-type": BATCH_CONTENT_TYPE}, body).status == 429
    release.set()
    worker.join(5)
    assert results == [200]


@settings(max_examples=50, deadline=None)
@given(st.lists(st.builds(lambda n, payload, note: event(n, payload=payload, note=note),
                          st.integers(0, 10**6), st.binary(max_size=40), st.text(max_size=20)), max_size=5))
def test_any_batch_of_messages_is_delivered_intact(messages: list[Message]) -> None:
    recorder = Recorder()
    assert unauthenticated_webhook(recorder)("POST", {"content-type": BATCH_CONTENT_TYPE},
                                             batch_of(*messages)).status == 200
    assert recorder.messages == messages


# --- dead letters in Azurite ----------------------------------------------------------------------------------------




@pytest.fixture
def container(azurite_blob: str) -> Iterator[ContainerClient]:
    with BlobServiceClient.from_connection_string(azurite_blob) as service:
        client = service.get_container_client(f"dl{uuid.uuid4().hex[:8]}")
        client.create_container()
        yield client
        client.delete_container()


def dead_letter_entry(message: Message, reason: str, attempts: int, outcome: str, status: int | None) -> dict:
    """What Event Grid writes per event: the CloudEvent plus its dead-letter fields."""
    entry = {**json.loads(to_structured(message)), "deadLetterReason": reason, "deliveryAttempts": attempts,
             "lastDeliveryOutcome": outcome, "publishTime": "2024-03-01T10:00:00.1234567Z",
             "lastDeliveryAttemptTime": "2024-03-01T10:05:00Z"}
    if status is not None:
        entry["lastHttpStatusCode"] = status
    return entry


def blob_name(subscription: str, when: dt.datetime) -> str:
    # Event Grid: subscription name in upper case, date and hour not zero-padded.
    return f"{subscription.upper()}/{when.year}/{when.month}/{when.day}/{when.hour}/{uuid.uuid4()}.json"


def test_dead_letters_are_read_with_their_reason(container: ContainerClient) -> None:
    poison, expired, other = event(1), event(2, key="k"), event(3)
    when = dt.datetime(2024, 3, 1, 10, tzinfo=dt.timezone.utc)
    container.upload_blob(blob_name("orders-billing", when), json.dumps([
        dead_letter_entry(poison, "DeliveryFailed", 1, "BadRequest", 400),
        dead_letter_entry(expired, "MaxDeliveryAttemptsExceeded", 30, "ServiceUnavailable", 503)]))
    container.upload_blob(blob_name("orders-shipping", when), json.dumps([
        dead_letter_entry(other, "TimeToLiveExceeded", 4, "Busy", None)]))
    dead = sorted(read_dead_letters(container, "orders-billing"), key=lambda d: d.message.id == expired.id)
    assert [d.message for d in dead] == [poison, expired]
    assert [(d.reason.error_type, d.reason.error_message, d.reason.attempts, d.last_http_status) for d in dead] == [
        ("DeliveryFailed", "BadRequest", 1, 400), ("MaxDeliveryAttemptsExceeded", "ServiceUnavailable", 30, 503)]
    assert dead[0].reason.first_failure == dt.datetime(2024, 3, 1, 10, 0, 0, 123456, dt.timezone.utc)
    assert dead[0].reason.last_failure == dt.datetime(2024, 3, 1, 10, 5, tzinfo=dt.timezone.utc)
    assert dead[0].reason.original_source == "orders-billing"
    assert dead[0].blob_name.startswith(dead_letter_prefix("orders-billing"))
    assert [d.message for d in read_dead_letters(container, "orders-shipping")] == [other]


def test_since_skips_blobs_written_before(container: ContainerClient) -> None:
    when = dt.datetime(2024, 3, 1, 10, tzinfo=dt.timezone.utc)
    entry = dead_letter_entry(event(1), "DeliveryFailed", 1, "x", 400)
    container.upload_blob(blob_name("s", when), json.dumps([entry]))
    later = dt.datetime.now(dt.timezone.utc) + dt.timedelta(minutes=1)
    assert list(read_dead_letters(container, "s", since=later)) == []
    assert len(list(read_dead_letters(container, "s"))) == 1


def test_a_malformed_dead_letter_blob_names_the_blob_and_entry(container: ContainerClient) -> None:
    when = dt.datetime(2024, 3, 1, 10, tzinfo=dt.timezone.utc)
    name = blob_name("s", when)
    container.upload_blob(name, json.dumps([{"id": "1", "type": "t", "source": "/s", "specversion": "1.0",
                                             "time": "2024-03-01T10:00:00Z"}]))
    with pytest.raises(MessageError, match=rf"{name} #0: missing dead-letter field\(s\) deadLetterReason"):
        list(read_dead_letters(container, "s"))
