"""Google Cloud Pub/Sub push receiver: authenticate Pub/Sub's POST, decode the push envelope, run the handler chain.

A push subscription (`pubsub.push` in the spec) POSTs each message to an HTTPS endpoint as a JSON envelope
`{"message": {"data", "attributes", "messageId", "publishTime", "orderingKey"}, "subscription", "deliveryAttempt"}`
with `Authorization: Bearer <OIDC token>` signed by Google for the subscription's `oidc_service_account_email`.

- `GoogleOidcToken` checks that token with google-auth (`google.auth.jwt.decode`): RS256 signature by one of
  Google's signing certificates, `aud` = the subscription's audience (the push endpoint URL unless `audience` is
  set), `iss` accounts.google.com, `email` = the declared service account with `email_verified` true, `iat`/`exp`
  within `clock_skew_seconds`. The certificates are given (`certs`) or read from a file (`google_certs_file`, the
  document of https://www.googleapis.com/oauth2/v1/certs or its JWKS form, kept fresh by the deployment): the
  receiver never fetches a URL, and a token's `jku`/`x5u` are never used.
- `PubSubPushReceiver` is framework-agnostic, (method, headers, body) -> PushResponse; `wsgi_app(receiver)` mounts
  it in any WSGI server. The message is decoded exactly as the pull adapter decodes it
  (edakit.runtime.adapters.pubsub.decode: CloudEvents binary mode in `ce-*` attributes, or structured mode), the
  handler runs through `edakit.runtime.middleware.handle` (the Router's settle-exactly-once step), and the answer
  tells Pub/Sub what to do: 204 = acknowledged (handled, or dead-lettered by the kit); anything else is a nack that
  Pub/Sub redelivers on the subscription's retry policy and, after `max_delivery_attempts`, forwards to the
  dead-letter topic: 503 handler nack or a settle that failed, 429 too many requests in progress, 400 an envelope
  or message that cannot be decoded, 401/403 missing or refused token, 413 body too large, 415 not JSON.
- `dead_letter(reason)` publishes the message to the subscription's dead-letter topic `<topic>-<group>-dlq` with
  the reason in the `dlq_reason` attribute (what the pull adapter writes, so `edakit dlq` reads both), then acks.
- `attempt` is `deliveryAttempt`, which Pub/Sub sends only for subscriptions with a dead_letter_policy; else 1.
  Pub/Sub has no per-message redelivery delay for push: a nack's `delay_seconds` is not honoured, the
  subscription's `retry_policy` backoff applies.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from cryptography.hazmat.primitives import serialization
from google.auth import exceptions as google_auth_errors
from google.auth import jwt as google_jwt
from jwt.algorithms import RSAAlgorithm

from edakit.runtime.adapters.base import DLQ_REASON_KEY, BrokerError, DeadLetterReason, PublishError
from edakit.runtime.adapters.pubsub import (REPLAY_FOR, SERVICE_DEAD_LETTER_PREFIX, dead_letter_topic_name, decode,
                                           reason_attribute, subscription_name)
from edakit.runtime.message import Message, MessageError
from edakit.runtime.middleware.chain import Handler
from edakit.runtime.middleware.leases import DEFAULT_LEASE_SECONDS, Leases, current_leases
from edakit.runtime.middleware.router import handle

if TYPE_CHECKING:
    from edakit.spec.model import Spec

log = logging.getLogger(__name__)

GOOGLE_ISSUERS = frozenset({"accounts.google.com", "https://accounts.google.com"})
TOKEN_ALGORITHM = "RS256"  # what Google signs ID tokens with; every other alg (none, HS256 ...) is refused
MAX_TOKEN_CHARS = 8192  # a Google ID token is about 1 KB
MAX_CERTS_BYTES = 262_144
# Pub/Sub's largest message (10 MB of data) base64-encoded in the envelope, plus room for 100 attributes.
MAX_BODY_BYTES = 14 * 1024 * 1024
ACKED = 204  # one of the codes Pub/Sub takes as an acknowledgement (102, 200, 201, 202, 204)


class PushAuthError(Exception):
    """A push request refused before the handler: `status` 401 (no token), 403 (refused) or 503 (no certificates
    yet). `detail` is for the log only, never the response."""

    def __init__(self, status: int, public: str, detail: str, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(detail)
        self.status, self.public, self.detail = status, public, detail
        self.headers = dict(headers or {})


def _refused(detail: str) -> PushAuthError:
    return PushAuthError(403, "token refused", detail)


def certs_document(document: object, where: str) -> dict[str, str]:
    """kid -> PEM of a Google certificates document: `{kid: x509 PEM}` (oauth2/v1/certs) or a JWKS (oauth2/v3/certs;
    RSA signature keys only). Raises ValueError naming `where` for anything else."""
    if not isinstance(document, dict):
        raise ValueError(f"{where}: expected a JSON object of key id -> certificate, or a JWKS with `keys`")
    if "keys" in document:
        keys = document["keys"]
        if not isinstance(keys, list):
            raise ValueError(f"{where}: `keys` must be an array of JWKs")
        pems = {}
        for entry in keys:
            if (isinstance(entry, dict) and entry.get("kty") == "RSA" and entry.get("use", "sig") == "sig"
                    and isinstance(entry.get("kid"), str)):
                public_key = RSAAlgorithm.from_jwk(entry)
                pems[entry["kid"]] = public_key.public_bytes(  # type: ignore[union-attr]
                    serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
        return pems
    if not all(isinstance(kid, str) and isinstance(pem, str) and "-----BEGIN" in pem for kid, pem in document.items()):
        raise ValueError(f"{where}: expected key id -> PEM certificate strings")
    return dict(document)


def google_certs_file(path: str | Path) -> Callable[[], Mapping[str, str]]:
    """A certificate loader for GoogleOidcToken that reads `path` (bounded in size), for a file the deployment keeps
    current (e.g. a job that saves https://www.googleapis.com/oauth2/v1/certs): the receiver itself fetches nothing."""
    file = Path(path)

    def load() -> Mapping[str, str]:
        with file.open("rb") as handle_:
            raw = handle_.read(MAX_CERTS_BYTES + 1)
        if len(raw) > MAX_CERTS_BYTES:
            raise ValueError(f"{file}: certificates document over {MAX_CERTS_BYTES} bytes")
        try:
            return certs_document(json.loads(raw), str(file))
        except ValueError as exc:
            raise ValueError(f"{file}: {exc}") from None

    return load


class CertsUnavailable(Exception):
    """No signing certificates could be had: tokens cannot be checked (503, Pub/Sub redelivers)."""


class _Certs:
    """Google's signing certificates: a fixed mapping, or what `loader` returns, reloaded when a token names an
    unknown kid (Google rotates keys) at most once per `min_reload_seconds`, so forged kids cost nothing."""

    def __init__(self, certs: Mapping[str, str] | None, loader: Callable[[], Mapping[str, str]] | None,
                 min_reload_seconds: float) -> None:
        self._certs = certs_document(dict(certs), "certs") if certs is not None else None
        self._loader = loader
        self._min_reload = min_reload_seconds
        self._next_load = 0.0
        self._lock = threading.Lock()

    def get(self, kid: str) -> str | None:
        with self._lock:
            if self._certs is not None and kid in self._certs:
                return self._certs[kid]
            if self._loader is None:
                return None
            now = time.monotonic()
            if now >= self._next_load:
                self._next_load = now + self._min_reload
                try:
                    self._certs = dict(self._loader())
                except Exception as exc:  # noqa: BLE001 - any failure means: certificates unknown for now
                    log.warning("Google signing certificates unavailable: %s", exc)
            if self._certs is None:
                raise CertsUnavailable("no Google signing certificates loaded yet")
            return self._certs.get(kid)


class GoogleOidcToken:
    """The OIDC token Pub/Sub sends with each push of a subscription that has `oidc_token` set (see the module
    docstring for every check). `audience` is the subscription's `oidc_token.audience`, which Pub/Sub sets to the push
    endpoint URL when it is not configured. Give exactly one of `certs` (key id -> PEM certificate or public key) or
    `certs_loader` (e.g. `google_certs_file(path)`)."""

    def __init__(self, audience: str, service_account_email: str, *, certs: Mapping[str, str] | None = None,
                 certs_loader: Callable[[], Mapping[str, str]] | None = None, clock_skew_seconds: int = 30,
                 min_reload_seconds: float = 300) -> None:
        if not isinstance(audience, str) or not audience:
            raise ValueError("audience: expected the subscription's OIDC audience (by default its push endpoint URL)")
        if not isinstance(service_account_email, str) or "@" not in service_account_email:
            raise ValueError(f"service_account_email {service_account_email!r}: expected the push subscription's "
                             f"oidc_service_account_email")
        if (certs is None) == (certs_loader is None):
            raise ValueError("give exactly one of certs (key id -> PEM) or certs_loader (e.g. google_certs_file(...))")
        if not 0 <= clock_skew_seconds <= 300:
            raise ValueError("clock_skew_seconds must be between 0 and 300")
        self.audience = audience
        self.service_account_email = service_account_email
        self.clock_skew_seconds = clock_skew_seconds
        self._certs = _Certs(certs, certs_loader, min_reload_seconds)

    def check(self, headers: Mapping[str, str]) -> Mapping[str, Any]:
        """The token's claims; raises PushAuthError (lower-case header names) or CertsUnavailable."""
        authorization = headers.get("authorization")
        scheme, _, token = (authorization or "").partition(" ")
        token = token.strip()
        if authorization is None or scheme.lower() != "bearer" or not token:
            raise PushAuthError(401, "authentication required: Authorization: Bearer <Google OIDC token>",
                                "no bearer token", {"WWW-Authenticate": "Bearer"})
        if len(token) > MAX_TOKEN_CHARS:
            raise _refused(f"bearer token of {len(token)} characters")
        try:
            header = google_jwt.decode_header(token)
        except (ValueError, TypeError, google_auth_errors.GoogleAuthError) as exc:
            raise _refused(f"bearer token is not a JWT: {exc}") from None
        if not isinstance(header, dict) or header.get("alg") != TOKEN_ALGORITHM:
            raise _refused(f"token alg {header.get('alg') if isinstance(header, dict) else None!r}: only "
                           f"{TOKEN_ALGORITHM} is accepted")
        kid = header.get("kid")
        if not isinstance(kid, str):
            raise _refused("token header has no kid")
        cert = self._certs.get(kid)
        if cert is None:
            raise _refused(f"token kid {kid!r} is not a Google signing key")
        try:
            claims = google_jwt.decode(token, certs={kid: cert}, audience=self.audience,
                                       clock_skew_in_seconds=self.clock_skew_seconds)
        except (ValueError, TypeError, google_auth_errors.GoogleAuthError) as exc:
            raise _refused(f"token refused: {exc}") from None
        if claims.get("iss") not in GOOGLE_ISSUERS:
            raise _refused(f"token iss {claims.get('iss')!r} is not Google's")
        if claims.get("email") != self.service_account_email:
            raise _refused(f"token email {claims.get('email')!r} is not {self.service_account_email}")
        if claims.get("email_verified") is not True:
            raise _refused(f"token email {claims.get('email')!r} is not verified")
        return claims


@dataclass(frozen=True)
class PushResponse:
    status: int
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""


def _text(status: int, text: str, **headers: str) -> PushResponse:
    return PushResponse(status, {"Content-Type": "text/plain; charset=utf-8", **headers}, text.encode())


class DeadLetterPublisher(Protocol):
    def publish(self, topic: str, messages: list[Message], extra: Mapping[str, str] | None = None) -> None: ...


@dataclass
class PushDelivery:
    """One pushed message; settling it decides the HTTP answer. `outcome` is set only once the settle took effect
    (a dead-letter whose publish failed leaves it None: the answer is then a nack)."""

    message: Message
    attempt: int
    source: str
    metadata: Mapping[str, str]
    dead_letter_topic: str
    publisher: DeadLetterPublisher = field(repr=False)
    outcome: str | None = None

    def _check(self, how: str) -> None:
        if self.outcome is not None:
            raise BrokerError(f"message {self.message.id}: {how} after it was already {self.outcome}")

    def ack(self) -> None:
        self._check("acked")
        self.outcome = "acked"

    def nack(self, delay_seconds: float = 0) -> None:
        self._check("nacked")
        self.outcome = "nacked"

    def dead_letter(self, reason: DeadLetterReason) -> None:
        self._check("dead-lettered")
        try:
            self.publisher.publish(self.dead_letter_topic, [self.message],
                                   extra={DLQ_REASON_KEY: reason_attribute(reason)})
        except PublishError as exc:
            raise BrokerError(f"Pub/Sub push: dead-lettering {self.message.id} to {self.dead_letter_topic!r} "
                              f"failed: {exc}") from exc
        self.outcome = "dead-lettered"


@dataclass(frozen=True)
class PushEnvelope:
    data: bytes
    attributes: Mapping[str, str]
    message_id: str
    publish_time: str
    ordering_key: str
    subscription: str
    delivery_attempt: int


class EnvelopeError(ValueError):
    """A request body that is not a Pub/Sub push envelope."""


def _str_field(obj: Mapping[str, Any], *names: str, required: bool = True) -> str:
    for name in names:  # Pub/Sub sends both camelCase and snake_case spellings of some fields
        if name in obj:
            value = obj[name]
            if not isinstance(value, str):
                raise EnvelopeError(f"push envelope: message.{name} must be a string, got {type(value).__name__}")
            return value
    if required:
        raise EnvelopeError(f"push envelope: message.{names[0]} missing")
    return ""


def parse_envelope(body: bytes) -> PushEnvelope:
    """The push envelope of a request body; raises EnvelopeError naming the field that is wrong."""
    try:
        document = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise EnvelopeError(f"push envelope: not JSON ({exc})") from None
    if not isinstance(document, dict):
        raise EnvelopeError(f"push envelope: expected a JSON object, got {type(document).__name__}")
    message = document.get("message")
    if not isinstance(message, dict):
        raise EnvelopeError("push envelope: `message` missing or not an object (a no-wrapper subscription? the "
                            "receiver takes wrapped pushes only)")
    subscription = document.get("subscription")
    if not isinstance(subscription, str) or not subscription:
        raise EnvelopeError("push envelope: `subscription` missing or not a string")
    attempt = document.get("deliveryAttempt", 1)
    if isinstance(attempt, bool) or not isinstance(attempt, int) or attempt < 1:
        raise EnvelopeError(f"push envelope: deliveryAttempt must be an integer >= 1, got {attempt!r}")
    attributes = message.get("attributes", {})
    if not isinstance(attributes, dict) or not all(isinstance(k, str) and isinstance(v, str)
                                                   for k, v in attributes.items()):
        raise EnvelopeError("push envelope: message.attributes must map strings to strings")
    encoded = _str_field(message, "data", required=False)
    try:
        data = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise EnvelopeError("push envelope: message.data is not base64") from None
    publish_time = _str_field(message, "publishTime", "publish_time")
    try:
        datetime.fromisoformat(publish_time)
    except ValueError:
        raise EnvelopeError(f"push envelope: message.publishTime {publish_time!r} is not an RFC 3339 time") from None
    return PushEnvelope(data=data, attributes=attributes, message_id=_str_field(message, "messageId", "message_id"),
                        publish_time=publish_time,
                        ordering_key=_str_field(message, "orderingKey", "ordering_key", required=False),
                        subscription=subscription, delivery_attempt=attempt)


def _short_name(subscription: str) -> str:
    return subscription.rpartition("/")[2]


class PubSubPushReceiver:
    """Push endpoint of one subscription: call it with each HTTP request (method, headers, body) and send back the
    response (or mount `wsgi_app(receiver)`).

    `handler` is the subscriber's handler chain (e.g. compose(handler, tracing(), metrics(), retry(policy))); it runs
    under the Router's `handle` (returned unsettled = ack, raised = nack) with the idempotency leases at
    `lease_seconds` (the subscription's ack deadline: Pub/Sub takes a slower answer as a nack). `subscription` is the
    subscription's name: a push for another subscription is refused (403), one replayed from the DLQ for another
    subscription (`edakit_replay_for`) is acknowledged unseen, as the pull subscriber does. `auth` is required unless
    `allow_unauthenticated=True` (the subscription sends no token: anyone who reaches the endpoint can deliver).
    At most `max_concurrent` requests run the handler at once; more are answered 429."""

    def __init__(self, handler: Handler, *, subscription: str, dead_letter_topic: str,
                 dead_letter_publisher: DeadLetterPublisher, auth: GoogleOidcToken | None = None,
                 allow_unauthenticated: bool = False, lease_seconds: int = DEFAULT_LEASE_SECONDS,
                 max_body_bytes: int = MAX_BODY_BYTES, max_concurrent: int = 8) -> None:
        if auth is None and not allow_unauthenticated:
            raise ValueError("PubSubPushReceiver needs auth=GoogleOidcToken(...) (the subscription's OIDC token); "
                             "allow_unauthenticated=True accepts anyone's POST")
        if auth is not None and allow_unauthenticated:
            raise ValueError("PubSubPushReceiver: auth and allow_unauthenticated=True contradict each other")
        if allow_unauthenticated:
            log.warning("Pub/Sub push receiver for %s: allow_unauthenticated=True, any client that reaches this "
                        "endpoint can deliver messages to the handler", subscription)
        if not 1 <= max_body_bytes <= MAX_BODY_BYTES:
            raise ValueError(f"max_body_bytes: expected 1..{MAX_BODY_BYTES}, got {max_body_bytes}")
        self.handler = handler
        self.subscription = _short_name(subscription)
        self.dead_letter_topic = dead_letter_topic
        self.publisher = dead_letter_publisher
        self.auth = auth
        self.lease_seconds = lease_seconds
        self.max_body_bytes = max_body_bytes
        self._slots = threading.BoundedSemaphore(max_concurrent)

    @classmethod
    def from_spec(cls, spec: Spec, subscriber: str, handler: Handler, *, dead_letter_publisher: DeadLetterPublisher,
                  certs: Mapping[str, str] | None = None, certs_loader: Callable[[], Mapping[str, str]] | None = None,
                  **options: Any) -> PubSubPushReceiver:
        """The receiver of a push subscriber of `spec`: audience, service account, subscription and dead-letter
        topic as the gcp-pubsub module creates them, lease = the subscription's ack deadline."""
        sub = spec.subscribers.get(subscriber)
        where = f"{spec.location('subscribers', subscriber)} subscribers.{subscriber}"
        if sub is None or sub.pubsub is None or sub.pubsub.push_endpoint is None:
            raise ValueError(f"{where}: expected a Pub/Sub subscriber with pubsub.push.endpoint")
        push = sub.pubsub
        topic = spec.channels[sub.channel].resource_name
        auth = None
        if push.push_oidc_service_account_email is not None:
            auth = GoogleOidcToken(push.push_audience or push.push_endpoint, push.push_oidc_service_account_email,
                                   certs=certs, certs_loader=certs_loader)
        elif not push.push_allow_without_oidc_token:
            raise ValueError(f"{where}.pubsub.push: expected oidc_service_account_email")
        return cls(handler, subscription=subscription_name(topic, sub.name),
                   dead_letter_topic=dead_letter_topic_name(topic, sub.name),
                   dead_letter_publisher=dead_letter_publisher, auth=auth, allow_unauthenticated=auth is None,
                   lease_seconds=push.ack_deadline_seconds, **options)

    def __call__(self, method: str, headers: Mapping[str, str], body: bytes) -> PushResponse:
        headers = {name.lower(): value for name, value in headers.items()}
        if method != "POST":
            return _text(405, f"method {method} not allowed: expected POST", Allow="POST")
        if self.auth is not None:
            try:
                self.auth.check(headers)
            except PushAuthError as exc:
                log.warning("refused push to %s (%d): %s", self.subscription, exc.status, exc.detail)
                return _text(exc.status, exc.public, **exc.headers)
            except CertsUnavailable as exc:
                log.warning("cannot check push to %s: %s", self.subscription, exc)
                return _text(503, "signing certificates unavailable: retry later")
        if len(body) > self.max_body_bytes:
            return _text(413, f"request body of {len(body)} bytes exceeds {self.max_body_bytes}")
        media = headers.get("content-type", "").split(";", 1)[0].strip().lower()
        if media != "application/json":
            return _text(415, f"content-type {media or '(none)'!r}: expected application/json (a push envelope)")
        try:
            envelope = parse_envelope(body)
            if _short_name(envelope.subscription) != self.subscription:
                return _text(403, f"subscription {_short_name(envelope.subscription)!r} does not push here")
            message = decode(envelope.data, envelope.attributes,
                             f"Pub/Sub push {self.subscription} message {envelope.message_id}")
        except (EnvelopeError, MessageError) as exc:
            # Nacked: redelivered, then forwarded by the subscription's dead_letter_policy, like the pull adapter's.
            log.warning("push to %s refused: %s", self.subscription, exc)
            return _text(400, str(exc))
        if envelope.attributes.get(REPLAY_FOR, self.subscription) != self.subscription:
            return PushResponse(ACKED)  # another subscription's replay: not this one's to handle
        if not self._slots.acquire(blocking=False):
            return _text(429, "too many pushes in progress")
        try:
            return self._deliver(message, envelope)
        finally:
            self._slots.release()

    def _deliver(self, message: Message, envelope: PushEnvelope) -> PushResponse:
        metadata = {"message_id": envelope.message_id, "publish_time": envelope.publish_time,
                    "subscription": self.subscription}
        if envelope.ordering_key:
            metadata["ordering_key"] = envelope.ordering_key
        if DLQ_REASON_KEY in envelope.attributes:
            metadata[DLQ_REASON_KEY] = envelope.attributes[DLQ_REASON_KEY]
        metadata.update({name: value for name, value in envelope.attributes.items()
                         if name.startswith(SERVICE_DEAD_LETTER_PREFIX)})
        delivery = PushDelivery(message, envelope.delivery_attempt, self.subscription, metadata,
                                self.dead_letter_topic, self.publisher)
        token = current_leases.set(Leases(self.lease_seconds))
        try:
            handle(delivery, self.handler)
        finally:
            current_leases.reset(token)
        if delivery.outcome in ("acked", "dead-lettered"):
            return PushResponse(ACKED)
        if delivery.outcome == "nacked":
            return _text(503, f"message {message.id}: nacked, redeliver")
        return _text(503, f"message {message.id}: could not be settled, redeliver")


Responder = Callable[[str, Mapping[str, str], bytes], Any]  # returns an object with status, headers, body


def wsgi_app(receiver: Responder, max_body_bytes: int = MAX_BODY_BYTES) -> Callable[..., Iterable[bytes]]:
    """A WSGI application around a (method, headers, body) receiver answering an object with status, headers and
    body (PubSubPushReceiver; EventGridWebhook has the same shape). The body
    is read only up to `max_body_bytes` (a larger Content-Length is answered 413 unread), and only with a
    Content-Length (411 otherwise: chunked bodies would have to be read to be measured)."""
    from http import HTTPStatus

    def app(environ: Mapping[str, Any], start_response: Callable[..., Any]) -> Iterator[bytes]:
        headers = {key[5:].replace("_", "-").lower(): value for key, value in environ.items()
                   if key.startswith("HTTP_")}
        for key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            if environ.get(key):
                headers[key.replace("_", "-").lower()] = environ[key]
        length_text = environ.get("CONTENT_LENGTH") or ""
        if environ["REQUEST_METHOD"] == "POST" and not length_text.isdigit():
            response: Any = _text(411, "Content-Length required")
        elif length_text.isdigit() and int(length_text) > max_body_bytes:
            response = _text(413, f"request body of {length_text} bytes exceeds {max_body_bytes}")
        else:
            body = environ["wsgi.input"].read(int(length_text)) if length_text.isdigit() else b""
            response = receiver(environ["REQUEST_METHOD"], headers, body)
        phrase = HTTPStatus(response.status).phrase
        start_response(f"{response.status} {phrase}", [*response.headers.items(),
                                                       ("Content-Length", str(len(response.body)))])
        yield response.body

    return app


__all__ = ["ACKED", "CertsUnavailable", "EnvelopeError", "GoogleOidcToken", "PubSubPushReceiver", "PushAuthError",
           "PushDelivery", "PushEnvelope", "PushResponse", "certs_document", "google_certs_file", "parse_envelope",
           "wsgi_app"]
