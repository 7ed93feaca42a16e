"""Google Cloud Pub/Sub adapter (google-cloud-pubsub): publish to a topic, synchronous pull from subscriptions.

Names follow the gcp-pubsub Terraform module: a consumer group `g` of topic `t` is the subscription `t-g`; its
dead-letter topic and the subscription reading it are both `t-g-dlq`.

- CloudEvents: binary mode per the Pub/Sub protocol binding (`ce-<attribute>` message attributes, `content-type`
  attribute, payload as message data), plus the channel's declared native attributes (`event_type`, from the spec:
  publisher(publisher_settings(spec)); mapping and limits in edakit.brokers.pubsub). More than 100 attributes, or a
  header the channel does not declare, is refused (AttributeContractError); structured mode (`content-type:
  application/cloudevents+json`, native attributes kept) only when a name or value breaks the 256/1024-byte limits.
- Message.key is the ordering key (the publisher enables message ordering; `message_ordering=True` makes created
  subscriptions deliver in order; Google redelivers a nacked message together with the later ones of its key, even
  acknowledged ones, in order, which Google's emulator does not reproduce).
- `attempt` is the service's delivery_attempt, which Pub/Sub counts only on subscriptions with a dead_letter_policy
  (created ones always have one); elsewhere it is 1.
- `nack(delay)` sets the ack deadline to `delay` (whole seconds, at most 600): redelivery no sooner than that.
- Slow handlers: `PubSubSubscriber.keep_alive(deliveries)` extends their ack deadlines (a ModifyAckDeadline heartbeat)
  until the handler is done.
- `dead_letter` publishes to the `-dlq` topic with the reason in a `dlq_reason` attribute, then acks, so it works
  whether or not the server applies the subscription's dead_letter_policy itself (pstest does not). Messages the
  service dead-lettered after max_delivery_attempts carry its `CloudPubSubDeadLetterSource*` attributes in metadata.
- A replay from the DLQ (`dead_letters(...)`, `edakit dlq replay`) is published to the source topic marked
  `edakit_replay_for: <topic>-<group>`; a subscriber of any other (non-dead-letter) subscription acks it unseen.
- `exactly_once=True` creates subscriptions with exactly-once delivery; an ack (or nack) the service refuses, e.g.
  of an expired or superseded ack id, then raises BrokerError naming the ErrorInfo reason (without exactly-once,
  such acks pass silently).
- `publish_timeout` (default 30 s) bounds one whole `publish` call (see PubSubPublisher): one deadline for all its
  messages, no retry left running in the client library after the call gave up.
- `emulator_host="127.0.0.1:PORT"` points this broker's clients at an emulator over a plaintext channel, without
  credentials; unlike the client library's process-wide PUBSUB_EMULATOR_HOST, two brokers can target two servers.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, wait
from contextlib import AbstractContextManager, suppress
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import grpc
from google.api_core.exceptions import AlreadyExists, DeadlineExceeded, GoogleAPICallError, ServiceUnavailable
from google.auth.exceptions import GoogleAuthError
from google.cloud import pubsub_v1
from google.cloud.pubsub_v1.publisher import exceptions as publisher_errors
from google.cloud.pubsub_v1.publisher._batch.base import BatchCancellationReason
from google.pubsub_v1.services.publisher.transports import PublisherGrpcTransport
from google.pubsub_v1.services.subscriber.transports import SubscriberGrpcTransport
from google.pubsub_v1.types import DeadLetterPolicy, ReceivedMessage, Subscription

from edakit.brokers import pubsub as profile
from edakit.brokers.attributes import AttributeContract, check_budget
from edakit.runtime.adapters.base import (DLQ_REASON_KEY, BrokerError, BrokerUnreachable, DeadLetterReason, PublishError,
                                         SubscriberDeadLetters, heartbeat)
from edakit.runtime.cloudevents import (
    CONTENT_TYPE,
    HTTP_PREFIX,
    STRUCTURED_CONTENT_TYPE,
    from_binary,
    from_structured,
    to_binary,
    to_structured,
)
from edakit.runtime.message import Message, MessageError

if TYPE_CHECKING:
    from google.auth.credentials import Credentials

    from edakit.runtime.settings import PublisherSettings

log = logging.getLogger(__name__)

# Pub/Sub resource limits (cloud.google.com/pubsub/quotas#resource_limits).
MAX_ATTRIBUTES = profile.MAX_ATTRIBUTES
MAX_ATTRIBUTE_NAME_BYTES = profile.MAX_ATTRIBUTE_NAME_BYTES
MAX_ATTRIBUTE_VALUE_BYTES = profile.MAX_ATTRIBUTE_VALUE_BYTES
MAX_ACK_DEADLINE = 600  # seconds
MAX_ACK_IDS = 1000  # per ModifyAckDeadline request: well inside the API's 512 KB request limit
# Attributes the service adds when its dead_letter_policy forwards a message (source subscription, delivery count...).
SERVICE_DEAD_LETTER_PREFIX = "CloudPubSubDeadLetterSource"
# A replay from a DLQ goes to the source topic, which reaches every subscription: it carries the subscription it is
# for in this attribute, and the kit's subscribers of the other subscriptions ack it unseen (PubSubDeadLetters).
REPLAY_FOR = "edakit_replay_for"
# Error-message suffix marking a reason cut to fit one attribute value.
CUT_MARK = "…"


subscription_name = profile.subscription_name  # the names the gcp-pubsub module creates (the profile's DLQ naming)
dead_letter_topic_name = profile.dead_letter_topic_name


def _fits(attributes: Mapping[str, str]) -> bool:
    return len(attributes) <= MAX_ATTRIBUTES and all(
        len(name.encode()) <= MAX_ATTRIBUTE_NAME_BYTES and len(value.encode()) <= MAX_ATTRIBUTE_VALUE_BYTES
        for name, value in attributes.items())


def encode(message: Message, extra: Mapping[str, str] | None = None, contract: AttributeContract | None = None,
           topic: str = "Pub/Sub") -> tuple[bytes, dict[str, str]]:
    """Pub/Sub data and attributes for a Message on a channel with `contract` (binary mode when it fits the
    attribute size limits); raises AttributeContractError over the attribute budget or for an undeclared header."""
    native = {}
    if contract is not None:
        contract.check_headers(message)
        native = contract.native_values(message)
    attributes = {**to_binary(message, HTTP_PREFIX), **native, **(extra or {})}
    budget = contract.budget if contract is not None and contract.budget is not None else MAX_ATTRIBUTES
    check_budget(topic, message, attributes, budget, profile.WHY)
    if _fits(attributes):
        return message.payload, attributes
    return to_structured(message), {CONTENT_TYPE: STRUCTURED_CONTENT_TYPE, **native, **(extra or {})}


def decode(data: bytes, attributes: Mapping[str, str], where: str) -> Message:
    """Structured mode when the Content-Type attribute is the JSON event format, else binary (names ignore case)."""
    attributes = {name.lower(): value for name, value in attributes.items()}
    if attributes.get(CONTENT_TYPE, "").split(";", 1)[0].strip().lower() == STRUCTURED_CONTENT_TYPE:
        return from_structured(data, where)
    return from_binary(attributes, data, HTTP_PREFIX, where)


def reason_attribute(reason: DeadLetterReason) -> str:
    """The reason as JSON, its error_message cut so the value fits one Pub/Sub attribute."""
    text, message = reason.to_json(), reason.error_message
    while (excess := len(text.encode()) - MAX_ATTRIBUTE_VALUE_BYTES) > 0 and message:
        # A character takes up to 4 bytes in UTF-8 and 6 as a JSON escape: cut in steps, re-measure.
        message = message[:-max(1, excess // 6)]
        text = replace(reason, error_message=message + CUT_MARK).to_json()
    return text


# How long a publish that timed out waits for its RPCs to end by their own deadlines (they start up to a batch
# latency, 10 ms by default, after the call's publish(), so they end that much after its deadline).
RPC_SETTLE_SECONDS = 0.5


# A publish that failed with UNAVAILABLE is sent again within the call's deadline after these pauses (doubling).
RESEND_FIRST_PAUSE = 0.1
RESEND_MAX_PAUSE = 1.0
_PRIOR_FAILED = BatchCancellationReason.PRIOR_ORDERED_MESSAGE_FAILED.value


def _resendable(failures: list[tuple[Message, str, BaseException | None]]) -> list[Message] | None:
    """The failed messages to send again (in order) when every failure is UNAVAILABLE or a later message of an
    UNAVAILABLE one's ordering key (the library fails those with it, or refuses them while the key is paused); None
    when any failure is of another kind."""
    keys = {message.key for message, _, exc in failures if isinstance(exc, ServiceUnavailable)}
    if not keys:
        return None
    for message, _, exc in failures:
        if not (isinstance(exc, ServiceUnavailable)
                or (message.key in keys and (isinstance(exc, publisher_errors.PublishToPausedOrderingKeyException)
                                             or (isinstance(exc, RuntimeError) and str(exc) == _PRIOR_FAILED)))):
            return None
    return [message for message, _, _ in failures]


def _publish_error(exc: BaseException) -> str:
    """A failed publish future's error as text (the library's errors may carry an empty message)."""
    if isinstance(exc, GoogleAPICallError):
        return f"{exc.code.name if exc.code is not None else type(exc).__name__}: {exc.message or exc.reason or ''}"
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


# Extra time a pull's RPC gets beyond the caller's timeout, so the server's answer is never cut off (see receive).
PULL_GRACE_SECONDS = 5.0


class PubSubBroker:
    """Settings for Pub/Sub in one project.

    `create_missing` makes `subscriber()` create the topic, subscription, dead-letter topic and its subscription
    (tests, demos); in production the gcp-pubsub Terraform module owns them (and the IAM the service agent needs to
    dead-letter).
    """

    features = frozenset({"consumer_groups", "delayed_nack"})

    def __init__(self, project: str, *, create_missing: bool = False, ack_deadline_seconds: int = 10,
                 max_delivery_attempts: int = 5, message_ordering: bool = False, exactly_once: bool = False,
                 publish_timeout: float = 30.0, emulator_host: str | None = None,
                 credentials: Credentials | None = None) -> None:
        self.project = project
        # google-auth credentials (edakit.runtime.adapters.security.pubsub_credentials: a service account or ADC);
        # None: the client library's own Application Default Credentials. Emulators take none.
        self.credentials = credentials
        self.emulator_host = emulator_host
        self.create_missing = create_missing
        self.ack_deadline_seconds = ack_deadline_seconds
        self.max_delivery_attempts = max_delivery_attempts
        self.message_ordering = message_ordering
        self.exactly_once = exactly_once
        if not publish_timeout > 0:
            raise ValueError(f"publish_timeout: expected seconds > 0, got {publish_timeout}")
        self.publish_timeout = publish_timeout

    def topic_path(self, topic: str) -> str:
        return f"projects/{self.project}/topics/{topic}"

    def subscription_path(self, subscription: str) -> str:
        return f"projects/{self.project}/subscriptions/{subscription}"

    def check_reachable(self, timeout: float) -> None:
        """Raise BrokerUnreachable unless Pub/Sub (or the emulator) answers one ListTopics within `timeout` s, without
        retries. Any answer counts, PermissionDenied too: the service is there."""
        where = f"emulator {self.emulator_host}" if self.emulator_host else "pubsub.googleapis.com"
        try:
            client = self.publisher_client()
        except GoogleAuthError as exc:
            raise BrokerUnreachable(f"Pub/Sub project {self.project} ({where}): {exc}") from None
        try:
            client.list_topics(request={"project": f"projects/{self.project}", "page_size": 1}, timeout=timeout,
                               retry=None)
        except (DeadlineExceeded, ServiceUnavailable) as exc:
            raise BrokerUnreachable(f"Pub/Sub project {self.project} ({where}): no answer within {timeout:g} s "
                                    f"({exc.message})") from None
        except GoogleAPICallError:
            pass
        finally:
            client.stop()
            client.transport.close()

    def publisher_client(self) -> pubsub_v1.PublisherClient:
        # Ordering keys are only accepted by a publisher that enables message ordering.
        options = pubsub_v1.types.PublisherOptions(enable_message_ordering=True)
        if self.emulator_host is None:
            return pubsub_v1.PublisherClient(publisher_options=options, credentials=self.credentials)
        return pubsub_v1.PublisherClient(
            publisher_options=options,
            transport=PublisherGrpcTransport(host=self.emulator_host, channel=_plaintext(self.emulator_host)))

    def subscriber_client(self) -> pubsub_v1.SubscriberClient:
        if self.emulator_host is None:
            return pubsub_v1.SubscriberClient(credentials=self.credentials)
        return pubsub_v1.SubscriberClient(
            transport=SubscriberGrpcTransport(host=self.emulator_host, channel=_plaintext(self.emulator_host)))

    def publisher(self, settings: PublisherSettings | None = None) -> PubSubPublisher:
        """A publisher; with `settings` (edakit.runtime.settings.publisher_settings(spec)) it sets each channel's
        declared attributes and refuses undeclared headers."""
        return PubSubPublisher(self, settings.contracts if settings is not None else None)

    def subscriber(self, topic: str, group: str) -> PubSubSubscriber:
        name, dlq = subscription_name(topic, group), dead_letter_topic_name(topic, group)
        if self.create_missing:
            self._provision(topic, name, dlq)
        return PubSubSubscriber(self, name, dead_letter_topic=dlq)

    def dead_letter_subscriber(self, topic: str, group: str) -> PubSubSubscriber:
        return PubSubSubscriber(self, dead_letter_topic_name(topic, group), dead_letter_topic=None)

    def dead_letters(self, topic: str, group: str, settings: PublisherSettings | None = None) -> PubSubDeadLetters:
        """The dead-letter subscription `<topic>-<group>-dlq`; a replay is for the subscription `<topic>-<group>`
        only (see PubSubDeadLetters)."""
        return PubSubDeadLetters(self, topic, group, settings)

    def _provision(self, topic: str, subscription: str, dlq: str) -> None:
        publisher, subscriber = self.publisher_client(), self.subscriber_client()
        try:
            for name in (topic, dlq):
                _ignore_existing(publisher.create_topic, {"name": self.topic_path(name)})
            _ignore_existing(subscriber.create_subscription, Subscription(
                name=self.subscription_path(subscription), topic=self.topic_path(topic),
                ack_deadline_seconds=self.ack_deadline_seconds,
                enable_message_ordering=self.message_ordering,
                enable_exactly_once_delivery=self.exactly_once,
                dead_letter_policy=DeadLetterPolicy(dead_letter_topic=self.topic_path(dlq),
                                                    max_delivery_attempts=self.max_delivery_attempts)))
            _ignore_existing(subscriber.create_subscription, Subscription(
                name=self.subscription_path(dlq), topic=self.topic_path(dlq),
                ack_deadline_seconds=self.ack_deadline_seconds))
        except GoogleAPICallError as exc:
            raise BrokerError(f"Pub/Sub: cannot create {topic!r}/{subscription!r}: {exc.message}") from exc
        finally:
            subscriber.close()
            publisher.stop()


def _plaintext(host: str) -> grpc.Channel:
    # Emulators speak plaintext and ignore credentials; the size limits are the ones the library sets on its channels.
    return grpc.insecure_channel(host, options=[("grpc.max_send_message_length", -1),
                                                ("grpc.max_receive_message_length", -1)])


def _describe(exc: GoogleAPICallError) -> str:
    """The error's message, else its ErrorInfo: exactly-once ack failures come with an empty message and the cause
    per ack id (e.g. EXACTLY_ONCE_ACKID_FAILURE, PERMANENT_FAILURE_INVALID_ACK_ID)."""
    if exc.message:
        return exc.message
    per_ack_id = sorted(set((exc.metadata or {}).values()))
    return f"{exc.reason or type(exc).__name__}" + (f" ({', '.join(per_ack_id)})" if per_ack_id else "")


def _only_invalid_ack_ids(exc: GoogleAPICallError) -> bool:
    """An exactly-once refusal whose every ack id is permanently invalid (acked, nacked or expired already)."""
    reasons = set((exc.metadata or {}).values())
    return exc.reason == "EXACTLY_ONCE_ACKID_FAILURE" and reasons == {"PERMANENT_FAILURE_INVALID_ACK_ID"}


def _ignore_existing(create, request) -> None:
    try:
        create(request=request)
    except AlreadyExists:
        pass


class PubSubPublisher:
    """`publish` returns once every message is acknowledged, or raises PublishError within the broker's
    `publish_timeout` (plus at most RPC_SETTLE_SECONDS while the last RPC's own deadline runs out).

    The client library gets no retry (`retry=None`) and an RPC deadline of what is left of the call's: with message
    ordering enabled (always, here) it would otherwise retry a failed batch with an unbounded deadline in the
    background, after this call gave up, so a failed publish could still reach the topic behind its caller's retry.
    Instead the call itself sends again, until its deadline, what failed with UNAVAILABLE (the server unreachable,
    or the connection lost) together with the later messages of the same ordering keys, in order; any other failure
    fails the call at once. Duplicate risk: a batch the server stored whose acknowledgement was lost (the connection
    broke after the request, or no answer came in time) is sent again by this retry or by the caller's; one extra
    copy per lost acknowledgement, never a copy after the call returned."""

    def __init__(self, broker: PubSubBroker, contracts: Mapping[str, AttributeContract] | None = None) -> None:
        self.broker = broker
        self.contracts = dict(contracts or {})
        self.client = broker.publisher_client()
        self.closed = False

    def publish(self, topic: str, messages: Sequence[Message], extra: Mapping[str, str] | None = None) -> None:
        path, timeout = self.broker.topic_path(topic), self.broker.publish_timeout
        contract = self.contracts.get(topic)
        for message in messages:  # a message the contract refuses fails the publish before anything is sent
            encode(message, extra, contract, topic)
        deadline = time.monotonic() + timeout
        pending, pause, timed_out = list(messages), RESEND_FIRST_PAUSE, False
        order = {id(message): n for n, message in enumerate(messages)}
        while True:
            failures, timed_out_now = self._send(path, pending, extra, deadline, contract)
            failures.sort(key=lambda failure: order[id(failure[0])])
            timed_out |= timed_out_now
            for key in {message.key for message, _, _ in failures if message.key}:
                # A failed publish pauses its ordering key; later publishes with it would fail until it is resumed.
                with suppress(RuntimeError):  # "Ordering key is not paused": its message was never sent
                    self.client.resume_publish(path, key)
            resend = _resendable(failures)
            if not failures or resend is None or deadline - time.monotonic() <= pause:
                break
            time.sleep(pause)
            pause = min(2 * pause, RESEND_MAX_PAUSE)
            pending = resend
        if failures:
            timed_out |= resend is not None  # unreachable until the deadline
            why = (f": not acknowledged within the publish timeout {timeout:g}s" if timed_out
                   else f" (publish timeout {timeout:g}s)")
            raise PublishError(f"Pub/Sub topic {topic!r}: {len(failures)} of {len(messages)} not published{why}; first: "
                               + "; ".join(f"{message.id}: {reason}" for message, reason, _ in failures[:3]))

    def _send(self, path: str, messages: Sequence[Message], extra: Mapping[str, str] | None,
              deadline: float, contract: AttributeContract | None = None,
              ) -> tuple[list[tuple[Message, str, BaseException | None]], bool]:
        """Publish once, wait for every future until `deadline`; the failures (message, reason, error) and whether
        any of them ran out of time."""
        futures: dict[Future, Message] = {}
        failures: list[tuple[Message, str, BaseException | None]] = []
        timed_out = False
        for message in messages:
            data, attributes = encode(message, extra, contract, path)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                failures.append((message, "not sent: the publish timeout ran out first", None))
                timed_out = True
                continue
            try:
                futures[self.client.publish(path, data, ordering_key=message.key or "", retry=None,
                                            timeout=remaining, **attributes)] = message
            except (publisher_errors.MessageTooLargeError,
                    publisher_errors.PublishToPausedOrderingKeyException) as exc:
                failures.append((message, f"{type(exc).__name__}: {exc}", exc))
        # One deadline for the whole call: all futures are waited on together.
        done, late = wait(futures, timeout=max(0.0, deadline - time.monotonic()))
        if late:
            # Each batch's RPC started a batch latency after its publish() and ends by its own deadline soon after
            # ours: let it, so that nothing of this publish is still in flight when the call returns.
            more, late = wait(late, timeout=RPC_SETTLE_SECONDS)
            done |= more
        for future in done:
            if (exc := future.exception()) is not None:
                timed_out |= isinstance(exc, DeadlineExceeded)
                failures.append((futures[future], _publish_error(exc), exc))
        for future in late:
            timed_out = True
            failures.append((futures[future], "no answer, and its RPC did not end: it may still be delivered", None))
        return failures, timed_out

    def close(self) -> None:
        # Idempotent like the other adapters' close(); the client refuses a second stop().
        if not self.closed:
            self.closed = True
            self.client.stop()


@dataclass
class PubSubDelivery:
    message: Message
    attempt: int
    source: str
    metadata: Mapping[str, str]
    subscriber: PubSubSubscriber = field(repr=False)

    @property
    def ack_id(self) -> str:
        return self.metadata["ack_id"]

    def ack(self) -> None:
        self.subscriber.call("acknowledge", {"ack_ids": [self.ack_id]})

    def nack(self, delay_seconds: float = 0) -> None:
        if not 0 <= delay_seconds <= MAX_ACK_DEADLINE:
            raise ValueError(f"nack delay_seconds: expected 0..{MAX_ACK_DEADLINE} (Pub/Sub's maximum ack deadline), "
                             f"got {delay_seconds}")
        self.subscriber.call("modify_ack_deadline",
                             {"ack_ids": [self.ack_id], "ack_deadline_seconds": math.ceil(delay_seconds)})

    def dead_letter(self, reason: DeadLetterReason) -> None:
        topic = self.subscriber.dead_letter_topic
        if topic is None:
            raise BrokerError(f"{self.source}: is a dead-letter subscription; it has no dead-letter topic")
        self.subscriber.dead_letter_publisher().publish(topic, [self.message],
                                                        extra={DLQ_REASON_KEY: reason_attribute(reason)})
        self.ack()


class PubSubSubscriber:
    def __init__(self, broker: PubSubBroker, subscription: str, *, dead_letter_topic: str | None) -> None:
        self.broker = broker
        self.subscription = subscription
        self.path = broker.subscription_path(subscription)
        self.dead_letter_topic = dead_letter_topic
        self.client = broker.subscriber_client()
        self._dead_letter_publisher: PubSubPublisher | None = None

    def dead_letter_publisher(self) -> PubSubPublisher:
        if self._dead_letter_publisher is None:
            self._dead_letter_publisher = self.broker.publisher()
        return self._dead_letter_publisher

    def call(self, method: str, request: dict,
             tolerated: Callable[[GoogleAPICallError], bool] | None = None) -> None:
        """Call a subscriber RPC on this subscription; failures become BrokerError unless `tolerated` says not."""
        try:
            getattr(self.client, method)(request={"subscription": self.path, **request})
        except GoogleAPICallError as exc:
            if tolerated is None or not tolerated(exc):
                raise BrokerError(f"Pub/Sub {method} on {self.subscription!r}: {_describe(exc)}") from exc

    def keep_alive(self, deliveries: Sequence[PubSubDelivery], ack_deadline_seconds: int = 30,
                   interval: float | None = None) -> AbstractContextManager[None]:
        """Lease extension for slow handlers: on entry and every `interval` (default a third of the deadline) push
        the ack deadline of `deliveries` to `ack_deadline_seconds` from now, until the block exits. Beyond Pub/Sub's
        maximum (600 s) each extension is capped there; the heartbeat keeps renewing it."""
        if ack_deadline_seconds < 1:
            raise ValueError(f"ack_deadline_seconds: expected at least 1 second, got {ack_deadline_seconds}")
        ack_deadline_seconds = min(ack_deadline_seconds, MAX_ACK_DEADLINE)

        def beat() -> None:
            ack_ids = [d.ack_id for d in deliveries]  # a snapshot: the caller may drop settled deliveries meanwhile
            for start in range(0, len(ack_ids), MAX_ACK_IDS):
                # Exactly-once refuses an ack id settled since the snapshot (or already lapsed) on its own and
                # extends the others: nothing is left to extend for it, so only other failures count.
                self.call("modify_ack_deadline", {"ack_ids": ack_ids[start:start + MAX_ACK_IDS],
                                                  "ack_deadline_seconds": ack_deadline_seconds},
                          tolerated=_only_invalid_ack_ids)

        return heartbeat(beat, interval if interval is not None else ack_deadline_seconds / 3, "pubsub-keep-alive")

    def receive(self, max_messages: int = 10, timeout: float = 1.0) -> list[PubSubDelivery]:
        """Pull until a message arrives or `timeout` passes. Each pull's RPC deadline is the time left plus a grace:
        a pull the client cuts off may already have taken messages on the server, which then count a delivery
        attempt and stay invisible for their ack deadline (the server holds an empty pull for a bounded time)."""
        deadline = time.monotonic() + timeout
        while True:
            rpc_timeout = max(deadline - time.monotonic(), 0.0) + PULL_GRACE_SECONDS
            started = time.monotonic()
            try:
                response = self.client.pull(request={"subscription": self.path, "max_messages": max_messages},
                                            retry=None, timeout=rpc_timeout)
            except GoogleAPICallError as exc:
                # A pull cut by its deadline is an empty pull; servers report DEADLINE_EXCEEDED or (pstest) UNKNOWN.
                if isinstance(exc, DeadlineExceeded) or time.monotonic() - started >= rpc_timeout:
                    return []
                raise BrokerError(f"Pub/Sub pull from {self.subscription!r}: {exc.message}") from exc
            deliveries = [delivery for received in response.received_messages
                          if (delivery := self._delivery(received)) is not None]
            if deliveries or time.monotonic() >= deadline:
                return deliveries

    def _delivery(self, received: ReceivedMessage) -> PubSubDelivery | None:
        pubsub_message = received.message
        attributes = dict(pubsub_message.attributes)
        where = f"Pub/Sub {self.subscription} message {pubsub_message.message_id}"
        try:
            message = decode(pubsub_message.data, attributes, where)
        except MessageError as exc:
            # Left unacked: its ack deadline passes and the dead_letter_policy takes it after max attempts.
            log.warning("skipping %s", exc)
            return None
        if self.dead_letter_topic is not None and attributes.get(REPLAY_FOR, self.subscription) != self.subscription:
            # Another subscription's replay (the source topic reaches every subscription): not this one's to handle.
            # A dead-letter subscription reads every message: the service forwards a failed replay with the attribute.
            self.call("acknowledge", {"ack_ids": [received.ack_id]})
            return None
        metadata = {"ack_id": received.ack_id, "message_id": pubsub_message.message_id,
                    "publish_time": pubsub_message.publish_time.isoformat()}
        if DLQ_REASON_KEY in attributes:
            metadata[DLQ_REASON_KEY] = attributes[DLQ_REASON_KEY]
        metadata.update({name: value for name, value in attributes.items()
                         if name.startswith(SERVICE_DEAD_LETTER_PREFIX)})
        if pubsub_message.ordering_key:
            metadata["ordering_key"] = pubsub_message.ordering_key
        return PubSubDelivery(message, received.delivery_attempt or 1, self.subscription, metadata, self)

    def close(self) -> None:
        if self._dead_letter_publisher is not None:
            self._dead_letter_publisher.close()
        if not self.client.closed:
            self.client.close()



class PubSubDeadLetters(SubscriberDeadLetters):
    """The dead-letter subscription `<topic>-<group>-dlq` (on the topic of the same name, as the gcp-pubsub module
    creates them).

    Pub/Sub cannot publish to one subscription, and a subscription's filter is fixed when it is created. Replay
    therefore publishes to the source topic with the channel's attributes (so the failing subscription's own filter
    still selects it) plus `edakit_replay_for = <topic>-<group>`; the kit's subscribers of every other subscription
    acknowledge such a message without handing it to their handler. A consumer of the topic that does not run the
    kit sees the replay unless its subscription's filter excludes it (`NOT attributes:edakit_replay_for`)."""

    def __init__(self, broker: PubSubBroker, topic: str, group: str, settings: PublisherSettings | None) -> None:
        super().__init__(broker.dead_letter_subscriber(topic, group))
        self.broker, self.topic, self.group, self.settings = broker, topic, group, settings
        self._publisher: PubSubPublisher | None = None
        self._filter_checked = False

    def _check_filter(self) -> None:
        """A filtered subscription drops a replay that lacks the attributes its filter reads, and the dead letter
        would be deleted: without the channel's contract (settings from the spec) such a replay is refused."""
        if self._filter_checked or (self.settings is not None and self.topic in self.settings.contracts):
            return
        name = subscription_name(self.topic, self.group)
        client = self.broker.subscriber_client()
        try:
            found = client.get_subscription(request={"subscription": self.broker.subscription_path(name)}).filter
        except GoogleAPICallError as exc:
            raise PublishError(f"Pub/Sub: cannot read subscription {name!r} to replay into it: {exc.message}") from exc
        finally:
            client.close()
        if found:
            raise PublishError(f"Pub/Sub: subscription {name!r} filters on {found!r}, and without the spec's "
                               f"attribute contract for {self.topic!r} the replay may not carry what it reads; "
                               f"replay with --spec SPEC [--env ENV]")
        self._filter_checked = True

    def replay(self, delivery: PubSubDelivery, to: str | None = None) -> None:  # type: ignore[override]
        if self._publisher is None:
            self._publisher = self.broker.publisher(self.settings)
        if to is None:
            self._check_filter()
        if to is not None:
            self._publisher.publish(to, [delivery.message])
        else:
            self._publisher.publish(self.topic, [delivery.message],
                                    extra={REPLAY_FOR: subscription_name(self.topic, self.group)})

    def close(self) -> None:
        if self._publisher is not None:
            self._publisher.close()
        super().close()
