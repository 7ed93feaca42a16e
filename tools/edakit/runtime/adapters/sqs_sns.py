"""Amazon SNS/SQS adapter (boto3): publish to an SNS topic, consume from each subscriber's SQS queue.

Names follow the aws-sns-sqs-fanout Terraform module: topic `<name>[.fifo]`, a consumer group `g` is the queue
`<name>-<g>[.fifo]` subscribed to it, with its native DLQ `<name>-<g>-dlq[.fifo]` behind a redrive policy.

- CloudEvents: binary mode as SNS/SQS message attributes (`ce_*`, `content-type`, mapping in edakit.brokers.sqs_sns)
  plus the channel's declared native attributes (`event_type`, from the spec: publisher(publisher_settings(spec)))
  when the payload is SQS-safe text; otherwise structured mode (`content-type: application/cloudevents+json`, JSON
  body; the native attributes still travel, so attribute filters on them hold). A publish whose attributes exceed
  the channel's budget (10 when a subscription has raw delivery to SQS, or when the publisher has no settings for the
  topic) is refused with AttributeContractError, never re-encoded; so is a header the channel does not declare.
  Queues with or without raw message delivery are both read.
- FIFO topics: MessageGroupId = Message.key (the id when there is no key), MessageDeduplicationId = Message.id.
- `attempt` is SQS's ApproximateReceiveCount; `nack(delay)` is ChangeMessageVisibility(delay); `dead_letter` sends
  to the DLQ with the reason in a `dlq_reason` attribute, then deletes. Slow handlers keep their messages with
  `SqsSubscriber.keep_alive` (a ChangeMessageVisibilityBatch heartbeat).
- A message that is not a CloudEvent is skipped (logged) and left to the queue's redrive policy.
- `publish_timeout` (default 30 s) bounds a publish: the clients' botocore Config is derived from it
  (client_configs), and no PublishBatch starts after it ran out. A caller's `config` is merged over that.
"""

from __future__ import annotations

import json
import logging
import math
import re
import time
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from edakit.brokers import sqs_sns as profile
from edakit.brokers.attributes import CLAIM_CHECK_SIZE_HEADER, AttributeContract, check_budget
from edakit.runtime.adapters.base import (DLQ_REASON_KEY, BrokerError, BrokerUnreachable, DeadLetterReason, PublishError,
                                         SubscriberDeadLetters, heartbeat)
from edakit.runtime.cloudevents import (
    CONTENT_TYPE,
    KAFKA_PREFIX,
    STRUCTURED_CONTENT_TYPE,
    from_binary,
    from_structured,
    to_binary,
    to_structured,
)
from edakit.runtime.message import Message, MessageError

if TYPE_CHECKING:
    from edakit.runtime.settings import PublisherSettings

log = logging.getLogger(__name__)

BATCH = 10  # SNS PublishBatch, SQS SendMessageBatch/DeleteMessageBatch/ChangeMessageVisibilityBatch limit
MAX_ATTRIBUTES = 10  # SQS message attributes per message (SNS raw delivery passes them through)
MAX_VISIBILITY = 43_200  # seconds, SQS maximum visibility timeout
# Per-message codes of a visibility change on a message that is no longer in flight (deleted, or back in the queue).
SETTLED_MEANWHILE = frozenset({"ReceiptHandleIsInvalid", "AWS.SimpleQueueService.MessageNotInflight",
                               "MessageNotInflight"})
# Characters SQS accepts in bodies and attribute values.
_SQS_TEXT = re.compile("[\x09\x0a\x0d\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]*")
ATTRIBUTE_PREFIX = profile.PREFIX  # `ce_`: SNS/SQS attribute names allow `_`, and no official binding exists
assert ATTRIBUTE_PREFIX == KAFKA_PREFIX
CLAIM_CHECK_SIZE = ATTRIBUTE_PREFIX + CLAIM_CHECK_SIZE_HEADER
# The claim-check size header travels as the attribute AWS's SQS Extended Client Library sets and reads (DataType
# Number), so either side reads the other's offloaded messages; the legacy name is read too. One attribute of the budget.
CLAIM_CHECK_SIZE_ATTRIBUTE = "ExtendedPayloadSize"
LEGACY_CLAIM_CHECK_SIZE_ATTRIBUTE = "SQSLargePayloadSize"


# Publish timeout (see client_configs): attempts per API call (standard retry mode: throttling, 5xx and connection
# errors are retried once, after a backoff of at most 1 s), each attempt's connect and read timeout a quarter of the
# publish timeout, so one call ends within the publish timeout plus that backoff.
PUBLISH_ATTEMPTS = 2
RECEIVE_READ_TIMEOUT = 20 + 5  # seconds: above SQS's longest long poll (WaitTimeSeconds 20)


def client_configs(publish_timeout: float) -> tuple[Config, Config]:
    """botocore configs of the SNS (publish) and SQS (receive, settle, dead-letter) clients for a publish timeout.

    boto3's defaults (legacy retry mode, 5 attempts, 60 s connect and read timeouts) hold a call to an endpoint that
    is down or silent for seconds to minutes. SQS's read timeout stays above its 20 s long poll."""
    per_attempt = publish_timeout / (2 * PUBLISH_ATTEMPTS)
    retries = {"mode": "standard", "total_max_attempts": PUBLISH_ATTEMPTS}
    return (Config(connect_timeout=per_attempt, read_timeout=per_attempt, retries=retries),
            Config(connect_timeout=per_attempt, read_timeout=max(per_attempt, RECEIVE_READ_TIMEOUT), retries=retries))


def _fifo(name: str) -> bool:
    return name.endswith(".fifo")


queue_name = profile.queue_name  # the names the aws-sns-sqs-fanout module creates (the profile's DLQ naming)
dead_letter_queue_name = profile.dead_letter_queue_name


def encode(message: Message, extra: Mapping[str, str] | None = None, contract: AttributeContract | None = None,
           topic: str = "SNS", *, dead_letter: bool = False) -> tuple[str, dict[str, dict[str, str]]]:
    """SQS/SNS body and message attributes (Publish API form) for a Message published on a channel with `contract`
    (None: no declared native attributes or headers check, and the raw-SQS budget of 10).

    Raises AttributeContractError when the attributes exceed the budget or a header is undeclared. `dead_letter`
    (a SendMessage to a DLQ, which no filter reads) falls back to structured mode instead of refusing."""
    native = {}
    if contract is not None:
        contract.check_headers(message)
        native = contract.native_values(message)
    attributes = {**to_binary(message, ATTRIBUTE_PREFIX), **native, **(extra or {})}
    if (size := attributes.pop(CLAIM_CHECK_SIZE, None)) is not None:  # AWS's name, read by its Extended Client
        attributes[CLAIM_CHECK_SIZE_ATTRIBUTE] = size
    budget = contract.budget if contract is not None else profile.UNKNOWN_SUBSCRIPTIONS_BUDGET
    if dead_letter:
        budget = MAX_ATTRIBUTES  # SQS SendMessage
    elif budget is not None:
        check_budget(topic, message, attributes, budget, profile.WHY)
    try:
        body = message.payload.decode()
    except UnicodeDecodeError:
        body = None
    binary_ok = (body is not None and _SQS_TEXT.fullmatch(body) is not None
                 and (budget is None or len(attributes) <= budget)
                 and all(v and _SQS_TEXT.fullmatch(v) for v in attributes.values()))
    if not binary_ok:
        body = to_structured(message).decode()
        attributes = {CONTENT_TYPE: STRUCTURED_CONTENT_TYPE, **native, **(extra or {})}
    numbers = contract.numbers(message) if contract is not None else set()
    numbers.add(CLAIM_CHECK_SIZE_ATTRIBUTE)  # DataType Number, as the Extended Client sends it
    return body, {name: {"DataType": "Number" if name in numbers else "String", "StringValue": value}
                  for name, value in attributes.items()}


def decode(body: str, attributes: Mapping[str, str], where: str) -> Message:
    size = attributes.get(CLAIM_CHECK_SIZE_ATTRIBUTE, attributes.get(LEGACY_CLAIM_CHECK_SIZE_ATTRIBUTE))
    if size is not None:  # offloaded (by the kit or AWS's Extended Client): the claim-check header of the Message
        attributes = {**attributes, CLAIM_CHECK_SIZE: size}
    if attributes.get(CONTENT_TYPE) == STRUCTURED_CONTENT_TYPE:
        return from_structured(body, where)
    return from_binary(attributes, body.encode(), ATTRIBUTE_PREFIX, where)


def _unwrap(sqs_message: Mapping) -> tuple[str, dict[str, str]]:
    """Body and attributes of an SQS message, whether SNS delivered it raw or in its JSON envelope."""
    body = sqs_message["Body"]
    attributes = {k: v["StringValue"] for k, v in sqs_message.get("MessageAttributes", {}).items()
                  if "StringValue" in v}
    if not attributes and body.startswith("{"):
        envelope = json.loads(body)
        if isinstance(envelope, dict) and envelope.get("Type") == "Notification" and "TopicArn" in envelope:
            return envelope["Message"], {k: v["Value"] for k, v in envelope.get("MessageAttributes", {}).items()}
    return body, attributes


class SqsSnsBroker:
    """Settings for SNS/SQS in one account and region.

    `create_missing` makes `subscriber()` create the topic, queue, DLQ, redrive policy and raw-delivery
    subscription (tests, demos); in production the aws-sns-sqs-fanout Terraform module owns them.
    Per-key ordering holds on FIFO topics only (".fifo"), so "ordering" is not in the broker-wide `features`.
    """

    features = frozenset({"consumer_groups", "native_dlq", "delayed_nack"})

    def __init__(self, session: boto3.Session | None = None, *, endpoint_url: str | None = None,
                 create_missing: bool = False, max_receive_count: int = 5, visibility_timeout: int = 30,
                 publish_timeout: float = 30.0, config: Config | None = None,
                 topic_arns: Mapping[str, str] | None = None) -> None:
        if not publish_timeout > 0:
            raise ValueError(f"publish_timeout: expected seconds > 0, got {publish_timeout}")
        session = session or boto3.Session()
        self._session, self.endpoint_url = session, endpoint_url
        self.publish_timeout = publish_timeout
        # The caller's config wins where it sets something (Config.merge: the argument's explicit settings override).
        publish, receive = client_configs(publish_timeout)
        self.sns = session.client("sns", endpoint_url=endpoint_url,
                                  config=publish.merge(config) if config else publish)
        self.sqs = session.client("sqs", endpoint_url=endpoint_url,
                                  config=receive.merge(config) if config else receive)
        self.create_missing = create_missing
        self.max_receive_count = max_receive_count
        self.visibility_timeout = visibility_timeout
        # ARNs of existing topics (the aws-sns-sqs-fanout module's topic_arn): publishing to them then needs
        # sns:Publish only, which is all the module's publisher policy grants; unknown topics go through CreateTopic.
        self._topic_arns: dict[str, str] = dict(topic_arns or {})

    def check_reachable(self, timeout: float) -> None:
        """Raise BrokerUnreachable unless SQS answers one ListQueues within `timeout` s, one attempt (botocore would
        retry a refused connection for seconds). Any answer counts, an AccessDenied too: the endpoint is there."""
        sqs = self._session.client("sqs", endpoint_url=self.endpoint_url, config=Config(
            connect_timeout=timeout, read_timeout=timeout, retries={"total_max_attempts": 1, "mode": "standard"}))
        try:
            sqs.list_queues(MaxResults=1)
        except ClientError:
            pass
        except BotoCoreError as exc:
            where = self.endpoint_url or f"region {sqs.meta.region_name}"
            raise BrokerUnreachable(f"SQS {where}: {exc}") from None
        finally:
            sqs.close()

    def topic_arn(self, topic: str) -> str:
        if topic not in self._topic_arns:
            # CreateTopic is idempotent and returns the ARN of an existing topic.
            attributes = {"FifoTopic": "true"} if _fifo(topic) else {}
            self._topic_arns[topic] = self.sns.create_topic(Name=topic, Attributes=attributes)["TopicArn"]
        return self._topic_arns[topic]

    def queue_url(self, name: str) -> str:
        try:
            return self.sqs.get_queue_url(QueueName=name)["QueueUrl"]
        except ClientError as exc:
            raise BrokerError(f"SQS: queue {name!r} not found ({exc.response['Error']['Code']})") from exc

    def publisher(self, settings: PublisherSettings | None = None) -> SnsPublisher:
        """A publisher; with `settings` (edakit.runtime.settings.publisher_settings(spec)) it sets each channel's
        declared attributes and holds its budget."""
        return SnsPublisher(self, settings.contracts if settings is not None else {})

    def subscriber(self, topic: str, group: str) -> SqsSubscriber:
        queue, dlq = queue_name(topic, group), dead_letter_queue_name(topic, group)
        if self.create_missing:
            self._provision(topic, queue, dlq)
        return SqsSubscriber(self, topic, self.queue_url(queue), dlq_url=self.queue_url(dlq))

    def dead_letter_subscriber(self, topic: str, group: str) -> SqsSubscriber:
        dlq = dead_letter_queue_name(topic, group)
        if self.create_missing:
            self._provision(topic, queue_name(topic, group), dlq)
        return SqsSubscriber(self, topic, self.queue_url(dlq), dlq_url=None)

    def dead_letters(self, topic: str, group: str, settings: PublisherSettings | None = None) -> SqsDeadLetters:
        """The DLQ of `group`; a replay is sent straight to the group's own queue (a redrive)."""
        return SqsDeadLetters(self, topic, group, settings.contracts.get(topic) if settings is not None else None)

    def _provision(self, topic: str, queue: str, dlq: str) -> None:
        fifo = {"FifoQueue": "true"} if _fifo(topic) else {}
        dlq_url = self.sqs.create_queue(QueueName=dlq, Attributes=fifo)["QueueUrl"]
        dlq_arn = self.sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        redrive = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": self.max_receive_count})
        url = self.sqs.create_queue(QueueName=queue, Attributes={
            **fifo, "RedrivePolicy": redrive, "VisibilityTimeout": str(self.visibility_timeout)})["QueueUrl"]
        arn = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        self.sns.subscribe(TopicArn=self.topic_arn(topic), Protocol="sqs", Endpoint=arn,
                           Attributes={"RawMessageDelivery": "true"})


class SnsPublisher:
    def __init__(self, broker: SqsSnsBroker, contracts: Mapping[str, AttributeContract] | None = None) -> None:
        self._broker = broker
        self._contracts = dict(contracts or {})

    def publish(self, topic: str, messages: Sequence[Message]) -> None:
        """PublishBatch, 10 entries per call; any failed entry fails the whole publish (earlier ones stay sent).

        Gives up within the broker's publish_timeout (plus at most one retry backoff, 1 s): no batch is started after
        it ran out, and each API call is bounded by the client config (client_configs)."""
        timeout = self._broker.publish_timeout
        deadline, sent = time.monotonic() + timeout, 0
        # Encoded up front: a message the contract refuses fails the publish before anything is sent.
        encoded = [self._entry(str(i % BATCH), m, topic) for i, m in enumerate(messages)]
        try:
            arn = self._broker.topic_arn(topic)
            for start in range(0, len(messages), BATCH):
                if time.monotonic() >= deadline:
                    raise PublishError(f"SNS: {len(messages) - sent} of {len(messages)} message(s) to {topic!r} not "
                                       f"sent within the publish timeout {timeout:g}s ({sent} sent)")
                entries = encoded[start:start + BATCH]
                failed = self._broker.sns.publish_batch(TopicArn=arn, PublishBatchRequestEntries=entries).get("Failed")
                if failed:
                    first = failed[0]
                    raise PublishError(f"SNS: {len(failed)} message(s) rejected by {topic!r}, first: "
                                       f"{first.get('Code')}: {first.get('Message')}")
                sent += len(entries)
        except (ClientError, BotoCoreError) as exc:
            config = self._broker.sns.meta.config
            raise PublishError(f"SNS: publish to {topic!r} failed, {len(messages) - sent} of {len(messages)} "
                               f"message(s) not acknowledged (publish timeout {timeout:g}s: {PUBLISH_ATTEMPTS} attempt(s) per "
                               f"call, connect/read timeout {config.connect_timeout:g}s/{config.read_timeout:g}s "
                               f"each): {exc}") from exc

    def _entry(self, entry_id: str, message: Message, topic: str) -> dict:
        body, attributes = encode(message, contract=self._contracts.get(topic), topic=topic)
        entry = {"Id": entry_id, "Message": body, "MessageAttributes": attributes}
        if _fifo(topic):
            entry |= {"MessageGroupId": message.key or message.id, "MessageDeduplicationId": message.id}
        return entry

    def close(self) -> None:
        """Nothing buffered: every publish call has completed when it returns."""


@dataclass
class SqsDelivery:
    message: Message
    attempt: int
    source: str
    metadata: Mapping[str, str]
    _subscriber: SqsSubscriber = field(repr=False)
    _receipt_handle: str = field(repr=False)

    def ack(self) -> None:
        self._subscriber.ack_all([self])

    def nack(self, delay_seconds: float = 0) -> None:
        self.extend_visibility(delay_seconds)

    def extend_visibility(self, seconds: float) -> None:
        """Keep (or release) the message: it becomes visible again `seconds` from now."""
        self._subscriber._call("ChangeMessageVisibility", self._subscriber.sqs.change_message_visibility,
                               QueueUrl=self._subscriber.queue_url, ReceiptHandle=self._receipt_handle,
                               VisibilityTimeout=min(MAX_VISIBILITY, math.ceil(seconds)))

    def dead_letter(self, reason: DeadLetterReason) -> None:
        self._subscriber._dead_letter(self, reason)


class SqsSubscriber:
    def __init__(self, broker: SqsSnsBroker, topic: str, queue_url: str, dlq_url: str | None) -> None:
        self.sqs = broker.sqs
        self.topic, self.queue_url, self.dlq_url = topic, queue_url, dlq_url

    def _call(self, action: str, method, **params):  # noqa: ANN001, ANN202 - a boto3 client method
        try:
            return method(**params)
        except (ClientError, BotoCoreError) as exc:
            raise BrokerError(f"SQS: {action} on {self.queue_url} failed: {exc}") from exc

    def receive(self, max_messages: int = 10, timeout: float = 1.0) -> list[SqsDelivery]:
        """Long polling: SQS waits in whole seconds, so `timeout` is rounded, and at least 1 s unless 0."""
        wait = 0 if timeout <= 0 else max(1, min(20, round(timeout)))
        response = self._call("ReceiveMessage", self.sqs.receive_message, QueueUrl=self.queue_url,
                              MaxNumberOfMessages=max(1, min(BATCH, max_messages)), WaitTimeSeconds=wait,
                              MessageAttributeNames=["All"], MessageSystemAttributeNames=["All"])
        deliveries = []
        for raw in response.get("Messages", []):
            body, attributes = _unwrap(raw)
            try:
                message = decode(body, attributes, f"SQS message {raw['MessageId']} in {self.queue_url}")
            except MessageError as exc:
                # Left in flight: the queue's redrive policy moves it to the DLQ after maxReceiveCount receives.
                log.warning("skipping a message that is not a CloudEvent: %s", exc)
                continue
            metadata = {"queue_url": self.queue_url, "message_id": raw["MessageId"]}
            if DLQ_REASON_KEY in attributes:
                metadata[DLQ_REASON_KEY] = attributes[DLQ_REASON_KEY]
            attempt = int(raw.get("Attributes", {}).get("ApproximateReceiveCount", "1"))
            deliveries.append(SqsDelivery(message, attempt, self.topic, metadata, self, raw["ReceiptHandle"]))
        return deliveries

    def ack_all(self, deliveries: Sequence[SqsDelivery]) -> None:
        """DeleteMessageBatch, 10 per call."""
        for start in range(0, len(deliveries), BATCH):
            chunk = deliveries[start:start + BATCH]
            response = self._call("DeleteMessageBatch", self.sqs.delete_message_batch, QueueUrl=self.queue_url,
                                  Entries=[{"Id": str(i), "ReceiptHandle": d._receipt_handle}
                                           for i, d in enumerate(chunk)])
            if response.get("Failed"):
                first = response["Failed"][0]
                raise BrokerError(f"SQS: delete failed for {len(response['Failed'])} message(s) in {self.queue_url}, "
                                  f"first: {first.get('Code')}: {first.get('Message')}")

    def keep_alive(self, deliveries: Sequence[SqsDelivery], visibility_timeout: int = 30,
                   interval: float | None = None) -> AbstractContextManager[None]:
        """Heartbeat for slow handlers: on entry and every `interval` (default a third of the timeout) push the
        visibility timeout of `deliveries` to `visibility_timeout` seconds from now, until the block exits. SQS
        holds a message at most 12 h after its receipt in all: an extension past that is refused (BrokerError)."""
        if visibility_timeout < 1:
            raise ValueError(f"visibility_timeout: expected at least 1 second, got {visibility_timeout}")

        def beat() -> None:
            current = list(deliveries)  # a snapshot: the caller may drop settled deliveries meanwhile
            for start in range(0, len(current), BATCH):
                response = self._call("ChangeMessageVisibilityBatch", self.sqs.change_message_visibility_batch,
                                      QueueUrl=self.queue_url,
                                      Entries=[{"Id": str(i), "ReceiptHandle": d._receipt_handle,
                                                "VisibilityTimeout": visibility_timeout}
                                               for i, d in enumerate(current[start:start + BATCH])])
                # A message deleted since the snapshot has nothing left to extend; any other refusal counts.
                failed = [f for f in response.get("Failed", []) if f.get("Code") not in SETTLED_MEANWHILE]
                if failed:
                    raise BrokerError(f"SQS: ChangeMessageVisibilityBatch on {self.queue_url}: {len(failed)} "
                                      f"message(s) refused, first: {failed[0].get('Code')}: {failed[0].get('Message')}")

        return heartbeat(beat, interval if interval is not None else visibility_timeout / 3, "sqs-keep-alive")

    def _dead_letter(self, delivery: SqsDelivery, reason: DeadLetterReason) -> None:
        if self.dlq_url is None:
            raise BrokerError(f"SQS: {self.queue_url} is a dead-letter queue; it has no DLQ of its own")
        body, attributes = encode(delivery.message, {DLQ_REASON_KEY: reason.to_json()}, dead_letter=True)
        params = {"QueueUrl": self.dlq_url, "MessageBody": body, "MessageAttributes": attributes}
        if _fifo(self.dlq_url):
            params |= {"MessageGroupId": delivery.message.key or delivery.message.id,
                       "MessageDeduplicationId": delivery.message.id}
        self._call("SendMessage", self.sqs.send_message, **params)
        delivery.ack()

    def close(self) -> None:
        """Nothing to release: the boto3 clients belong to the broker."""


class SqsDeadLetters(SubscriberDeadLetters):
    """Replay sends to the group's own queue `<topic>-<group>`, as a redrive would (receive -> send -> delete: no
    StartMessageMoveTask needed, and a failed send leaves the message in the DLQ); no other queue of the topic sees
    it. With the channel's contract the message carries its declared native attributes, as a publish would."""

    def __init__(self, broker: SqsSnsBroker, topic: str, group: str, contract: AttributeContract | None) -> None:
        super().__init__(broker.dead_letter_subscriber(topic, group))
        self.broker, self.topic, self.group, self.contract = broker, topic, group, contract
        self._queue_urls: dict[str, str] = {}

    def replay(self, delivery: SqsDelivery, to: str | None = None) -> None:  # type: ignore[override]
        """`to` names a queue here (not a topic): the message is sent to that queue instead of the group's."""
        name = to or queue_name(self.topic, self.group)
        if name not in self._queue_urls:
            self._queue_urls[name] = self.broker.queue_url(name)
        queue_url = self._queue_urls[name]
        body, attributes = encode(delivery.message, contract=self.contract, topic=self.topic)
        params = {"QueueUrl": queue_url, "MessageBody": body, "MessageAttributes": attributes}
        if _fifo(queue_url):
            params |= {"MessageGroupId": delivery.message.key or delivery.message.id,
                       "MessageDeduplicationId": delivery.message.id}
        try:
            self.broker.sqs.send_message(**params)
        except (ClientError, BotoCoreError) as exc:
            raise PublishError(f"SQS: SendMessage to {queue_url} failed: {exc}") from exc
