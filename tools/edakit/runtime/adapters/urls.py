"""Open a broker from a URL given on the command line (`edakit dlq`, `edakit outbox`; see SCHEMES). AWS credentials
and region come from the usual boto3 sources (environment, ~/.aws); Google's from Application Default Credentials.

`connect_broker(url)` is what every command uses: it opens the broker and then checks that it answers
(`check_reachable`), so a broker that is down is an error (BrokerUnreachable) and never an empty result.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import psycopg
from botocore.exceptions import NoRegionError

from edakit.redact import redact
from edakit.runtime.adapters.base import Broker, BrokerUnreachable
from edakit.runtime.adapters.embedded import EmbeddedBroker
from edakit.runtime.adapters.kafka import KafkaBroker
from edakit.runtime.adapters.pubsub import PubSubBroker
from edakit.runtime.adapters.sqs_sns import SqsSnsBroker

SCHEMES = ("embedded:PATH, kafka://HOST:PORT[,HOST:PORT...], sqs: or sqs:ENDPOINT_URL, pubsub:PROJECT or "
           "pubsub://HOST:PORT/PROJECT (an emulator)")

KAFKA_TOOL_CONSUMER = {"session.timeout.ms": 6000, "heartbeat.interval.ms": 500}

# Seconds a command waits for its broker or database to answer before it reports it unreachable (exit 2);
# EDAKIT_CONNECT_TIMEOUT overrides it (a slow link, or tests).
REACHABLE_TIMEOUT = 5.0


class BrokerUrlError(ValueError):
    """A broker URL that names no broker we can open."""


class DatabaseUnreachable(RuntimeError):
    """A database (outbox, event store, saga state) that does not answer, or is not there."""


def open_broker(url: str) -> Broker:
    """The broker `url` names, not yet contacted (see connect_broker). Error messages show the URL redacted."""
    shown = redact(url)
    scheme, sep, rest = url.partition(":")
    if scheme == "sqs" and sep:
        if rest and not rest.startswith(("http://", "https://")):
            raise BrokerUrlError(f"broker {shown!r}: expected sqs: or sqs:http(s)://HOST:PORT (an endpoint URL)")
        try:
            return SqsSnsBroker(endpoint_url=rest or None)
        except NoRegionError:
            raise BrokerUrlError(f"broker {shown!r}: no AWS region; set AWS_REGION (or AWS_DEFAULT_REGION, or "
                                 "region in ~/.aws/config)") from None
    if not sep or not rest:
        raise BrokerUrlError(f"broker {shown!r}: expected one of {SCHEMES}")
    if scheme == "embedded":
        path = Path(rest)
        if not path.is_file():  # opening would create an empty broker file: certainly not the DLQ meant
            raise BrokerUrlError(f"broker {shown!r}: embedded broker file {path} does not exist")
        try:
            return EmbeddedBroker(path)
        except sqlite3.Error as exc:
            raise BrokerUnreachable(f"embedded broker {path}: {exc}") from None
    if scheme == "kafka":
        bootstrap = rest.removeprefix("//")
        if not bootstrap or any(not h.rpartition(":")[2].isdigit() for h in bootstrap.split(",")):
            raise BrokerUrlError(f"broker {shown!r}: expected kafka://HOST:PORT[,HOST:PORT...]")
        # A one-shot tool joins its group once: short session timings make that join take ~1 s instead of ~20 s.
        return KafkaBroker(bootstrap, consumer_config=KAFKA_TOOL_CONSUMER)
    if scheme == "pubsub":
        if rest.startswith("//"):
            host, _, project = rest[2:].partition("/")
            if not host.rpartition(":")[2].isdigit() or not project or "/" in project:
                raise BrokerUrlError(f"broker {shown!r}: expected pubsub://HOST:PORT/PROJECT (an emulator)")
            return PubSubBroker(project, emulator_host=host)
        if "/" in rest:
            raise BrokerUrlError(f"broker {shown!r}: expected pubsub:PROJECT or pubsub://HOST:PORT/PROJECT")
        return PubSubBroker(rest)
    raise BrokerUrlError(f"broker {shown!r}: unknown scheme {scheme!r}; expected one of {SCHEMES}")


def reachable_timeout() -> float:
    """REACHABLE_TIMEOUT, or EDAKIT_CONNECT_TIMEOUT's seconds when set."""
    text = os.environ.get("EDAKIT_CONNECT_TIMEOUT")
    if text is None:
        return REACHABLE_TIMEOUT
    try:
        seconds = float(text)
    except ValueError:
        seconds = 0.0
    if not 0 < seconds <= 600:
        raise BrokerUrlError(f"EDAKIT_CONNECT_TIMEOUT={text[:20]!r}: expected seconds, more than 0 and at most 600")
    return seconds


def connect_broker(url: str, timeout: float | None = None) -> Broker:
    """open_broker, then check that the broker answers within `timeout` seconds (default: reachable_timeout());
    BrokerUnreachable if not."""
    broker = open_broker(url)
    broker.check_reachable(reachable_timeout() if timeout is None else timeout)
    return broker


def check_database(url: str, timeout: float | None = None, *, must_exist: bool = True) -> None:
    """Raise DatabaseUnreachable unless the database at `url` (postgresql://..., postgres://..., sqlite:PATH) accepts
    a connection within `timeout` seconds. `must_exist=False`: a missing SQLite file is fine (it is about to be
    created). Other URLs are left to the caller's own URL check."""
    shown = redact(url)
    timeout = reachable_timeout() if timeout is None else timeout
    if url.startswith(("postgresql://", "postgres://")):
        try:
            psycopg.connect(url, connect_timeout=max(1, round(timeout))).close()
        except psycopg.Error as exc:
            raise DatabaseUnreachable(f"database {shown}: {redact(str(exc))}") from None
    elif url.startswith("sqlite:"):
        path = Path(url.removeprefix("sqlite:"))
        if not path.is_file():
            if must_exist:
                raise DatabaseUnreachable(f"database {shown}: SQLite database {path} does not exist")
            return
        try:
            conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=timeout)
            try:
                conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
            finally:
                conn.close()
        except sqlite3.Error as exc:
            raise DatabaseUnreachable(f"database {shown}: {exc}") from None
