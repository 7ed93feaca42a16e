"""A broker outage under load, per real broker in the suite (issue 11): the outbox relay keeps publishing a stream of
events while the broker is away for a few seconds mid-stream; once it is back the outbox drains, nothing is lost,
and duplicates stay within one relay batch per outage (a publish whose acknowledgement the outage swallowed).

Tansu, moto and pstest (Pub/Sub) keep their state in memory, so they are cut off by a TcpProxy that drops every
connection (the server keeps running); noida-db persists to its data dir and is restarted for real on the same port and dir.
Figures are printed per broker (run with -s, or see the captured output) for the fault table in
tools/edakit/runtime/README.md.
"""

from __future__ import annotations

import json
import uuid
from contextlib import ExitStack
from pathlib import Path

import boto3
import pytest
from outage import BATCH, Figures, read_kafka_topic, run_outage

from edakit.devservers import free_port, noida_kafka, tansu_behind_proxy, tcp_proxy
from edakit.runtime.adapters.kafka import KafkaBroker
from edakit.runtime.adapters.pubsub import PubSubBroker
from edakit.runtime.adapters.sqs_sns import SqsSnsBroker

# A Kafka client backs off up to 10 s between reconnects by default; the relay's publisher here retries within 0.5 s
# so the figures show the kit's recovery rather than librdkafka's backoff.
PRODUCER = {"reconnect.backoff.max.ms": 500, "log_level": 0}
PUBLISH_TIMEOUT = 2.0


def report(figures: Figures, capsys: pytest.CaptureFixture[str]) -> None:
    with capsys.disabled():
        print("\n" + figures.line())
    assert figures.backlog_at_restore > 0, "the outage did not hold anything back: the cut missed the stream"
    assert figures.lost == 0
    assert figures.duplicates <= figures.bound == BATCH


def test_kafka_on_tansu_cut_off_mid_stream(pg_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    topic = f"orders.outage.{uuid.uuid4().hex[:6]}"
    with tansu_behind_proxy() as proxy:
        broker = KafkaBroker(proxy.address, publish_timeout=PUBLISH_TIMEOUT, producer_config=PRODUCER)
        broker.create_topics([topic])
        figures = run_outage("kafka/tansu (proxy drops connections)", pg_url, topic, broker.publisher(),
                             cut=lambda: proxy.set_mode("drop"), restore=lambda: proxy.set_mode("forward"),
                             read=lambda: read_kafka_topic(proxy.address, topic))
    report(figures, capsys)
    assert figures.first_arrivals_in_order  # one partition per aggregate key


def test_kafka_on_noida_restarted_mid_stream(pg_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    topic = f"orders.outage.{uuid.uuid4().hex[:6]}"
    port, data = free_port(), tmp_path / "noida"
    with ExitStack() as server:
        bootstrap = server.enter_context(noida_kafka(port, data))
        broker = KafkaBroker(bootstrap, publish_timeout=PUBLISH_TIMEOUT, producer_config=PRODUCER)
        broker.create_topics([topic])

        def restart_same_broker() -> None:  # same port and data dir: what it acknowledged must still be there
            server.enter_context(noida_kafka(port, data))

        figures = run_outage("kafka/noida-db (restarted)", pg_url, topic, broker.publisher(), cut=server.close,
                             restore=restart_same_broker, read=lambda: read_kafka_topic(bootstrap, topic))
    report(figures, capsys)
    assert figures.first_arrivals_in_order


def sns_sqs(endpoint: str) -> SqsSnsBroker:
    session = boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1")
    return SqsSnsBroker(session, endpoint_url=endpoint, create_missing=True, publish_timeout=PUBLISH_TIMEOUT)


def test_sns_sqs_on_moto_cut_off_mid_stream(pg_url: str, moto_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    # No AWS_RETRY_MODE/AWS_MAX_ATTEMPTS here: the broker's publish_timeout bounds its clients (2 attempts, standard
    # retries, connect/read timeout publish_timeout / 4), so no publish is held long after the broker is back.
    topic, group = f"orders-outage-{uuid.uuid4().hex[:6]}", "check"
    queue = sns_sqs(moto_url).subscriber(topic, group)  # the consumer reads moto directly, after the run
    with tcp_proxy(moto_url.removeprefix("http://")) as proxy:

        def read() -> list[int]:  # moto answers a short poll with everything there: read until one comes back empty
            seen: list[int] = []
            while batch := queue.receive(10, timeout=0):
                seen.extend(json.loads(delivery.message.payload)["n"] for delivery in batch)
                queue.ack_all(batch)
            return seen

        # moto takes ~10 ms per SNS publish to an SQS subscription on a loaded machine: fewer events keep it short.
        figures = run_outage("sns+sqs/moto (proxy drops connections)", pg_url, topic,
                             sns_sqs(f"http://{proxy.address}").publisher(), cut=lambda: proxy.set_mode("drop"),
                             restore=lambda: proxy.set_mode("forward"), read=read, events=300)
        assert proxy.accepted > 0  # the relay's publisher went through the proxy
    queue.close()
    report(figures, capsys)



def test_pubsub_on_pstest_cut_off_mid_stream(pg_url: str, pstest_host: str,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    topic, group = f"orders-outage-{uuid.uuid4().hex[:6]}", "check"
    direct = PubSubBroker("edakit-outage", create_missing=True, emulator_host=pstest_host)
    subscription = direct.subscriber(topic, group)  # provisions the topic; the consumer reads pstest directly
    with tcp_proxy(pstest_host) as proxy:

        def read() -> list[int]:  # drain the subscription: pull until a pull comes back empty
            seen: list[int] = []
            while batch := subscription.receive(100, timeout=1.0):
                for delivery in batch:
                    seen.append(json.loads(delivery.message.payload)["n"])
                    delivery.ack()
            return seen

        # emulator_host is the proxy: every RPC of the relay's publisher passes it (asserted below).
        broker = PubSubBroker("edakit-outage", emulator_host=proxy.address, publish_timeout=PUBLISH_TIMEOUT)
        figures = run_outage("pubsub/pstest (proxy drops connections)", pg_url, topic, broker.publisher(),
                             cut=lambda: proxy.set_mode("drop"), restore=lambda: proxy.set_mode("forward"),
                             read=read)
        assert proxy.accepted > 0
    subscription.close()
    report(figures, capsys)
