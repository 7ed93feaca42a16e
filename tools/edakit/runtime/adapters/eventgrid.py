"""Azure Event Grid adapter: publish CloudEvents (azure-eventgrid), receive push deliveries, read dead letters.

Event Grid pushes to webhooks; there is no pull subscriber, so this module is three pieces rather than a Broker:

- `EventGridPublisher`: CloudEvents 1.0 schema to a topic endpoint, in requests of at most 1 MB (Event Grid's limit
  per publish request). Authenticate with a Microsoft Entra ID `TokenCredential` (azure-identity, e.g.
  `DefaultAzureCredential()`; the identity needs the role EventGrid Data Sender on the topic): the azure-eventgrid
  module turns access keys off. An access key (`aeg-sas-key`) works only on a topic with local auth on.
- `EventGridWebhook`: a framework-agnostic handler, (method, headers, body) -> WebhookResponse, that authenticates
  every request (`EntraIdToken`: the bearer token Event Grid sends for a subscription with
  `active_directory_tenant_id`/`active_directory_app_id_or_uri`; `SharedSecretHeader`: a `delivery_property` with
  `secret = true`) before anything else, answers the CloudEvents abuse-protection handshake (OPTIONS,
  `WebHook-Request-Origin`), the Event Grid schema `SubscriptionValidationEvent` (never fetching its
  `validationUrl`), and hands each CloudEvent of a request to your handler as a Delivery. No credentials -> 401,
  wrong credentials -> 403; the handler never sees either. Status codes follow Event Grid's delivery rules: 200 =
  delivered; 400/413 are never retried (dead-lettered at once, if the subscription has a dead-letter destination);
  429/503 are retried on Event Grid's schedule. A request is one unit: when a batch fails, Event Grid redelivers all
  of it, so keep the output batch size at 1 (Event Grid's default) unless handlers are idempotent.
- `read_dead_letters`: what Event Grid wrote to the subscription's dead-letter container, as Messages with a
  DeadLetterReason (blobs `<EVENT SUBSCRIPTION NAME, upper case>/<yyyy>/<m>/<d>/<h>/<uuid>.json`, each a JSON
  array of events carrying deadLetterReason, deliveryAttempts, lastDeliveryOutcome, ...).
"""

from __future__ import annotations

import hmac
import json
import logging
import math
import re
import threading
import time
import urllib.request
import uuid
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Protocol

import jwt
from azure.core.credentials import AzureKeyCredential, AzureSasCredential, TokenCredential
from azure.core.exceptions import AzureError, HttpResponseError
from azure.core.messaging import CloudEvent
from azure.eventgrid import EventGridPublisherClient
from azure.storage.blob import ContainerClient

from edakit.runtime.adapters.base import BrokerError, DeadLetterReason, PublishError
from edakit.runtime.cloudevents import HTTP_PREFIX, from_binary, from_structured, to_structured
from edakit.runtime.message import Message, MessageError

log = logging.getLogger(__name__)

MAX_REQUEST_BYTES = 1_048_576  # Event Grid: 1 MB per publish request and per delivered request
SERIALIZATION_SLACK = 64  # bytes per event
VALIDATION_EVENT = "Microsoft.EventGrid.SubscriptionValidationEvent"
STRUCTURED = "application/cloudevents+json"
BATCH = "application/cloudevents-batch+json"
# Event Grid's own origin in the CloudEvents abuse-protection handshake.
EVENT_GRID_ORIGIN = "eventgrid.azure.net"
# Dead-letter metadata Event Grid adds to each dead-lettered event.
DEAD_LETTER_FIELDS = ("deadLetterReason", "deliveryAttempts", "lastDeliveryOutcome", "lastHttpStatusCode",
                      "publishTime", "lastDeliveryAttemptTime")


# The scope azure-eventgrid asks a TokenCredential for (Event Grid's data plane).
EVENT_GRID_SCOPE = "https://eventgrid.azure.net/.default"


def encode(message: Message) -> bytes:
    """The event Event Grid receives (and its subscriptions' filters read) for a Message: CloudEvents 1.0 JSON,
    the topic's input schema. `edakit routes` derives kit examples on Event Grid with it (edakit.brokers.eventgrid)."""
    return to_structured(message)


class EventGridPublisher:
    """Publishes to Event Grid topics; `endpoints` maps a topic name to its endpoint URL.

    `credential` is a Microsoft Entra ID `TokenCredential` (azure-identity: `DefaultAzureCredential()`, a managed
    identity, a workload identity ...; its identity needs EventGrid Data Sender on the topic) - the way to publish to
    a topic of the azure-eventgrid module, which turns access keys off. A `str`, `AzureKeyCredential` or
    `AzureSasCredential` is an access key or SAS token, accepted only by a topic with `local_auth_enabled = true`.
    `request_options` are azure-core options for every send (e.g. `connection_verify` for a private CA,
    `retry_total`): per request, because EventGridPublisherClient drops constructor options for basic topics.
    """

    def __init__(self, endpoints: Mapping[str, str],
                 credential: TokenCredential | AzureKeyCredential | AzureSasCredential | str,
                 **request_options: object) -> None:
        self.endpoints = dict(endpoints)
        self.credential = AzureKeyCredential(credential) if isinstance(credential, str) else credential
        self.request_options = request_options
        self._clients: dict[str, EventGridPublisherClient] = {}

    def _client(self, topic: str) -> EventGridPublisherClient:
        if topic not in self.endpoints:
            known = ", ".join(sorted(self.endpoints))
            raise PublishError(f"Event Grid: no endpoint for topic {topic!r}; known: {known}")
        if topic not in self._clients:
            self._clients[topic] = EventGridPublisherClient(self.endpoints[topic], self.credential)
        return self._clients[topic]

    def publish(self, topic: str, messages: Sequence[Message]) -> None:
        """Raises PublishError on the first refused request; earlier requests were accepted (retry = duplicates)."""
        client = self._client(topic)
        for batch in _batches(messages):
            try:
                events = [CloudEvent.from_dict(json.loads(encode(m))) for m in batch]
                client.send(events, **self.request_options)
            except HttpResponseError as exc:
                raise PublishError(f"Event Grid topic {topic!r}: HTTP {exc.status_code}: {exc.message}") from exc
            except AzureError as exc:
                raise PublishError(f"Event Grid topic {topic!r}: {exc.message}") from exc

    def close(self) -> None:
        for client in self._clients.values():
            client.close()
        self._clients.clear()


def _batches(messages: Sequence[Message]) -> Iterator[list[Message]]:
    """Consecutive runs of messages whose structured form fits one publish request."""
    batch: list[Message] = []
    size = 2  # the JSON array's brackets
    for message in messages:
        # The SDK re-serializes with spaces after separators: allow for them on top of our compact form.
        event_size = len(to_structured(message)) + SERIALIZATION_SLACK
        if batch and size + event_size > MAX_REQUEST_BYTES:
            yield batch
            batch, size = [], 2
        batch.append(message)
        size += event_size
    if batch:
        yield batch


@dataclass
class WebhookDelivery:
    """One event of a push request; settling it decides the HTTP answer (see EventGridWebhook)."""

    message: Message
    attempt: int
    source: str
    metadata: Mapping[str, str]
    outcome: str | None = None
    delay_seconds: float = 0
    reason: DeadLetterReason | None = None

    def _settle(self, outcome: str) -> None:
        if self.outcome is not None:
            raise BrokerError(f"message {self.message.id}: {outcome} after it was already {self.outcome}")
        self.outcome = outcome

    def ack(self) -> None:
        self._settle("acked")

    def nack(self, delay_seconds: float = 0) -> None:
        self._settle("nacked")
        self.delay_seconds = delay_seconds

    def dead_letter(self, reason: DeadLetterReason) -> None:
        self._settle("dead-lettered")
        self.reason = reason


@dataclass(frozen=True)
class WebhookResponse:
    status: int
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""


def _text(status: int, text: str, **headers: str) -> WebhookResponse:
    return WebhookResponse(status, {"Content-Type": "text/plain; charset=utf-8", **headers}, text.encode())


def _media_type(content_type: str) -> str:
    return content_type.split(";", 1)[0].strip().lower()


# --- webhook authentication ------------------------------------------------------------------------------------------

# "Azure Event Grid", Microsoft's first-party application that requests the bearer token for a subscription with
# Microsoft Entra ID delivery (Azure public cloud; sovereign clouds have their own id: set allowed_client_ids).
EVENT_GRID_APP_ID = "4962773b-9cdb-44cf-a8bf-237846a00ab7"
TOKEN_ALGORITHM = "RS256"  # what Entra ID signs access tokens with; alg none, HS* and the rest are refused
MAX_TOKEN_CHARS = 16_384  # an Entra ID access token is a few KB; anything longer is refused unparsed
MIN_SECRET_CHARS = 16
MAX_JWKS_BYTES = 262_144
HEADER_NAME = re.compile(r"^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,64}$")  # an HTTP token (RFC 9110)
ISSUERS = {"v1": "https://sts.windows.net/{tenant}/", "v2": "https://login.microsoftonline.com/{tenant}/v2.0"}
KEYS_URLS = {"v1": "https://login.microsoftonline.com/{tenant}/discovery/keys",
             "v2": "https://login.microsoftonline.com/{tenant}/discovery/v2.0/keys"}
CLIENT_CLAIM = {"v1": "appid", "v2": "azp"}  # the calling application, by token version


class WebhookAuthError(Exception):
    """A request refused before the handler: `status` 401 (no credentials), 403 (wrong ones) or 503 (signing keys
    unavailable: Event Grid retries). `detail` is for the log only, never the response."""

    def __init__(self, status: int, public: str, detail: str, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.public = public
        self.detail = detail
        self.headers = dict(headers or {})


def _missing(public: str, **headers: str) -> WebhookAuthError:
    return WebhookAuthError(401, public, public, headers)


def _refused(detail: str) -> WebhookAuthError:
    return WebhookAuthError(403, "credentials refused", detail)


class WebhookAuth(Protocol):
    def check(self, headers: Mapping[str, str]) -> None:
        """Raise WebhookAuthError unless the request (lower-case header names) carries valid credentials."""


class SharedSecretHeader:
    """A secret in a request header: Event Grid's `delivery_property { type = "Static", secret = true }`.

    Several `secrets` may be valid at once, for rotation (add the new one here, update the subscription, then drop
    the old one). Each comparison is constant-time (hmac.compare_digest) and every secret is compared.
    """

    def __init__(self, header_name: str, secrets: str | Collection[str]) -> None:
        if not HEADER_NAME.match(header_name) or header_name.lower().startswith("aeg-"):
            raise ValueError(f"header_name {header_name!r}: expected an HTTP header name of 1-64 characters, "
                             f"not starting with aeg- (Event Grid's own headers)")
        values = (secrets,) if isinstance(secrets, str) else tuple(secrets)
        if not values or any(not isinstance(v, str) or len(v) < MIN_SECRET_CHARS for v in values):
            raise ValueError(f"secrets: expected one or more strings of at least {MIN_SECRET_CHARS} characters")
        self.header_name = header_name.lower()
        self._secrets = tuple(v.encode() for v in values)

    def check(self, headers: Mapping[str, str]) -> None:
        presented = headers.get(self.header_name)
        if presented is None:
            raise _missing(f"authentication required: header {self.header_name} missing")
        candidate = presented.encode("utf-8", "replace")
        matched = False
        for secret in self._secrets:
            matched |= hmac.compare_digest(candidate, secret)
        if not matched:
            raise _refused(f"header {self.header_name}: wrong secret")


class KeysUnavailable(Exception):
    """The tenant's signing keys could not be had: tokens cannot be checked (503, Event Grid retries)."""


def fetch_jwks(url: str, *, timeout: float = 10.0, max_bytes: int = MAX_JWKS_BYTES,
               ssl_context: Any = None) -> Mapping[str, Any]:
    """GET a JWKS document over https, bounded in time and size, without following redirects."""
    if not url.startswith("https://"):
        raise ValueError(f"JWKS url {url!r}: only https:// is fetched")

    class NoRedirects(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, req, fp, code, msg, headers, newurl):  # type: ignore[no-untyped-def]  # noqa: PLR0913
            raise KeysUnavailable(f"JWKS url {url}: redirected ({code}) to {newurl}; not followed")

    opener = urllib.request.build_opener(NoRedirects, urllib.request.HTTPSHandler(context=ssl_context))
    request = urllib.request.Request(url, headers={"Accept": "application/json"})  # noqa: S310 - https only, above
    with opener.open(request, timeout=timeout) as response:
        body = response.read(max_bytes + 1)
    if len(body) > max_bytes:
        raise KeysUnavailable(f"JWKS url {url}: document over {max_bytes} bytes")
    document = json.loads(body)
    if not isinstance(document, dict):
        raise KeysUnavailable(f"JWKS url {url}: expected a JSON object with `keys`")
    return document


def _signing_keys(document: Mapping[str, Any]) -> dict[str, jwt.PyJWK]:
    """kid -> RSA signature key of a JWKS document; other key types and uses are left out."""
    keys = document.get("keys") if isinstance(document, Mapping) else None
    if not isinstance(keys, list):
        raise KeysUnavailable("JWKS document: expected an object with a `keys` array")
    usable: dict[str, jwt.PyJWK] = {}
    for entry in keys:
        if (isinstance(entry, dict) and entry.get("kty") == "RSA" and entry.get("use", "sig") == "sig"
                and isinstance(entry.get("kid"), str)):
            try:
                usable[entry["kid"]] = jwt.PyJWK(entry, algorithm=TOKEN_ALGORITHM)
            except jwt.PyJWTError as exc:
                log.warning("JWKS key %s left out: %s", entry["kid"], exc)
    return usable


class _TenantKeys:
    """The tenant's signing keys: a fixed JWKS document, or fetched from the tenant's own keys URL (fixed by the
    configuration, never taken from a token) when a token names an unknown kid - at most once per
    `min_refresh_seconds`, so forged kids cannot make the webhook hammer the key endpoint."""

    RETRY_AFTER_FAILURE = 30.0

    def __init__(self, url: str, jwks: Mapping[str, Any] | None,
                 fetcher: Callable[[str], Mapping[str, Any]] | None, min_refresh_seconds: float) -> None:
        self.url = url
        self._fetcher = fetcher
        self._keys = _signing_keys(jwks) if jwks is not None else None
        self._min_refresh = min_refresh_seconds
        self._next_fetch = 0.0
        self._lock = threading.Lock()

    def get(self, kid: str) -> jwt.PyJWK | None:
        with self._lock:
            if self._keys is not None and kid in self._keys:
                return self._keys[kid]
            if self._fetcher is None:
                return None
            now = time.monotonic()
            if now < self._next_fetch:
                if self._keys is None:
                    raise KeysUnavailable(f"no signing keys from {self.url} yet")
                return None
            try:
                self._keys = _signing_keys(self._fetcher(self.url))
                self._next_fetch = now + self._min_refresh
            except Exception as exc:  # noqa: BLE001 - any fetch failure means: keys unknown for now
                self._next_fetch = now + min(self.RETRY_AFTER_FAILURE, self._min_refresh)
                log.warning("signing keys from %s unavailable: %s", self.url, exc)
                if self._keys is None:
                    raise KeysUnavailable(f"signing keys from {self.url} unavailable") from exc
            return self._keys.get(kid)


class EntraIdToken:
    """The bearer token Event Grid sends to a webhook whose subscription sets `active_directory_tenant_id` and
    `active_directory_app_id_or_uri` (Event Grid asks Entra ID for a token to that application).

    A token is accepted only if all hold: RS256 signature by a key of the tenant (`kid` looked up in `jwks`, or in
    the document `jwks_fetcher(url)` returns for the tenant's keys URL; a token's `jku`, `x5u` and `x5c` are never
    used); `iss` is the tenant's v1 (`https://sts.windows.net/<tenant>/`) or v2
    (`https://login.microsoftonline.com/<tenant>/v2.0`) issuer, as `issuer_version` says; `aud` is one of
    `audience` (the application id and/or its id URI); `tid` is the tenant; `exp` and `nbf` hold within
    `leeway_seconds`; and the calling application (`appid` in v1, `azp` in v2 tokens) is one of
    `allowed_client_ids` (Event Grid's own application by default) or the token holds one of `required_roles`
    (`roles` claim). Note that Microsoft's setup script gives the app role AzureEventGridSecureWebhookSubscriber to
    the subscription's creator as well as to Event Grid: requiring the role alone also admits the creator's tokens.
    """

    def __init__(self, tenant_id: str, audience: str | Collection[str], *, issuer_version: str = "v1",
                 allowed_client_ids: Collection[str] = (EVENT_GRID_APP_ID,), required_roles: Collection[str] = (),
                 jwks: Mapping[str, Any] | None = None,
                 jwks_fetcher: Callable[[str], Mapping[str, Any]] | None = None,
                 leeway_seconds: float = 60, min_refresh_seconds: float = 300) -> None:
        try:
            tenant = str(uuid.UUID(tenant_id))
        except (ValueError, TypeError, AttributeError):
            raise ValueError(f"tenant_id {tenant_id!r}: expected the tenant's id, a GUID") from None
        if issuer_version not in ISSUERS:
            raise ValueError(f"issuer_version {issuer_version!r}: expected v1 or v2")
        audiences = (audience,) if isinstance(audience, str) else tuple(audience)
        if not audiences or not all(isinstance(a, str) and a for a in audiences):
            raise ValueError("audience: expected the webhook application's id and/or id URI")
        if not allowed_client_ids and not required_roles:
            raise ValueError("allowed_client_ids and required_roles are both empty: no caller could be accepted")
        if (jwks is None) == (jwks_fetcher is None):
            raise ValueError("give exactly one of jwks (a JWKS document) or jwks_fetcher (called with the "
                             "tenant's keys URL; edakit.runtime.adapters.eventgrid.fetch_jwks fetches it)")
        if not 0 <= leeway_seconds <= 300:
            raise ValueError("leeway_seconds must be between 0 and 300")
        self.tenant_id = tenant
        self.audiences = audiences
        self.issuer_version = issuer_version
        self.issuer = ISSUERS[issuer_version].format(tenant=tenant)
        self.allowed_client_ids = frozenset(allowed_client_ids)
        self.required_roles = frozenset(required_roles)
        self.leeway_seconds = leeway_seconds
        self.keys = _TenantKeys(KEYS_URLS[issuer_version].format(tenant=tenant), jwks, jwks_fetcher,
                                min_refresh_seconds)

    def check(self, headers: Mapping[str, str]) -> None:
        authorization = headers.get("authorization")
        scheme, _, token = (authorization or "").partition(" ")
        token = token.strip()
        if authorization is None or scheme.lower() != "bearer" or not token:
            raise _missing("authentication required: Authorization: Bearer <Entra ID token>",
                           **{"WWW-Authenticate": "Bearer"})
        if len(token) > MAX_TOKEN_CHARS:
            raise _refused(f"bearer token of {len(token)} characters")
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise _refused(f"bearer token is not a JWT: {exc}") from None
        if header.get("alg") != TOKEN_ALGORITHM:
            raise _refused(f"token alg {header.get('alg')!r}: only {TOKEN_ALGORITHM} is accepted")
        kid = header.get("kid")
        if not isinstance(kid, str):
            raise _refused("token header has no kid")
        key = self.keys.get(kid)
        if key is None:
            raise _refused(f"token kid {kid!r} is not a signing key of tenant {self.tenant_id}")
        try:
            claims = jwt.decode(token, key, algorithms=[TOKEN_ALGORITHM], audience=list(self.audiences),
                                issuer=self.issuer, leeway=self.leeway_seconds,
                                options={"require": ["exp", "nbf", "iss", "aud", "tid"]})
        except jwt.PyJWTError as exc:
            raise _refused(f"token refused: {exc}") from None
        if claims.get("tid") != self.tenant_id:
            raise _refused(f"token tid {claims.get('tid')!r} is not tenant {self.tenant_id}")
        client = claims.get(CLIENT_CLAIM[self.issuer_version])
        roles = claims.get("roles")
        held = frozenset(r for r in roles if isinstance(r, str)) if isinstance(roles, list) else frozenset()
        if client not in self.allowed_client_ids and not held & self.required_roles:
            raise _refused(f"token of application {client!r} with roles {sorted(held)}: neither an allowed client "
                           f"nor holding a required role")


class EventGridWebhook:
    """Push-delivery endpoint: call it with each HTTP request (method, headers, body) and send back the response.

    `handler` gets each event as a Delivery (the same Handler the middleware chain composes), in request order.
    It settles it or not: returned unsettled = ack; raised = nack. The request's answer: every event acked -> 200;
    else the first event not acked decides, and later events are not handled: nack -> 503 (Event Grid retries the
    whole request), dead_letter -> 400 (Event Grid dead-letters the whole request; the reasons are in the body).
    `attempt` is Event Grid's `aeg-delivery-count` + 1. `allowed_origins` are the `WebHook-Request-Origin` values
    consented to in the OPTIONS handshake. At most `max_concurrent` requests run handlers at once; more are
    answered 429 so Event Grid retries them later.

    `auth` is required: an `EntraIdToken`, a `SharedSecretHeader`, or several (every one must pass). It is checked
    first, on deliveries and on both validation handshakes alike: Event Grid sends the bearer token and delivery
    headers with validation requests too, and a handshake answered to anyone would let any Event Grid subscription
    in any tenant gain consent to push here. No credentials -> 401, wrong ones -> 403, keys unavailable -> 503.
    `allow_unauthenticated=True` instead accepts requests from anyone, with a warning in the log: only for an
    endpoint that is otherwise shielded (a private network with its own authentication in front).
    """

    def __init__(self, handler: Callable[[WebhookDelivery], None], *,
                 auth: WebhookAuth | Sequence[WebhookAuth] = (), allow_unauthenticated: bool = False,
                 allowed_origins: Collection[str] = (EVENT_GRID_ORIGIN,), max_concurrent: int = 8,
                 max_body_bytes: int = MAX_REQUEST_BYTES) -> None:
        checks = tuple(auth) if isinstance(auth, Sequence) else (auth,)
        if not checks and not allow_unauthenticated:
            raise ValueError("EventGridWebhook needs auth=EntraIdToken(...) and/or SharedSecretHeader(...), the "
                             "credentials its event subscription sends; allow_unauthenticated=True accepts anyone")
        if checks and allow_unauthenticated:
            raise ValueError("EventGridWebhook: auth and allow_unauthenticated=True contradict each other")
        if allow_unauthenticated:
            log.warning("EventGridWebhook for %r: allow_unauthenticated=True, any client that reaches this "
                        "endpoint can deliver events to the handler", handler)
        self.handler = handler
        self.auth = checks
        self.allowed_origins = frozenset(allowed_origins)
        self.max_body_bytes = max_body_bytes
        self._slots = threading.BoundedSemaphore(max_concurrent)

    def __call__(self, method: str, headers: Mapping[str, str], body: bytes) -> WebhookResponse:
        headers = {name.lower(): value for name, value in headers.items()}
        if method not in ("POST", "OPTIONS"):
            return _text(405, f"method {method} not allowed: expected POST or OPTIONS", Allow="POST, OPTIONS")
        refused = self._authenticate(method, headers)
        if refused is not None:
            return refused
        if method == "OPTIONS":
            return self._handshake(headers)
        if len(body) > self.max_body_bytes:
            return _text(413, f"request body of {len(body)} bytes exceeds {self.max_body_bytes}")
        if headers.get("aeg-event-type") == "SubscriptionValidation":
            return self._validation(body)
        try:
            messages = parse_delivery(headers, body)
            attempt = int(headers.get("aeg-delivery-count", "0")) + 1
        except (MessageError, ValueError) as exc:
            return _text(400, str(exc))
        if not self._slots.acquire(blocking=False):
            return _text(429, "too many deliveries in progress", **{"Retry-After": "10"})
        try:
            return self._deliver(messages, attempt, headers.get("aeg-subscription-name", "webhook"))
        finally:
            self._slots.release()

    def _authenticate(self, method: str, headers: Mapping[str, str]) -> WebhookResponse | None:
        for check in self.auth:
            try:
                check.check(headers)
            except WebhookAuthError as exc:
                log.warning("refused %s request (%d): %s", method, exc.status, exc.detail)
                return _text(exc.status, exc.public, **exc.headers)
            except KeysUnavailable as exc:
                log.warning("cannot check %s request: %s", method, exc)
                return _text(503, "signing keys unavailable: retry later", **{"Retry-After": "30"})
        return None

    def _deliver(self, messages: list[Message], attempt: int, subscription: str) -> WebhookResponse:
        for message in messages:
            delivery = WebhookDelivery(message, attempt, subscription, {"subscription": subscription})
            try:
                self.handler(delivery)
            except Exception:  # noqa: BLE001 - a handler failure is a nack, as in the consume loop
                log.exception("handler failed for event %s from %s", message.id, subscription)
                if delivery.outcome is None:
                    delivery.nack()
            if delivery.outcome is None:
                delivery.ack()
            if delivery.outcome == "nacked":
                return _text(503, f"event {message.id}: retry later",
                             **{"Retry-After": str(max(1, math.ceil(delivery.delay_seconds)))})
            if delivery.outcome == "dead-lettered":
                return WebhookResponse(400, {"Content-Type": "application/json"}, json.dumps(
                    {"id": message.id, "dlq_reason": json.loads(delivery.reason.to_json())}).encode())
        return WebhookResponse(200)

    def _handshake(self, headers: Mapping[str, str]) -> WebhookResponse:
        origin = headers.get("webhook-request-origin")
        if origin is None:
            return _text(400, "OPTIONS without WebHook-Request-Origin: not an abuse-protection handshake",
                         Allow="POST, OPTIONS")
        if origin not in self.allowed_origins and "*" not in self.allowed_origins:
            # Consent is given by the WebHook-Allowed-Origin header alone; without it the sender must not deliver.
            return _text(403, f"origin {origin!r} is not allowed", Allow="POST, OPTIONS")
        return WebhookResponse(200, {"Allow": "POST, OPTIONS", "WebHook-Allowed-Origin": origin,
                                     "WebHook-Allowed-Rate": headers.get("webhook-request-rate", "*")})

    def _validation(self, body: bytes) -> WebhookResponse:
        try:
            events = json.loads(body)
            [code] = [e["data"]["validationCode"] for e in events if e.get("eventType") == VALIDATION_EVENT]
        except (ValueError, TypeError, KeyError, AttributeError):
            return _text(400, f"SubscriptionValidation: expected a JSON array with one {VALIDATION_EVENT} "
                              f"carrying data.validationCode")
        return WebhookResponse(200, {"Content-Type": "application/json"},
                               json.dumps({"validationResponse": code}).encode())


def parse_delivery(headers: Mapping[str, str], body: bytes) -> list[Message]:
    """Messages of one push request (lower-case header names): batch, structured or binary CloudEvents mode."""
    media = _media_type(headers.get("content-type", ""))
    if media == BATCH:
        try:
            events = json.loads(body)
        except ValueError as exc:
            raise MessageError(f"CloudEvents batch: not JSON ({exc})") from None
        if not isinstance(events, list):
            raise MessageError(f"CloudEvents batch: expected a JSON array, got {type(events).__name__}")
        return [from_structured(json.dumps(event), f"CloudEvents batch event #{n}") for n, event in enumerate(events)]
    if media == STRUCTURED:
        return [from_structured(body, "CloudEvents structured event")]
    if "ce-id" in headers:
        return [from_binary(headers, body, HTTP_PREFIX, "CloudEvents binary event")]
    raise MessageError(f"content-type {media or '(none)'!r}: expected {BATCH}, {STRUCTURED} or a binary-mode "
                       f"CloudEvent (ce-* headers)")


@dataclass(frozen=True)
class DeadLetteredEvent:
    message: Message
    reason: DeadLetterReason
    blob_name: str
    last_http_status: int | None


def dead_letter_prefix(subscription: str) -> str:
    """Event Grid names dead-letter blobs after the event subscription, in upper case."""
    return f"{subscription.upper()}/"


def read_dead_letters(container: ContainerClient, subscription: str,
                      since: datetime | None = None) -> Iterator[DeadLetteredEvent]:
    """Dead-lettered events of one event subscription, optionally only those dead-lettered at/after `since`."""
    for blob in container.list_blobs(name_starts_with=dead_letter_prefix(subscription)):
        if since is not None and blob.last_modified < since:
            continue
        text = container.download_blob(blob.name).readall()
        try:
            events = json.loads(text)
        except ValueError as exc:
            raise MessageError(f"dead-letter blob {blob.name}: not JSON ({exc})") from None
        if not isinstance(events, list):
            raise MessageError(f"dead-letter blob {blob.name}: expected a JSON array of events")
        for n, event in enumerate(events):
            yield dead_lettered_event(event, subscription, f"{blob.name} #{n}", blob.name)


def dead_lettered_event(event: object, subscription: str, where: str, blob_name: str) -> DeadLetteredEvent:
    """One entry of a dead-letter blob: the original CloudEvent plus Event Grid's dead-letter fields."""
    if not isinstance(event, dict):
        raise MessageError(f"{where}: expected a JSON object, got {type(event).__name__}")
    missing = [name for name in ("deadLetterReason", "deliveryAttempts") if name not in event]
    if missing:
        raise MessageError(f"{where}: missing dead-letter field(s) {', '.join(missing)}")
    original = {name: value for name, value in event.items() if name not in DEAD_LETTER_FIELDS}
    message = from_structured(json.dumps(original), where)
    # Event Grid records no first-failure time; the publish time bounds it from below.
    published = _time(event.get("publishTime"), where, "publishTime") or message.time
    last = _time(event.get("lastDeliveryAttemptTime"), where, "lastDeliveryAttemptTime") or published
    reason = DeadLetterReason(
        error_type=str(event["deadLetterReason"]), error_message=str(event.get("lastDeliveryOutcome", "")),
        attempts=int(event["deliveryAttempts"]), first_failure=published, last_failure=last,
        original_source=subscription)
    status = event.get("lastHttpStatusCode")
    return DeadLetteredEvent(message, reason, blob_name, int(status) if status is not None else None)


def _time(value: object, where: str, name: str) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError:
        raise MessageError(f"{where}: {name} {value!r} is not an ISO 8601 time") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)
