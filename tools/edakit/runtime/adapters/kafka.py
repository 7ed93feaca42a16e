"""Kafka adapter (confluent-kafka): CloudEvents binary mode over record headers, non-blocking retry topics.

Conventions shared with the kafka-topics Terraform module: a consumer group `g` reading topic `t` nacks into
`t.g.retry.<n>` (n = 1..retry_topic_count, the attempt's level, capped at the last) and dead-letters into `t.g.dlq`.
With retry_topic_count 0 (a DLQ after the first delivery, `dlq.max_receive_count: 1`) nack raises BrokerError.

- Record key = Message.key (the CloudEvents Kafka binding maps `partitionkey` to the key); other attributes are
  `ce_*` headers and `content-type`. `publisher(settings)` follows each channel's publish contract (edakit.brokers,
  profile kafka): undeclared headers are refused, declared native attributes (e.g. `event_type`) become headers.
- Producers use acks=all with idempotence; `publish` returns after every record is acknowledged, or raises
  PublishError within `publish_timeout` (default 30 s) and leaves nothing behind: librdkafka's own delivery timeout
  (`message.timeout.ms`, default 300 s) is bounded by it, and a publish that fails purges what the client still
  holds, so no record of a failed publish reaches the broker later (a relay retrying a batch would otherwise add
  a copy per retry). A record purged in flight may already be written: a duplicate only where its ack was lost.
- Offsets are stored only when a delivery is settled (ack, nack copied to a retry topic, or dead-lettered), and only
  up to the first unsettled offset of each partition; librdkafka auto-commits stored offsets (and on close).
- Redelivery count: Kafka keeps none. `attempt` is carried in the `edakit_attempt` header of retry copies; a record
  redelivered after a crash or rebalance reports the attempt it was published with. Retry copies also carry the
  source record's position (`edakit_original_topic/partition/offset`), which dead-letter reasons then report.
- `receive` blocks only until the first record arrives, then returns it with whatever else is already fetched.
- Ordering: per key within the source topic; a nacked message is retried out of order (non-blocking retries).
- A record that is not a CloudEvent is moved, unchanged, to the DLQ topic with the reason (it would otherwise block
  or silently vanish).
- `nack(delay)`: the retry copy carries `edakit_not_before`; the consumer pauses that retry partition until then.
- Transactions: `transactional_publisher(id).transaction()` publishes atomically and, for consume-transform-produce,
  commits the consumed offsets in the same transaction (`send_offsets_to_transaction`); consumers read_committed.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from edakit.brokers import kafka as profile
from edakit.runtime.adapters.base import DLQ_REASON_KEY, BrokerError, BrokerUnreachable, DeadLetterReason, PublishError
from edakit.runtime.adapters.security import kafka_config
from edakit.runtime.cloudevents import KAFKA_PREFIX, from_binary, pair_builder
from edakit.runtime.message import Message, MessageError

if TYPE_CHECKING:
    from edakit.brokers.attributes import AttributeContract
    from edakit.runtime.settings import PublisherSettings

ATTEMPT_HEADER = "edakit_attempt"
# librdkafka logs each failed connection attempt; a reachability check reports its own single line instead.
_SILENT = logging.getLogger("edakit.kafka.check")
_SILENT.addHandler(logging.NullHandler())
_SILENT.propagate = False
_PRODUCER_ONLY = {"acks", "enable.idempotence", "linger.ms", "delivery.report.only.error", "message.timeout.ms",
                  "request.timeout.ms", "transactional.id"}
# Client errors that mean the cluster answered but refused this client, and how check_reachable names them.
_REFUSED = {KafkaError._AUTHENTICATION: "authentication failed", KafkaError._SSL: "TLS handshake failed"}
NOT_BEFORE_HEADER = "edakit_not_before"  # epoch milliseconds
# Where a retry copy was first read (source topic), so its dead-letter reason names the original position.
ORIGINAL_HEADERS = ("edakit_original_topic", "edakit_original_partition", "edakit_original_offset")
_PARTITION_KEY = KAFKA_PREFIX + "partitionkey"
PURGE_REPORTS_WAIT = 1.0  # seconds; upper bound only: the reports of purged records are served at once
_binary_headers = pair_builder(KAFKA_PREFIX, partitionkey=False, content_type=True)  # the key is the record key


def retry_topic(topic: str, group: str, n: int) -> str:
    return f"{topic}.{group}.retry.{n}"


dead_letter_topic = profile.dead_letter_topic  # the DLQ topic the kafka-topics module creates (the profile's naming)


def encode(message: Message, extra_headers: Mapping[str, str] | None = None,
           contract: AttributeContract | None = None) -> tuple[str | None, bytes, list[tuple[str, str]]]:
    """Record key, value and headers for a Message (binary content mode); the client encodes str keys and header
    values as UTF-8 (in C, cheaper than `str.encode` here). With the channel's `contract` (edakit.brokers), a header
    the spec does not declare is refused (AttributeContractError) and the declared native attributes are set as
    record headers under their own names; Kafka has no header count limit (the contract's budget is None)."""
    headers = _binary_headers(message)
    if contract is not None:
        contract.check_headers(message)
        headers.extend(contract.native_values(message).items())
    if extra_headers:
        headers.extend(extra_headers.items())
    return message.key, message.payload, headers


def decode(record) -> tuple[Message, dict[str, str]]:  # noqa: ANN001 - confluent_kafka.Message
    """Message and all record headers as text."""
    headers = {name: (value or b"").decode() for name, value in (record.headers() or [])}
    attributes = dict(headers)
    if record.key() is not None:
        attributes[_PARTITION_KEY] = record.key().decode()
    where = f"Kafka record {record.topic()}[{record.partition()}]@{record.offset()}"
    return from_binary(attributes, record.value() or b"", KAFKA_PREFIX, where), headers


class KafkaBroker:
    """Settings for one Kafka cluster.

    `create_missing_topics` makes `subscriber()` create the topic, its retry and DLQ topics (tests, demos);
    in production the kafka-topics Terraform module owns them.
    """

    features = frozenset({"ordering", "consumer_groups", "transactions", "delayed_nack"})

    def __init__(self, bootstrap_servers: str, *, retry_topic_count: int = 3, producer_config: Mapping | None = None,
                 consumer_config: Mapping | None = None, create_missing_topics: bool = False,
                 partitions: int = 3, publish_timeout: float = 30.0, security: Mapping | None = None) -> None:
        if retry_topic_count < 0:
            raise ValueError(f"retry_topic_count: expected 0 or more, got {retry_topic_count}")
        if not publish_timeout > 0:
            raise ValueError(f"publish_timeout: expected seconds > 0, got {publish_timeout}")
        self.bootstrap_servers = bootstrap_servers
        # Every client of this cluster - producers, consumers and admin clients - starts from these settings:
        # the spec's `kafka.security` as librdkafka settings (edakit.runtime.adapters.security.kafka_config).
        self.client_config: dict[str, object] = {"bootstrap.servers": bootstrap_servers,
                                                 **kafka_config(security)}
        self.retry_topic_count = retry_topic_count
        self.publish_timeout = publish_timeout
        timeout_ms = math.ceil(publish_timeout * 1000)
        # Delivery reports only for failures: flush() returning 0 already says every record was acknowledged.
        # A record never outlives the publish that produced it (message.timeout.ms, alias delivery.timeout.ms),
        # and no produce request waits for its ack longer than that either.
        self.producer_config = {**self.client_config, "acks": "all", "enable.idempotence": True,
                                "linger.ms": 5, "delivery.report.only.error": True, "message.timeout.ms": timeout_ms,
                                "request.timeout.ms": min(30_000, timeout_ms), **(producer_config or {})}
        self.consumer_config = {**self.client_config, "auto.offset.reset": "earliest",
                                "enable.auto.commit": True, "enable.auto.offset.store": False,
                                "isolation.level": "read_committed", **(consumer_config or {})}
        self.create_missing_topics = create_missing_topics
        self.partitions = partitions

    def publisher(self, settings: PublisherSettings | None = None) -> KafkaPublisher:
        """`settings` (edakit.runtime.settings.publisher_settings): each channel's publish contract by topic; a topic
        without one is published as before (CloudEvents headers only)."""
        return KafkaPublisher(self.producer_config, self.publish_timeout,
                              contracts=settings.contracts if settings is not None else None)

    def check_reachable(self, timeout: float) -> None:
        """Raise BrokerUnreachable unless a broker of the cluster answers a metadata request within `timeout` s
        (librdkafka keeps retrying an unreachable bootstrap server silently: a consumer would just see nothing)."""
        errors: list[KafkaError] = []
        client = self.admin_client(error_cb=errors.append)
        try:
            client.list_topics(timeout=timeout)
        except KafkaException as exc:
            error = exc.args[0]
            reason = error.str() if isinstance(error, KafkaError) else str(error)
            client.poll(0)  # serves the client's error events (error_cb) that list_topics does not
            refused = [e for e in errors if e.code() in _REFUSED]
            if refused:  # "transport failure" alone would hide why: the credentials or the TLS handshake failed
                reason = f"{_REFUSED[refused[-1].code()]}: {refused[-1].str()}"
            elif errors and errors[-1].str() != reason:  # e.g. a TLS 1.3 alert only shows on the first read
                reason = f"{reason}; last client error: {errors[-1].str()}"
            raise BrokerUnreachable(f"Kafka {self.bootstrap_servers}: no broker answered within {timeout:g} s "
                                    f"({reason})") from None

    def admin_client(self, **extra: object) -> AdminClient:
        """An AdminClient with this cluster's connection and security settings (and the producer's, for the ones an
        admin client shares with it), quiet: callers report failures themselves."""
        return AdminClient({k: v for k, v in self.producer_config.items() if k not in _PRODUCER_ONLY}
                           | {"logger": _SILENT, **extra})

    def transactional_publisher(self, transactional_id: str) -> KafkaTransactionalPublisher:
        config = {**self.producer_config, "transactional.id": transactional_id}
        # librdkafka refuses a message timeout above the transaction timeout (default 60 s).
        config.setdefault("transaction.timeout.ms", max(60_000, int(config["message.timeout.ms"])))
        return KafkaTransactionalPublisher(Producer(config))

    def subscriber(self, topic: str, group: str) -> KafkaSubscriber:
        retries = [retry_topic(topic, group, n) for n in range(1, self.retry_topic_count + 1)]
        if self.create_missing_topics:
            self.create_topics([topic, *retries, dead_letter_topic(topic, group)])
        return KafkaSubscriber(self, topic, group, [topic, *retries], retries, dead_letter_topic(topic, group))

    def dead_letter_subscriber(self, topic: str, group: str) -> KafkaSubscriber:
        """Reads `<topic>.<group>.dlq` as group `<group>.dlq`; nack and dead_letter are refused there."""
        dlq = dead_letter_topic(topic, group)
        if self.create_missing_topics:
            self.create_topics([dlq])
        return KafkaSubscriber(self, dlq, f"{group}.dlq", [dlq], [], None)

    def dead_letters(self, topic: str, group: str, settings: object | None = None) -> KafkaDeadLetters:
        """The DLQ of `group`; a replay goes to the group's own first retry topic (see KafkaDeadLetters)."""
        return KafkaDeadLetters(self, topic, group)

    def create_topics(self, names: Sequence[str]) -> None:
        admin = self.admin_client()
        futures = admin.create_topics([NewTopic(name, self.partitions, 1) for name in names], operation_timeout=10)
        for name, future in futures.items():
            try:
                future.result()
            except KafkaException as exc:
                if exc.args[0].code() != KafkaError.TOPIC_ALREADY_EXISTS:
                    raise BrokerError(f"Kafka: creating topic {name!r} failed: {exc}") from exc


class KafkaPublisher:
    """Idempotent producer whose `publish` returns once every record is acknowledged. One publish at a time per
    instance (failures are collected per instance): give each thread its own publisher.

    A publish that fails (not acknowledged within `timeout`, rejected, or interrupted) purges every record the client
    still holds and replaces the client before it raises, so `len(publisher)` is 0 between publishes and nothing of
    a failed publish is sent behind its caller's back."""

    def __init__(self, config: Mapping[str, object], timeout: float = 30.0,
                 contracts: Mapping[str, AttributeContract] | None = None) -> None:
        self.timeout = timeout
        self.contracts = dict(contracts or {})
        self._failures: list[tuple[str, KafkaError]] = []  # (topic, error) per record not delivered
        # One delivery callback for the producer, not one per record: per-record callbacks cost ~10% of produce.
        self._config = {**config, "on_delivery": self._on_delivery}
        self._producer = Producer(self._config)
        self._closed = False

    def _on_delivery(self, err: KafkaError | None, record) -> None:  # noqa: ANN001 - confluent_kafka.Message
        if err is not None:
            self._failures.append((record.topic(), err))

    # Both loops call produce positionally: produce(topic, value, key, partition, callback, on_delivery, timestamp,
    # headers). confluent-kafka's keyword parsing costs ~0.5 us per call, a quarter of produce itself. Partition -1
    # is the configured partitioner, None callbacks mean the producer's on_delivery, timestamp 0 means now.

    def publish(self, topic: str, messages: Iterable[Message], timeout: float | None = None) -> None:
        """Produce the messages and wait for every acknowledgement, at most `timeout` seconds (default: the
        publisher's); raise PublishError naming the first failure."""
        # `produce_all(topic, map(encode, messages))` with encode() unrolled into the loop: measured 2-3% more
        # messages/s, which the bench's 0.9 target has no room to give away.
        timeout = self.timeout if timeout is None else timeout
        contract = self.contracts.get(topic)
        if contract is not None:  # the channel's contract: checked and encoded per message, before anything is sent
            self.produce_all(topic, [encode(m, contract=contract) for m in messages], timeout)
            return
        self._failures.clear()
        produce, headers = self._producer.produce, _binary_headers
        try:
            for message in messages:
                try:
                    produce(topic, message.payload, message.key, -1, None, None, 0, headers(message))
                except BufferError:  # local queue full: let deliveries drain, then retry this record once
                    self._producer.flush(timeout)
                    produce(topic, message.payload, message.key, -1, None, None, 0, headers(message))
        except (KafkaException, BufferError) as exc:
            raise self._failed(f"Kafka: produce to {topic!r} failed: {exc}") from exc
        except BaseException:
            self._reset()  # the records produced before the failure must not reach the broker after it
            raise
        self._await_acks(topic, timeout)

    def produce_all(self, topic: str, records: Iterable[tuple[str | None, bytes, list]],
                    timeout: float | None = None) -> None:
        """Produce (key, value, headers) records, e.g. from `encode`, and wait for every acknowledgement."""
        timeout = self.timeout if timeout is None else timeout
        self._failures.clear()
        produce = self._producer.produce
        try:
            for key, value, record_headers in records:
                try:
                    produce(topic, value, key, -1, None, None, 0, record_headers)
                except BufferError:
                    self._producer.flush(timeout)
                    produce(topic, value, key, -1, None, None, 0, record_headers)
        except (KafkaException, BufferError) as exc:
            raise self._failed(f"Kafka: produce to {topic!r} failed: {exc}") from exc
        except BaseException:
            self._reset()
            raise
        self._await_acks(topic, timeout)

    def __len__(self) -> int:
        """Records the client holds: queued, in flight, or awaiting their delivery report (0 after any publish)."""
        self._producer.poll(0)  # client events (e.g. "broker down") count in len() until served
        return len(self._producer)

    def _await_acks(self, topic: str, timeout: float) -> None:
        remaining = self._producer.flush(timeout)
        if remaining:
            raise self._failed(f"Kafka: {remaining} record(s) to {topic!r} not acknowledged within the publish "
                               f"timeout ({timeout:g}s)")
        if self._failures:
            timed_out = any(err.code() == KafkaError._MSG_TIMED_OUT for _, err in self._failures)
            what = f"not acknowledged within the publish timeout ({timeout:g}s)" if timed_out else "not delivered"
            first_topic, first = self._failures[0]
            raise self._failed(f"Kafka: {len(self._failures)} record(s) to {topic!r} {what}, first: "
                               f"{first_topic}: {first.str()}")

    def _failed(self, reason: str) -> PublishError:
        purged = self._reset()
        if purged:
            reason += f"; {purged} record(s) purged from the client, none may be assumed delivered"
        return PublishError(reason)

    def _purge(self) -> int:
        """Drop what the client holds (queued and in flight) and serve the purged records' delivery reports, so
        nothing of a failed publish is sent later; return how many records were dropped."""
        self._producer.poll(0)  # serve pending client events first: len() counts them too
        held = len(self._producer)
        if held:
            self._producer.purge(in_queue=True, in_flight=True, blocking=True)
            self._producer.flush(PURGE_REPORTS_WAIT)  # the purged records' reports are queued by now
        return held

    def _reset(self) -> int:
        """Purge, then replace the client (failures only; publishes that succeed never pay for it).

        Records lost in flight leave the idempotent producer's sequence numbers in doubt; librdkafka resolves that
        by bumping the producer epoch, which Tansu answers with PRODUCER_FENCED for every later record, for good.
        A new client starts over with a new producer id."""
        purged = self._purge()
        old, self._producer = self._producer, Producer(self._config)
        old.close()
        return purged

    def close(self) -> None:
        """Deliver what is queued (within the publish timeout; the rest is purged), then release the client (its
        threads and broker connections); idempotent."""
        if self._closed:
            return
        if self._producer.flush(self.timeout):
            self._purge()
        self._producer.close()
        self._closed = True


class KafkaTransactionalPublisher:
    """Transactional producer: everything published in `transaction()` becomes visible atomically, together with
    the consumer offsets of the deliveries passed to `Transaction.commit_deliveries` (consume-transform-produce)."""

    def __init__(self, producer: Producer, timeout: float = 30.0) -> None:
        self._producer = producer
        self._closed = False
        self._timeout = timeout
        producer.init_transactions(timeout)

    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        self._producer.begin_transaction()
        tx = Transaction(self._producer, self._timeout)
        try:
            yield tx
            self._producer.commit_transaction(self._timeout)
        except BaseException:
            self._producer.abort_transaction(self._timeout)
            tx.rewind()
            raise
        tx.settle()

    def close(self) -> None:
        if self._closed:
            return
        self._producer.flush(self._timeout)
        self._producer.close()
        self._closed = True


def _by_subscriber(deliveries: Sequence[KafkaDelivery]) -> list[list[KafkaDelivery]]:
    groups: dict[int, list[KafkaDelivery]] = {}
    for delivery in deliveries:
        groups.setdefault(id(delivery._subscriber), []).append(delivery)
    return list(groups.values())


@dataclass
class Transaction:
    _producer: Producer
    _timeout: float
    _deliveries: list[KafkaDelivery] = field(default_factory=list)

    def publish(self, topic: str, messages: Sequence[Message]) -> None:
        for message in messages:
            key, value, headers = encode(message)
            self._producer.produce(topic, value=value, key=key, headers=headers)

    def commit_deliveries(self, deliveries: Sequence[KafkaDelivery]) -> None:
        """Commit these deliveries' offsets as part of the transaction (they count as acked once it commits)."""
        for group in _by_subscriber(deliveries):
            subscriber = group[0]._subscriber
            self._producer.send_offsets_to_transaction(
                subscriber._offsets_after(group), subscriber._consumer.consumer_group_metadata(), self._timeout)
        self._deliveries.extend(deliveries)

    def settle(self) -> None:
        for delivery in self._deliveries:
            delivery._subscriber._settle(delivery, store=False)

    def rewind(self) -> None:
        """After an abort the consumed records must be read again."""
        for group in _by_subscriber(self._deliveries):
            group[0]._subscriber._rewind(group)


@dataclass
class KafkaDelivery:
    message: Message
    attempt: int
    source: str
    metadata: Mapping[str, str]
    _subscriber: KafkaSubscriber = field(repr=False)
    _topic: str = field(repr=False)
    _partition: int = field(repr=False)
    _offset: int = field(repr=False)

    def ack(self) -> None:
        self._subscriber._settle(self)

    def nack(self, delay_seconds: float = 0) -> None:
        self._subscriber._retry(self, delay_seconds)

    def dead_letter(self, reason: DeadLetterReason) -> None:
        self._subscriber._dead_letter(self, reason)


def _original_position(delivery: KafkaDelivery) -> tuple[str, int, int]:
    """(topic, partition, offset) of the source record this delivery is, or is a retry copy of."""
    topic_header, partition_header, offset_header = ORIGINAL_HEADERS
    if topic_header in delivery.metadata:
        return (delivery.metadata[topic_header], int(delivery.metadata[partition_header]),
                int(delivery.metadata[offset_header]))
    return delivery._topic, delivery._partition, delivery._offset


class KafkaSubscriber:
    def __init__(self, broker: KafkaBroker, topic: str, group: str, topics: list[str], retry_topics: list[str],
                 dlq_topic: str | None) -> None:
        self.topic, self.group = topic, group
        self._retry_topics, self._dlq_topic = retry_topics, dlq_topic
        self._broker = broker
        self._lock = threading.Lock()
        self._in_flight: dict[tuple[str, int], dict[int, bool]] = {}  # partition -> offset -> settled
        self._paused: dict[tuple[str, int], float] = {}  # retry partition -> resume at (monotonic)
        self._republisher: KafkaPublisher | None = None  # retry and DLQ copies; created on first use
        self._consumer = Consumer({**broker.consumer_config, "group.id": group})
        self._consumer.subscribe(topics, on_revoke=self._on_revoke)

    def receive(self, max_messages: int = 10, timeout: float = 1.0) -> list[KafkaDelivery]:
        deadline = time.monotonic() + timeout
        while True:
            self._resume_due()
            remaining = max(0.0, deadline - time.monotonic())
            wait = min(remaining, *(t - time.monotonic() for t in self._paused.values())) if self._paused else remaining
            # Block for the first record only, then take what is already fetched: a partial batch returns at once.
            records = self._consumer.consume(num_messages=1, timeout=max(wait, 0.0))
            if records and max_messages > 1:
                records += self._consumer.consume(num_messages=max_messages - 1, timeout=0)
            deliveries = self._accept(records)
            if deliveries or time.monotonic() >= deadline:
                return deliveries

    def _accept(self, records: list) -> list[KafkaDelivery]:
        deliveries, held = [], set()
        for record in records:
            if record.error():
                if record.error().code() in (KafkaError._PARTITION_EOF, KafkaError.UNKNOWN_TOPIC_OR_PART):
                    continue
                raise BrokerError(f"Kafka: consuming {self.topic!r} as {self.group!r}: {record.error().str()}")
            tp = (record.topic(), record.partition())
            if tp in held:
                continue  # re-read after the seek below
            try:
                message, headers = decode(record)
            except MessageError as exc:
                self._quarantine(record, exc)
                continue
            not_before = int(headers.get(NOT_BEFORE_HEADER, "0")) / 1000
            if not_before > time.time():
                # Not due yet: rewind to this record and pause the partition until it is.
                self._consumer.seek(TopicPartition(record.topic(), record.partition(), record.offset()))
                self._consumer.pause([TopicPartition(record.topic(), record.partition())])
                self._paused[tp] = time.monotonic() + (not_before - time.time())
                held.add(tp)
                continue
            metadata = {"topic": record.topic(), "partition": str(record.partition()), "offset": str(record.offset()),
                        "group": self.group}
            for name in (DLQ_REASON_KEY, *ORIGINAL_HEADERS):
                if name in headers:
                    metadata[name] = headers[name]
            with self._lock:
                self._in_flight.setdefault(tp, {})[record.offset()] = False
            deliveries.append(KafkaDelivery(message, int(headers.get(ATTEMPT_HEADER, "1")), self.topic, metadata,
                                            self, record.topic(), record.partition(), record.offset()))
        return deliveries

    def _resume_due(self) -> None:
        now = time.monotonic()
        due = [tp for tp, at in self._paused.items() if at <= now]
        if due:
            self._consumer.resume([TopicPartition(t, p) for t, p in due])
            for tp in due:
                del self._paused[tp]

    def _on_revoke(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        with self._lock:
            for tp in partitions:
                self._in_flight.pop((tp.topic, tp.partition), None)
                self._paused.pop((tp.topic, tp.partition), None)

    def _quarantine(self, record, error: MessageError) -> None:  # noqa: ANN001 - confluent_kafka.Message
        """A record that is no CloudEvent goes to the DLQ as it is, so it neither blocks nor vanishes."""
        where = f"{record.topic()}[{record.partition()}]@{record.offset()}"
        if self._dlq_topic is None:
            raise BrokerError(f"Kafka: record {where} in dead-letter topic is not a CloudEvent: {error}")
        now = datetime.now(timezone.utc)
        reason = DeadLetterReason(type(error).__name__, str(error), 1, now, now, self.topic, record.partition(),
                                  record.offset())
        headers = [*(record.headers() or []), (DLQ_REASON_KEY, reason.to_json())]
        self._publisher().produce_all(self._dlq_topic, [(record.key(), record.value() or b"", headers)])
        with self._lock:
            self._in_flight.setdefault((record.topic(), record.partition()), {})[record.offset()] = False
        self._mark_settled(record.topic(), record.partition(), record.offset())

    def _settle(self, delivery: KafkaDelivery, store: bool = True) -> None:
        self._mark_settled(delivery._topic, delivery._partition, delivery._offset, store)

    def _mark_settled(self, topic: str, partition: int, offset: int, store: bool = True) -> None:
        """Mark settled; store the offset after the longest settled prefix of the partition's in-flight records."""
        tp = (topic, partition)
        with self._lock:
            offsets = self._in_flight.get(tp)
            if offsets is None or offset not in offsets:
                raise BrokerError(f"Kafka: {topic}[{partition}]@{offset} is not in flight for group {self.group!r} "
                                  f"(already settled, or partition revoked)")
            offsets[offset] = True
            done = []
            for pending in sorted(offsets):
                if not offsets[pending]:
                    break
                done.append(pending)
            for pending in done:
                del offsets[pending]
        if done and store:
            try:
                self._consumer.store_offsets(offsets=[TopicPartition(tp[0], tp[1], done[-1] + 1)])
            except KafkaException as exc:
                raise BrokerError(f"Kafka: storing offset for {tp[0]}[{tp[1]}]: {exc}") from exc

    def _offsets_after(self, deliveries: Sequence[KafkaDelivery]) -> list[TopicPartition]:
        """Next offsets to commit for these deliveries (transactional commit)."""
        highest: dict[tuple[str, int], int] = {}
        for d in deliveries:
            highest[(d._topic, d._partition)] = max(highest.get((d._topic, d._partition), -1), d._offset)
        return [TopicPartition(t, p, offset + 1) for (t, p), offset in highest.items()]

    def _rewind(self, deliveries: Sequence[KafkaDelivery]) -> None:
        """Seek each partition back to the earliest of these deliveries; later in-flight records come again too."""
        earliest: dict[tuple[str, int], int] = {}
        for d in deliveries:
            tp = (d._topic, d._partition)
            earliest[tp] = min(earliest.get(tp, d._offset), d._offset)
        with self._lock:
            for tp in earliest:
                self._in_flight.pop(tp, None)
        for (topic, partition), offset in earliest.items():
            self._consumer.seek(TopicPartition(topic, partition, offset))

    def _publisher(self) -> KafkaPublisher:
        if self._republisher is None:
            self._republisher = self._broker.publisher()
        return self._republisher

    def _republish(self, topic: str, delivery: KafkaDelivery, headers: Mapping[str, str]) -> None:
        self._publisher().produce_all(topic, [encode(delivery.message, headers)])

    def _retry(self, delivery: KafkaDelivery, delay_seconds: float) -> None:
        if not self._retry_topics:
            raise BrokerError(f"Kafka: {self.topic!r} has no retry topics; nack is not available here")
        level = min(delivery.attempt, len(self._retry_topics))
        not_before = math.ceil((time.time() + delay_seconds) * 1000)  # never round early
        topic, partition, offset = _original_position(delivery)
        self._republish(self._retry_topics[level - 1], delivery,
                        {ATTEMPT_HEADER: str(delivery.attempt + 1), NOT_BEFORE_HEADER: str(not_before),
                         **dict(zip(ORIGINAL_HEADERS, (topic, str(partition), str(offset)), strict=True))})
        self._settle(delivery)

    def _dead_letter(self, delivery: KafkaDelivery, reason: DeadLetterReason) -> None:
        if self._dlq_topic is None:
            raise BrokerError(f"Kafka: {self.topic!r} is a dead-letter topic; it has no DLQ of its own")
        if reason.original_partition is None and reason.original_offset is None:
            # A retry copy: the reason's writer saw the retry topic's position; the source record's is in its headers.
            _, partition, offset = _original_position(delivery)
            reason = replace(reason, original_partition=partition, original_offset=offset)
        self._republish(self._dlq_topic, delivery, {DLQ_REASON_KEY: reason.to_json()})
        self._settle(delivery)

    def close(self) -> None:
        if self._republisher is not None:
            self._republisher.close()
        self._consumer.close()


class KafkaDeadLetters:
    """The DLQ topic `<topic>.<group>.dlq`, read as group `<group>.dlq`.

    Replay produces into the group's first retry topic `<topic>.<group>.retry.1`, which only that group reads (the
    source topic would reach every group of it), with attempt 1 and the source position from the reason. A group
    without retry topics (retry_topic_count 0, or the topic is missing on the cluster) is refused: a record there
    would be read by nobody; `to` (the source topic, every group) is then the explicit choice.

    The DLQ is a log whose group offset only moves past a contiguous prefix, so when an operation removes some
    messages and keeps others, the kept ones are appended again (with their reasons) before the offsets move;
    when nothing is removed (a listing, a dry run) nothing is committed."""

    join_wait = 15.0  # a consumer sees nothing until its group join and partition assignment are done

    def __init__(self, broker: KafkaBroker, topic: str, group: str) -> None:
        self.broker, self.topic, self.group = broker, topic, group
        self.subscriber = broker.dead_letter_subscriber(topic, group)
        self._publisher: KafkaPublisher | None = None
        self._retry_topic_checked = False

    def receive(self, max_messages: int = 10, timeout: float = 1.0) -> list[KafkaDelivery]:
        return self.subscriber.receive(max_messages, timeout)

    def _producer(self) -> KafkaPublisher:
        if self._publisher is None:
            self._publisher = self.broker.publisher()
        return self._publisher

    def _replay_topic(self) -> str:
        target = retry_topic(self.topic, self.group, 1)
        if self._retry_topic_checked:
            return target
        if self.broker.retry_topic_count < 1:
            raise PublishError(f"Kafka: group {self.group!r} has no retry topics (retry_topic_count 0), so no topic "
                               f"reaches it alone; replay with --to {self.topic} (every group of it) instead")
        admin = self.broker.admin_client()
        try:
            # The whole listing: a metadata request naming the topic may create it (auto.create.topics.enable, and
            # Tansu does), and a replay would then go where no consumer reads.
            found = admin.list_topics(timeout=10).topics.get(target)
        except KafkaException as exc:
            raise PublishError(f"Kafka: cannot look up the replay topic {target!r}: {exc}") from exc
        if found is None or found.error is not None:
            raise PublishError(f"Kafka: the retry topic {target!r} of group {self.group!r} does not exist, so nobody "
                               f"would read a replay there; replay with --to {self.topic} (every group) instead")
        self._retry_topic_checked = True
        return target

    def replay(self, delivery: KafkaDelivery, to: str | None = None) -> None:  # type: ignore[override]
        if to is not None:
            self._producer().publish(to, [delivery.message])
            return
        headers = {}
        text = delivery.metadata.get(DLQ_REASON_KEY)
        if text:
            reason = DeadLetterReason.from_json(text)
            if reason.original_partition is not None and reason.original_offset is not None:
                headers = dict(zip(ORIGINAL_HEADERS, (reason.original_source, str(reason.original_partition),
                                                      str(reason.original_offset)), strict=True))
        self._producer().produce_all(self._replay_topic(), [encode(delivery.message, headers)])

    def settle(self, removed: Sequence[KafkaDelivery], kept: Sequence[KafkaDelivery]) -> None:  # type: ignore[override]
        if not removed:
            return  # nothing settled: the group's committed offset stays where it was
        if kept:
            records = [encode(d.message, {DLQ_REASON_KEY: d.metadata[DLQ_REASON_KEY]}
                              if DLQ_REASON_KEY in d.metadata else None) for d in kept]
            try:
                self._producer().produce_all(dead_letter_topic(self.topic, self.group), records)
            except PublishError as exc:
                raise PublishError(f"Kafka: could not re-append {len(kept)} kept dead letter(s); nothing was "
                                   f"committed, so every message is still in the DLQ: {exc}") from exc
        for delivery in (*removed, *kept):
            delivery.ack()

    def close(self) -> None:
        if self._publisher is not None:
            self._publisher.close()
        self.subscriber.close()
