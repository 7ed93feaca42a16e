"""Request-reply over any broker, built only on the adapter interface (Publisher, Subscriber).

A request is a Message carrying two CloudEvents extension attributes (headers, so every broker binding maps them
like the others: `ce_correlationid` on Kafka and SQS/SNS, `ce-correlationid` on Pub/Sub and HTTP):

- `correlationid`: the request's id; the reply carries the same value, which is how the requester matches it;
- `replyto`: the topic the reply is published to, the requester's own reply channel.

A `Requester` owns one reply channel: a topic only it reads, as one consumer group (embedded broker: a topic;
Kafka: a topic; SQS/SNS: a topic delivering to one queue). One receiver thread reads it and hands each reply to the
`request()` call waiting for its correlation id, so many threads may wait at once. A reply whose request already
gave up (timed out) is acknowledged and counted as late, never handed to anyone; a reply that matches no request
this client sent is acknowledged and counted as unmatched; a message without a correlation id is dead-lettered.

A responder answers with `Responder.reply(delivery, payload)`, which publishes to the request's `replyto`.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone

from edakit.runtime.adapters.base import BrokerError, DeadLetterReason, Delivery, Publisher, Subscriber
from edakit.runtime.message import Message

CORRELATION_ID = "correlationid"
REPLY_TO = "replyto"
HEADERS = (CORRELATION_ID, REPLY_TO)
# How many timed-out correlation ids a requester remembers to tell a late reply from a stray one.
REMEMBERED_TIMEOUTS = 10_000

log = logging.getLogger(__name__)


class RequestTimeout(TimeoutError):
    """No reply arrived within the request's timeout."""


class NotARequest(ValueError):
    """A reply was asked for a message that carries no `replyto` or `correlationid`."""


@dataclass
class ReplyStats:
    replies: int = 0  # handed to a waiting request()
    late: int = 0  # arrived after their request timed out: dropped
    unmatched: int = 0  # correlation id of no request of this client: dropped
    malformed: int = 0  # no correlation id: dead-lettered


class _Waiter:
    __slots__ = ("event", "reply")

    def __init__(self) -> None:
        self.event = threading.Event()
        self.reply: Message | None = None


class Requester:
    """Sends requests and waits for their replies on `reply_topic`, read by `subscriber` (a consumer of that topic
    in a group of this client alone). Close it to stop the receiver thread and release the subscriber.

    `publisher` is used under a lock (some adapters allow one publish at a time per instance)."""

    def __init__(self, publisher: Publisher, subscriber: Subscriber, reply_topic: str, *,
                 source: str = "urn:edakit:requester", poll: float = 0.2) -> None:
        self.reply_topic = reply_topic
        self.source = source
        self.stats = ReplyStats()
        self._publisher, self._subscriber, self._poll = publisher, subscriber, poll
        self._publish_lock = threading.Lock()
        self._lock = threading.Lock()
        self._waiting: dict[str, _Waiter] = {}
        self._timed_out: OrderedDict[str, None] = OrderedDict()
        self._stop = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._receive_loop, name=f"replies:{reply_topic}", daemon=True)
        self._thread.start()

    @classmethod
    def for_broker(cls, broker, client_id: str, *, source: str = "urn:edakit:requester",  # noqa: ANN001 - any Broker
                   poll: float = 0.2) -> Requester:
        """A requester whose reply channel is the topic `replies-<client_id>`, read as group `<client_id>` (created
        by the broker's `subscriber()` where it creates missing topics/queues; in production, provision it)."""
        topic = f"replies-{client_id}"
        return cls(broker.publisher(), broker.subscriber(topic, client_id), topic, source=source, poll=poll)

    def request(self, topic: str, type: str, payload: bytes, *, timeout: float, key: str | None = None,
                headers: Mapping[str, str] | None = None) -> Message:
        """Publish a request of `type` to `topic` and return the correlated reply; raise RequestTimeout when none
        arrives within `timeout` seconds (the publish counts against it)."""
        if not timeout > 0:
            raise ValueError(f"timeout: expected seconds > 0, got {timeout}")
        clash = sorted(set(headers or {}) & set(HEADERS))
        if clash:
            raise ValueError(f"headers {', '.join(clash)} are set by request(), not by the caller")
        started = time.monotonic()
        request_id = str(uuid.uuid4())
        message = Message(id=request_id, type=type, source=self.source, payload=payload,
                          time=datetime.now(timezone.utc), key=key,
                          headers={**(headers or {}), CORRELATION_ID: request_id, REPLY_TO: self.reply_topic})
        waiter = _Waiter()
        with self._lock:
            self._raise_if_stopped()
            self._waiting[message.id] = waiter
        try:
            with self._publish_lock:
                self._publisher.publish(topic, [message])
            if waiter.event.wait(max(0.0, timeout - (time.monotonic() - started))) and waiter.reply is not None:
                return waiter.reply
        finally:
            with self._lock:
                self._waiting.pop(message.id, None)
                if waiter.reply is None:
                    self._timed_out[message.id] = None
                    while len(self._timed_out) > REMEMBERED_TIMEOUTS:
                        self._timed_out.popitem(last=False)
        if waiter.reply is not None:  # arrived between the wait's end and the waiter's removal
            return waiter.reply
        with self._lock:
            self._raise_if_stopped()
        raise RequestTimeout(f"request {message.id} ({type}) to {topic!r}: no reply on {self.reply_topic!r} within "
                             f"{timeout:g}s (the responder may be down or slow; a reply arriving later is dropped)")

    def _raise_if_stopped(self) -> None:
        if self._error is not None:
            raise RuntimeError(f"requester {self.reply_topic!r}: the reply receiver failed: {self._error}")
        if self._stop.is_set():
            raise RuntimeError(f"requester {self.reply_topic!r} is closed")

    def _receive_loop(self) -> None:
        try:
            while not self._stop.is_set():
                try:
                    deliveries = self._subscriber.receive(max_messages=10, timeout=self._poll)
                except BrokerError as exc:  # a broker hiccup: waiting requests time out unless it recovers
                    log.warning("requester %s: receiving replies failed, retrying in 1 s: %s", self.reply_topic, exc)
                    self._stop.wait(1.0)
                    continue
                for delivery in deliveries:
                    self._settle(delivery)
        except BaseException as exc:  # noqa: BLE001 - handed to every waiting and later request()
            with self._lock:
                self._error = exc
                waiters = list(self._waiting.values())
            for waiter in waiters:
                waiter.event.set()

    def _settle(self, delivery: Delivery) -> None:
        correlation = delivery.message.headers.get(CORRELATION_ID)
        if correlation is None:
            now = datetime.now(timezone.utc)
            delivery.dead_letter(DeadLetterReason("NotAReply", f"no {CORRELATION_ID} header", delivery.attempt,
                                                  now, now, delivery.source))
            with self._lock:
                self.stats.malformed += 1
            return
        with self._lock:
            waiter = self._waiting.get(correlation)
            if waiter is not None and waiter.reply is None:
                waiter.reply = delivery.message
                self.stats.replies += 1
            elif correlation in self._timed_out:
                self.stats.late += 1
            else:
                self.stats.unmatched += 1
        delivery.ack()
        if waiter is not None:
            waiter.event.set()

    def close(self) -> None:
        """Stop the receiver (within one poll) and close the subscriber and publisher; idempotent."""
        if self._stop.is_set():
            return
        self._stop.set()
        self._thread.join()
        self._subscriber.close()
        self._publisher.close()

    def __enter__(self) -> Requester:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def reply_message(request: Message, payload: bytes, *, type: str | None = None,
                  source: str = "urn:edakit:responder") -> tuple[str, Message]:
    """The reply to `request` and the topic it goes to: same correlation id, type `<request type>.reply` unless
    given. Raises NotARequest when the request has no `replyto` or `correlationid`."""
    missing = [h for h in HEADERS if not request.headers.get(h)]
    if missing:
        raise NotARequest(f"message {request.id} ({request.type}) is not a request: no {' and no '.join(missing)} "
                          f"header")
    reply = Message.new(type or f"{request.type}.reply", payload, source=source,
                        headers={CORRELATION_ID: request.headers[CORRELATION_ID]})
    return request.headers[REPLY_TO], reply


class Responder:
    """Answers requests: `reply(delivery, payload)` publishes the reply to the request's reply channel. Ack the
    request after replying, so a crash in between leads to a redelivery (and perhaps a second reply, which the
    requester drops as late or hands over if it is the first)."""

    def __init__(self, publisher: Publisher, *, source: str = "urn:edakit:responder") -> None:
        self._publisher, self.source = publisher, source
        self._lock = threading.Lock()

    def reply(self, delivery: Delivery, payload: bytes, *, type: str | None = None) -> Message:
        topic, message = reply_message(delivery.message, payload, type=type, source=self.source)
        with self._lock:
            self._publisher.publish(topic, [message])
        return message

    def serve(self, subscriber: Subscriber, handle: Callable[[Message], bytes], *,
              stop: threading.Event, poll: float = 0.2) -> None:
        """Receive requests until `stop` is set: reply with `handle(request)`'s payload, then ack. A message that is
        not a request is dead-lettered; a handler error propagates, leaving the request unacked (redelivered)."""
        while not stop.is_set():
            for delivery in subscriber.receive(max_messages=10, timeout=poll):
                try:
                    self.reply(delivery, handle(delivery.message))
                except NotARequest as exc:
                    now = datetime.now(timezone.utc)
                    delivery.dead_letter(DeadLetterReason("NotARequest", str(exc), delivery.attempt, now, now,
                                                          delivery.source))
                    continue
                delivery.ack()

    def close(self) -> None:
        self._publisher.close()
