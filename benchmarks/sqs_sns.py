"""SNS/SQS: the adapter's per-message encode and decode against building and reading the same boto3 request by hand.

- sqs_sns_encode_ratio: messages/s of the PublishBatch entries SnsPublisher builds (`encode`: CloudEvents binary
  mode as message attributes, the attribute budget and SQS character checks, the Id) / a hand-built entry with the
  same attributes (`{"Id", "Message", "MessageAttributes": {"ce_id": {"DataType": "String", ...}}}`).
- sqs_sns_decode_ratio: messages/s of what SqsSubscriber.receive does per received message (unwrap raw delivery or
  the SNS envelope, CloudEvents attributes -> Message) / reading the same attributes by hand into the same Message.
- sqs_sns_publish_moto_ratio: messages/s of SnsPublisher.publish / hand-built publish_batch calls of 10 entries, with
  the same boto3 client, against moto's server: the HTTP round trip hides most of the kit's cost here.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import datetime

import boto3
import orjson

from benchmarks.harness import Figure, Group, Sides
from edakit.devservers import moto_server
from edakit.runtime.adapters.sqs_sns import BATCH, SqsSnsBroker, _unwrap, decode, encode
from edakit.runtime.message import Message

MESSAGES = 15_000
MOTO_MESSAGES = 200


def _messages(count: int) -> list[Message]:
    return [Message.new("OrderPlaced", json.dumps({"n": n, "pad": "x" * 200}).encode(), source="/bench",
                        key=f"o{n % 100}") for n in range(count)]


def _by_hand(entry_id: str, m: Message) -> dict:
    """The entry a service without the kit builds: the same CloudEvents attributes, no checks."""
    def s(value: str) -> dict[str, str]:
        return {"DataType": "String", "StringValue": value}
    attributes = {"ce_specversion": s("1.0"), "ce_id": s(m.id), "ce_type": s(m.type), "ce_source": s(m.source),
                  "ce_time": s(orjson.dumps(m.time)[1:-1].decode()), "content-type": s(m.content_type)}
    if m.key is not None:
        attributes["ce_partitionkey"] = s(m.key)
    return {"Id": entry_id, "Message": m.payload.decode(), "MessageAttributes": attributes}


def _kit_entry(entry_id: str, m: Message) -> dict:
    body, attributes = encode(m, topic="bench")  # what SnsPublisher._entry sends for a standard topic
    return {"Id": entry_id, "Message": body, "MessageAttributes": attributes}


def _loop(items: list, fn: Callable[..., object]) -> Callable[[], float]:
    def side() -> float:
        start = time.perf_counter()
        for i, item in enumerate(items):
            fn(str(i % BATCH), item)
        return time.perf_counter() - start
    return side


def _encode(_: object) -> Sides:
    messages = _messages(MESSAGES)
    assert _kit_entry("0", messages[0])["MessageAttributes"].keys() == _by_hand("0", messages[0])[
        "MessageAttributes"].keys(), "the hand-built entry must carry the same attributes"
    return Sides(kit=_loop(messages, _kit_entry), baseline=_loop(messages, _by_hand), items=MESSAGES)


def _received(m: Message, n: int) -> dict:
    """An SQS ReceiveMessage entry of a raw-delivery subscription, as SQS returns it."""
    return {"MessageId": f"mid-{n}", "ReceiptHandle": f"rh-{n}", "Body": m.payload.decode(),
            "Attributes": {"ApproximateReceiveCount": "1"},
            "MessageAttributes": _kit_entry("0", m)["MessageAttributes"]}


def _decode(_: object) -> Sides:
    received = [_received(m, n) for n, m in enumerate(_messages(MESSAGES))]

    def kit(_id: str, raw: dict) -> Message:
        body, attributes = _unwrap(raw)
        return decode(body, attributes, f"SQS message {raw['MessageId']} in queue")

    def by_hand(_id: str, raw: dict) -> Message:
        a = {k: v["StringValue"] for k, v in raw["MessageAttributes"].items()}
        return Message(id=a["ce_id"], type=a["ce_type"], source=a["ce_source"], payload=raw["Body"].encode(),
                       time=datetime.fromisoformat(a["ce_time"]), content_type=a["content-type"],
                       key=a.get("ce_partitionkey"))

    first = received[0]
    assert kit("0", first) == by_hand("0", first), "both sides must read the same Message"
    return Sides(kit=_loop(received, kit), baseline=_loop(received, by_hand), items=MESSAGES)


def _publish_moto(endpoint: str) -> Sides:
    session = boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1")
    broker = SqsSnsBroker(session, endpoint_url=endpoint)
    publisher = broker.publisher()
    arn = broker.topic_arn("bench-publish")
    messages = _messages(MOTO_MESSAGES)

    def kit() -> float:
        start = time.perf_counter()
        publisher.publish("bench-publish", messages)
        return time.perf_counter() - start

    def by_hand() -> float:
        start = time.perf_counter()
        for first in range(0, len(messages), BATCH):
            entries = [_by_hand(str(i), m) for i, m in enumerate(messages[first:first + BATCH])]
            if broker.sns.publish_batch(TopicArn=arn, PublishBatchRequestEntries=entries).get("Failed"):
                raise RuntimeError("sqs_sns bench: a hand-built entry was refused")
        return time.perf_counter() - start

    return Sides(kit=kit, baseline=by_hand, items=MOTO_MESSAGES)


CODEC = Group("sqs_sns", [
    Figure("sqs_sns_encode_ratio", "a hand-built PublishBatch entry with the same CloudEvents attributes, no checks",
           _encode, budget=8),
    Figure("sqs_sns_decode_ratio", "the same ReceiveMessage entry's attributes read by hand into the same Message",
           _decode, budget=8),
])
MOTO = Group("sqs_sns_moto", [
    Figure("sqs_sns_publish_moto_ratio", "hand-built publish_batch calls of 10 entries, same boto3 client, "
           "against moto's server", _publish_moto, budget=15),
], context=moto_server)
