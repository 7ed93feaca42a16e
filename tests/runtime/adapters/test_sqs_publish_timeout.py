"""SNS publish timeout (issue 11, item 3 for SNS/SQS): one publish call gives up within the broker's
`publish_timeout` (plus one retry backoff of at most 1 s) with a PublishError naming the timeout, however many
batches it holds, whether the endpoint refuses connections or never answers.

Before the fix boto3's defaults applied: legacy retries (5 attempts with backoff) and 60 s connect/read timeouts,
so a publish to a refused endpoint took seconds and one to a silent endpoint minutes.
"""

from __future__ import annotations

import json
import socket
import time

import boto3
import pytest
from botocore.config import Config

from edakit.devservers import free_port
from edakit.runtime.adapters.base import PublishError
from edakit.runtime.adapters.sqs_sns import PUBLISH_ATTEMPTS, SqsSnsBroker, client_configs
from edakit.runtime.message import Message

TIMEOUT = 1.0  # the publish timeout under test
BACKOFF = 1.0  # botocore's standard mode waits at most this long before its one retry
SLACK = 1.5  # seconds a loaded 2-core machine may add


def session() -> boto3.Session:
    return boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1")


def messages(count: int) -> list[Message]:
    return [Message.new("OrderPlaced", json.dumps({"n": n}).encode(), source="/tests") for n in range(count)]


def fail_publish(endpoint: str) -> tuple[str, float]:
    broker = SqsSnsBroker(session(), endpoint_url=endpoint, publish_timeout=TIMEOUT)
    started = time.monotonic()
    with pytest.raises(PublishError) as failure:
        broker.publisher().publish("orders", messages(20))
    return str(failure.value), time.monotonic() - started


def test_a_publish_to_a_refused_endpoint_fails_within_its_timeout() -> None:
    error, elapsed = fail_publish(f"http://127.0.0.1:{free_port()}")
    assert elapsed < TIMEOUT + BACKOFF + SLACK, f"took {elapsed:.1f}s"
    assert "SNS: publish to 'orders' failed, 20 of 20 message(s) not acknowledged (publish timeout 1s" in error


def test_a_publish_to_an_endpoint_that_never_answers_fails_within_its_timeout() -> None:
    # A listening socket nobody accepts on: connections succeed, no answer ever comes.
    with socket.create_server(("127.0.0.1", 0), backlog=16) as silent:
        error, elapsed = fail_publish(f"http://127.0.0.1:{silent.getsockname()[1]}")
    assert elapsed < TIMEOUT + BACKOFF + SLACK, f"took {elapsed:.1f}s"
    assert "publish timeout 1s: 2 attempt(s) per call, connect/read timeout 0.25s/0.25s each" in error
    assert "Read timeout" in error


def test_the_clients_are_bounded_by_the_publish_timeout_and_a_callers_config_wins() -> None:
    broker = SqsSnsBroker(session(), endpoint_url="http://127.0.0.1:1", publish_timeout=8.0)
    sns, sqs = broker.sns.meta.config, broker.sqs.meta.config
    assert (sns.connect_timeout, sns.read_timeout) == (2.0, 2.0)
    assert (sqs.connect_timeout, sqs.read_timeout) == (2.0, 25)  # above SQS's 20 s long poll
    assert sns.retries == sqs.retries == {"mode": "standard", "total_max_attempts": PUBLISH_ATTEMPTS}
    default = client_configs(30.0)[0]
    assert (default.connect_timeout, default.read_timeout) == (7.5, 7.5)
    mine = SqsSnsBroker(session(), endpoint_url="http://127.0.0.1:1",
                        config=Config(read_timeout=9, retries={"mode": "adaptive", "total_max_attempts": 3}))
    assert mine.sns.meta.config.read_timeout == 9 and mine.sns.meta.config.connect_timeout == 7.5
    assert mine.sqs.meta.config.retries == {"mode": "adaptive", "total_max_attempts": 3}
    with pytest.raises(ValueError, match="publish_timeout"):
        SqsSnsBroker(session(), publish_timeout=-1)
