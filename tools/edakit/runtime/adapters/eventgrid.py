"""Azure Event Grid adapter: publish CloudEvents (azure-eventgrid), receive push deliveries, read dead letters.

Event Grid pushes to webhooks; there is no pull subscriber, so this module is three pieces rather than a Broker:

- `EventGridPublisher`: CloudEvents 1.0 schema to a topic endpoint with its access key (`aeg-sas-key`), in requests
  of at most 1 MB (Event Grid's limit per publish request).
- `EventGridWebhook`: a framework-agnostic handler, (method, headers, body) -> WebhookResponse, that answers the
  CloudEvents abuse-protection handshake (OPTIONS, `WebHook-Request-Origin`), the Event Grid schema
  `SubscriptionValidationEvent`, and hands each CloudEvent of a request to your handler as a Delivery. Status codes
  follow Event Grid's delivery rules: 200 = delivered; 400/413 are never retried (dead-lettered at once, if the
  subscription has a dead-letter destination); 429/503 are retried on Event Grid's schedule. A request is one unit:
  when a batch fails, Event Grid redelivers all of it, so keep the output batch size at 1 (Event Grid's default)
  unless handlers are idempotent.
- `read_dead_letters`: what Event Grid wrote to the subscription's dead-letter container, as Messages with a
  DeadLetterReason (blobs `<EVENT SUBSCRIPTION NAME, upper case>/<yyyy>/<m>/<d>/<h>/<uuid>.json`, each a JSON
  array of events carrying deadLetterReason, deliveryAttempts, lastDeliveryOutcome, ...).
"""

from __future__ import annotations

import json
import logging
import math
import threading
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone

from azure.core.credentials import AzureKeyCredential
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


class EventGridPublisher:
    """Publishes to Event Grid topics; `endpoints` maps a topic name to its endpoint URL.

    `request_options` are azure-core options for every send (e.g. `connection_verify` for a private CA,
    `retry_total`): per request, because EventGridPublisherClient drops constructor options for basic topics.
    """

    def __init__(self, endpoints: Mapping[str, str], key: str, **request_options: object) -> None:
        self.endpoints = dict(endpoints)
        self.credential = AzureKeyCredential(key)
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
                events = [CloudEvent.from_dict(json.loads(to_structured(m))) for m in batch]
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


class EventGridWebhook:
    """Push-delivery endpoint: call it with each HTTP request (method, headers, body) and send back the response.

    `handler` gets each event as a Delivery (the same Handler the middleware chain composes), in request order.
    It settles it or not: returned unsettled = ack; raised = nack. The request's answer: every event acked -> 200;
    else the first event not acked decides, and later events are not handled: nack -> 503 (Event Grid retries the
    whole request), dead_letter -> 400 (Event Grid dead-letters the whole request; the reasons are in the body).
    `attempt` is Event Grid's `aeg-delivery-count` + 1. `allowed_origins` are the `WebHook-Request-Origin` values
    consented to in the OPTIONS handshake. At most `max_concurrent` requests run handlers at once; more are
    answered 429 so Event Grid retries them later.
    """

    def __init__(self, handler: Callable[[WebhookDelivery], None], *,
                 allowed_origins: Collection[str] = (EVENT_GRID_ORIGIN,), max_concurrent: int = 8,
                 max_body_bytes: int = MAX_REQUEST_BYTES) -> None:
        self.handler = handler
        self.allowed_origins = frozenset(allowed_origins)
        self.max_body_bytes = max_body_bytes
        self._slots = threading.BoundedSemaphore(max_concurrent)

    def __call__(self, method: str, headers: Mapping[str, str], body: bytes) -> WebhookResponse:
        headers = {name.lower(): value for name, value in headers.items()}
        if method == "OPTIONS":
            return self._handshake(headers)
        if method != "POST":
            return _text(405, f"method {method} not allowed: expected POST or OPTIONS", Allow="POST, OPTIONS")
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
