"""Embedded broker: a durable local broker in one SQLite file, for demos and users' own tests.

Not a production broker: one machine, one file, polling receivers. It survives process crashes (WAL,
synchronous=NORMAL) but not power loss of the last commits. Semantics follow a topic with subscriptions:

- a consumer group is a subscription; it receives every message published to the topic after the group was
  first created (by `subscriber(topic, group)` or `create_group`), and competing consumers in one group share them;
- a received message is invisible for `visibility_timeout` seconds, then redelivered with attempt + 1 unless acked;
- messages with the same key are delivered in publish order within a group: a later one is held back while an
  earlier one is in flight or delayed (like an SQS FIFO message group);
- `dead_letter` moves the message to the subscription `<topic>.<group>.dlq` (same group) with the reason recorded;
- a group may have a filter (`create_group(topic, group, filter=SubscriptionFilter(...))`) in a cloud broker's
  filter language (SNS filter policy, EventBridge event pattern, Pub/Sub filter, Event Grid filter), evaluated at
  publish with the kit's own evaluators (edakit.routing) on the message as that broker would see it: a message it
  does not match is never delivered to the group, as in the cloud and as `edakit routes` predicts.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from edakit.runtime.adapters.base import (DLQ_REASON_KEY, BrokerError, BrokerUnreachable, DeadLetterReason,
                                         PublishError, SubscriberDeadLetters)
from edakit.brokers.attributes import AttributeContract
from edakit.runtime.message import Message

T = TypeVar("T")

SCHEMA = """
CREATE TABLE IF NOT EXISTS subscriptions (
    topic TEXT NOT NULL, grp TEXT NOT NULL, PRIMARY KEY (topic, grp)
);
CREATE TABLE IF NOT EXISTS messages (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    topic TEXT NOT NULL, id TEXT NOT NULL, type TEXT NOT NULL, source TEXT NOT NULL, time TEXT NOT NULL,
    content_type TEXT NOT NULL, key TEXT, subject TEXT, headers TEXT NOT NULL, payload BLOB NOT NULL,
    published_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS deliveries (
    topic TEXT NOT NULL, grp TEXT NOT NULL, seq INTEGER NOT NULL REFERENCES messages (seq),
    key TEXT, attempts INTEGER NOT NULL DEFAULT 0, visible_at REAL NOT NULL, lease TEXT, reason TEXT,
    PRIMARY KEY (topic, grp, seq)
);
CREATE INDEX IF NOT EXISTS deliveries_by_key ON deliveries (topic, grp, key, seq);
CREATE TABLE IF NOT EXISTS group_filters (
    topic TEXT NOT NULL, grp TEXT NOT NULL, filter TEXT NOT NULL, PRIMARY KEY (topic, grp)
);
"""


def dead_letter_topic(topic: str, group: str) -> str:
    """Same convention as the Kafka adapter and the kafka-topics Terraform module."""
    return f"{topic}.{group}.dlq"


def _filter_brokers() -> dict[str, Any]:
    """The broker profiles with a filter language (edakit.brokers), imported when first used: the profiles import
    the evaluators and this module's `event_bridge_event`."""
    from edakit.brokers import PROFILES

    return {name: p for name, p in PROFILES.items() if p.filters is not None}


@dataclass(frozen=True)
class SubscriptionFilter:
    """A group's filter, written in the language of `broker` (a broker profile with filters: sqs-sns, event-grid,
    pubsub, eventbridge) as the spec writes it: `policy` is an SNS filter policy (with `scope` MessageAttributes or
    MessageBody), an EventBridge event pattern, a Pub/Sub filter string or an Event Grid filter object. `contract`
    is the channel's publish contract (edakit.brokers.contract): which attributes the kit's SNS/Pub/Sub publisher
    sets, so filters see what the cloud broker would (None: CloudEvents attributes and headers only)."""

    broker: str
    policy: Mapping[str, Any] | str
    scope: str = "MessageAttributes"
    contract: AttributeContract | None = None

    def __post_init__(self) -> None:
        """Raise InvalidFilterError (a ValueError, the service's own error text) for a filter the broker refuses."""
        brokers = _filter_brokers()
        if self.broker not in brokers:
            raise ValueError(f"filter broker {self.broker!r}: expected one of {', '.join(brokers)}")
        brokers[self.broker].filters.validate(self._filter())

    def _filter(self) -> Any:
        from edakit.spec.model import Filter

        return Filter(self.policy, self.scope)  # type: ignore[arg-type]

    @classmethod
    def from_spec(cls, spec: Any, subscriber: str) -> SubscriptionFilter | None:
        """The filter of a subscriber of a loaded spec (edakit.spec), None when it has none."""
        from edakit.brokers import contract

        sub = spec.subscribers[subscriber]
        if sub.filter is None:
            return None
        return cls(spec.channels[sub.channel].broker, sub.filter.policy, sub.filter.scope,
                   contract(spec, sub.channel))

    def to_json(self) -> str:
        found = self.contract
        return json.dumps({"broker": self.broker, "policy": self.policy, "scope": self.scope, "contract": None
                           if found is None else {"topic": found.topic, "prefix": found.prefix,
                                                  "headers": sorted(found.headers), "budget": found.budget,
                                                  "native": [[a.name, a.source] for a in found.native]}})

    @classmethod
    def from_json(cls, text: str) -> SubscriptionFilter:
        from edakit.brokers.attributes import NativeAttribute

        data = json.loads(text)
        found = data["contract"]
        return cls(data["broker"], data["policy"], data["scope"], None if found is None else AttributeContract(
            topic=found["topic"], prefix=found["prefix"], headers=frozenset(found["headers"]),
            budget=found["budget"], native=tuple(NativeAttribute(n, src) for n, src in found["native"])))

    def reasons(self, message: Message) -> list[str]:
        """Why the broker would not deliver `message` through this filter; empty when it would. The message is
        encoded by the broker profile's encoder first (the runtime's own: SNS, Pub/Sub and Event Grid adapters,
        EventBridge `event_bridge_event`), then evaluated by the profile's filter evaluator."""
        from edakit.brokers import AttributeContractError

        broker = _filter_brokers()[self.broker]
        try:
            body, attributes = broker.encode(message, self.contract)
        except AttributeContractError as exc:
            return [f"the kit's publisher refuses it: {exc}"]
        return broker.filters.explain(self._filter(), body, attributes)


def event_bridge_event(message: Message) -> dict[str, Any]:
    """The event EventBridge delivers for a PutEvents entry with Source = message.source, DetailType =
    message.type and Detail = the JSON payload (a payload that is not a JSON object is refused by PutEvents and
    matches nothing here); account and region are the local placeholders."""
    try:
        detail = json.loads(message.payload)
    except ValueError:
        detail = None
    return {"version": "0", "id": message.id, "detail-type": message.type, "source": message.source,
            "account": "000000000000", "time": message.time.strftime("%Y-%m-%dT%H:%M:%SZ"), "region": "local",
            "resources": [], "detail": detail if isinstance(detail, dict) else {}}


def _connect(path: Path) -> sqlite3.Connection:
    # Autocommit mode: every write below opens its own explicit transaction.
    conn = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA busy_timeout=30000")
    return conn


class _Connection:
    """One SQLite connection shared by the threads of one publisher/subscriber, serialised by a lock."""

    def __init__(self, path: Path) -> None:
        self._conn = _connect(path)
        self._lock = threading.Lock()

    def transaction(self, work: Callable[[sqlite3.Connection], T]) -> T:
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                result = work(self._conn)
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")
            return result

    def close(self) -> None:
        with self._lock:
            self._conn.close()


class EmbeddedBroker:
    """Settings for one SQLite file; hands out publishers and subscribers."""

    features = frozenset({"ordering", "consumer_groups", "native_dlq", "delayed_nack"})

    def __init__(self, path: str | Path, *, visibility_timeout: float = 30.0) -> None:
        self.path = Path(path)
        self.visibility_timeout = visibility_timeout
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with _connect(self.path) as conn:
            conn.executescript(SCHEMA)

    def check_reachable(self, timeout: float) -> None:
        """Raise BrokerUnreachable unless the file is still an SQLite database with the broker's tables."""
        try:
            conn = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=timeout)
            try:
                conn.execute("SELECT 1 FROM messages LIMIT 1")
            finally:
                conn.close()
        except sqlite3.Error as exc:
            raise BrokerUnreachable(f"embedded broker {self.path}: {exc}") from None

    def create_group(self, topic: str, group: str, *, filter: SubscriptionFilter | None = None) -> None:
        """Start a subscription: the group receives every message published from now on (with `filter`: only those
        it matches; a given filter replaces the group's earlier one, None leaves it as it is)."""

        def create(c: sqlite3.Connection) -> None:
            c.execute("INSERT OR IGNORE INTO subscriptions VALUES (?, ?)", (topic, group))
            if filter is not None:
                c.execute("INSERT OR REPLACE INTO group_filters VALUES (?, ?, ?)", (topic, group, filter.to_json()))

        conn = _Connection(self.path)
        try:
            conn.transaction(create)
        finally:
            conn.close()

    def publisher(self) -> EmbeddedPublisher:
        return EmbeddedPublisher(self.path)

    def subscriber(self, topic: str, group: str, *, visibility_timeout: float | None = None) -> EmbeddedSubscriber:
        self.create_group(topic, group)
        return EmbeddedSubscriber(self.path, topic, group, visibility_timeout or self.visibility_timeout)

    def dead_letter_subscriber(self, topic: str, group: str) -> EmbeddedSubscriber:
        return self.subscriber(dead_letter_topic(topic, group), group)

    def dead_letters(self, topic: str, group: str, settings: object | None = None) -> EmbeddedDeadLetters:
        """The DLQ of `group`; a replay moves the message back to that group's subscription only."""
        return EmbeddedDeadLetters(self, topic, group)


class EmbeddedPublisher:
    def __init__(self, path: Path) -> None:
        self._conn = _Connection(path)
        self._filters: dict[str, SubscriptionFilter] = {}  # parsed once per filter text

    def _filter(self, text: str) -> SubscriptionFilter:
        if text not in self._filters:
            self._filters[text] = SubscriptionFilter.from_json(text)
        return self._filters[text]

    def publish(self, topic: str, messages: Sequence[Message]) -> None:
        """All messages commit in one transaction, so a batch is delivered whole or not at all."""

        def insert(conn: sqlite3.Connection) -> None:
            groups = [g for (g,) in conn.execute("SELECT grp FROM subscriptions WHERE topic = ?", (topic,))]
            filters = {g: self._filter(text) for g, text in
                       conn.execute("SELECT grp, filter FROM group_filters WHERE topic = ?", (topic,))}
            now = time.time()
            for m in messages:
                cur = conn.execute(
                    "INSERT INTO messages (topic, id, type, source, time, content_type, key, subject, headers,"
                    " payload, published_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (topic, m.id, m.type, m.source, m.time.isoformat(), m.content_type, m.key, m.subject,
                     json.dumps(dict(m.headers)), m.payload, now),
                )
                conn.executemany(
                    "INSERT INTO deliveries (topic, grp, seq, key, visible_at) VALUES (?, ?, ?, ?, ?)",
                    [(topic, g, cur.lastrowid, m.key, now) for g in groups
                     if g not in filters or not filters[g].reasons(m)],
                )

        try:
            self._conn.transaction(insert)
        except sqlite3.Error as exc:
            raise PublishError(f"embedded broker: publish to {topic!r} failed: {exc}") from exc

    def close(self) -> None:
        self._conn.close()


@dataclass
class EmbeddedDelivery:
    message: Message
    attempt: int
    source: str
    metadata: Mapping[str, str]
    _subscriber: EmbeddedSubscriber = field(repr=False)
    _seq: int = field(repr=False)
    _lease: str = field(repr=False)

    def ack(self) -> None:
        self._subscriber._settle(self, "DELETE FROM deliveries WHERE topic = ? AND grp = ? AND seq = ? AND lease = ?")

    def nack(self, delay_seconds: float = 0) -> None:
        self._subscriber._settle(
            self,
            "UPDATE deliveries SET lease = NULL, visible_at = ? WHERE topic = ? AND grp = ? AND seq = ? AND lease = ?",
            time.time() + delay_seconds,
        )

    def dead_letter(self, reason: DeadLetterReason) -> None:
        self._subscriber._dead_letter(self, reason)


class EmbeddedSubscriber:
    # Poll interval bounds: short for responsiveness, growing while idle so waiting consumers stay cheap.
    _POLL_MIN, _POLL_MAX = 0.01, 0.2

    def __init__(self, path: Path, topic: str, group: str, visibility_timeout: float) -> None:
        self._conn = _Connection(path)
        self.topic, self.group, self.visibility_timeout = topic, group, visibility_timeout

    def receive(self, max_messages: int = 10, timeout: float = 1.0) -> list[EmbeddedDelivery]:
        deadline = time.monotonic() + timeout
        pause = self._POLL_MIN
        while True:
            batch = self._conn.transaction(lambda c: self._lease_batch(c, max_messages))
            if batch or time.monotonic() >= deadline:
                return batch
            time.sleep(min(pause, max(0.0, deadline - time.monotonic())))
            pause = min(pause * 2, self._POLL_MAX)

    def _lease_batch(self, conn: sqlite3.Connection, limit: int) -> list[EmbeddedDelivery]:
        now = time.time()
        rows = conn.execute(
            """
            SELECT d.seq, d.attempts, d.reason, m.id, m.type, m.source, m.time, m.content_type, m.key, m.subject,
                   m.headers, m.payload
            FROM deliveries d JOIN messages m ON m.seq = d.seq
            WHERE d.topic = :topic AND d.grp = :grp AND d.visible_at <= :now
              AND (d.key IS NULL OR NOT EXISTS (
                    SELECT 1 FROM deliveries e
                    WHERE e.topic = d.topic AND e.grp = d.grp AND e.key = d.key AND e.seq < d.seq
                      AND e.visible_at > :now))
            ORDER BY d.seq LIMIT :limit
            """,
            {"topic": self.topic, "grp": self.group, "now": now, "limit": limit},
        ).fetchall()
        lease = uuid.uuid4().hex
        conn.executemany(
            "UPDATE deliveries SET attempts = attempts + 1, visible_at = ?, lease = ? "
            "WHERE topic = ? AND grp = ? AND seq = ?",
            [(now + self.visibility_timeout, lease, self.topic, self.group, r[0]) for r in rows],
        )
        deliveries = []
        for seq, attempts, reason, mid, mtype, source, mtime, ctype, key, subject, headers, payload in rows:
            metadata = {"seq": str(seq), "group": self.group}
            if reason is not None:
                metadata[DLQ_REASON_KEY] = reason
            message = Message(id=mid, type=mtype, source=source, payload=payload, time=datetime.fromisoformat(mtime),
                              content_type=ctype, key=key, subject=subject, headers=json.loads(headers))
            deliveries.append(EmbeddedDelivery(message, attempts + 1, self.topic, metadata, self, seq, lease))
        return deliveries

    def _settle(self, delivery: EmbeddedDelivery, sql: str, *leading: object) -> None:
        params = (*leading, self.topic, self.group, delivery._seq, delivery._lease)
        changed = self._conn.transaction(lambda c: c.execute(sql, params).rowcount)
        if not changed:
            raise BrokerError(
                f"embedded broker: message {delivery.message.id} in {self.topic!r}/{self.group!r} is no longer "
                f"leased by this delivery (visibility timeout of {self.visibility_timeout}s expired, or settled)"
            )

    def _dead_letter(self, delivery: EmbeddedDelivery, reason: DeadLetterReason) -> None:
        dlq = dead_letter_topic(self.topic, self.group)

        def move(conn: sqlite3.Connection) -> int:
            conn.execute("INSERT OR IGNORE INTO subscriptions VALUES (?, ?)", (dlq, self.group))
            return conn.execute(
                "UPDATE deliveries SET topic = ?, attempts = 0, visible_at = ?, lease = NULL, reason = ? "
                "WHERE topic = ? AND grp = ? AND seq = ? AND lease = ?",
                (dlq, time.time(), reason.to_json(), self.topic, self.group, delivery._seq, delivery._lease),
            ).rowcount

        if not self._conn.transaction(move):
            raise BrokerError(
                f"embedded broker: message {delivery.message.id} in {self.topic!r}/{self.group!r} is no longer "
                f"leased by this delivery; not dead-lettered"
            )

    def close(self) -> None:
        self._conn.close()


class EmbeddedDeadLetters(SubscriberDeadLetters):
    """A replay moves the dead letter's delivery row back to `<topic>`/`<group>` (attempts reset, reason dropped) in
    one transaction: only the group that dead-lettered it sees it again, and it is never both replayed and kept."""

    def __init__(self, broker: EmbeddedBroker, topic: str, group: str) -> None:
        super().__init__(broker.dead_letter_subscriber(topic, group))
        self.broker, self.topic, self.group = broker, topic, group
        self._moved: set[int] = set()  # seqs replayed by a move: nothing left to settle in the DLQ
        self._publisher: EmbeddedPublisher | None = None

    def replay(self, delivery: EmbeddedDelivery, to: str | None = None) -> None:  # type: ignore[override]
        if to is not None:
            if self._publisher is None:
                self._publisher = self.broker.publisher()
            self._publisher.publish(to, [delivery.message])
            return
        dlq = dead_letter_topic(self.topic, self.group)

        def move(conn: sqlite3.Connection) -> int:
            conn.execute("INSERT OR IGNORE INTO subscriptions VALUES (?, ?)", (self.topic, self.group))
            return conn.execute(
                "UPDATE deliveries SET topic = ?, attempts = 0, visible_at = ?, lease = NULL, reason = NULL "
                "WHERE topic = ? AND grp = ? AND seq = ? AND lease = ?",
                (self.topic, time.time(), dlq, self.group, delivery._seq, delivery._lease)).rowcount

        try:
            moved = self.subscriber._conn.transaction(move)
        except sqlite3.Error as exc:
            raise PublishError(f"embedded broker: replay of {delivery.message.id} to {self.topic!r}/{self.group!r} "
                               f"failed: {exc}") from exc
        if not moved:
            raise PublishError(f"embedded broker: {delivery.message.id} is no longer leased from {dlq!r} (its "
                               f"visibility timeout expired); not replayed")
        self._moved.add(delivery._seq)

    def settle(self, removed: Sequence[EmbeddedDelivery],  # type: ignore[override]
               kept: Sequence[EmbeddedDelivery]) -> None:
        super().settle([d for d in removed if d._seq not in self._moved], kept)

    def close(self) -> None:
        if self._publisher is not None:
            self._publisher.close()
        super().close()
