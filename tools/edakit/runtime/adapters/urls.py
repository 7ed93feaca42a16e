"""Open a broker from a URL given on the command line (`edakit dlq`, `edakit outbox`; see SCHEMES): each broker
profile's `url_scheme` and `open_url` (edakit.brokers), plus `embedded:PATH`. AWS credentials
and region come from the usual boto3 sources (environment, ~/.aws); Google's from Application Default Credentials.

`connect_broker(url)` is what every command uses: it opens the broker and then checks that it answers
(`check_reachable`), so a broker that is down is an error (BrokerUnreachable) and never an empty result.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import psycopg

from edakit.brokers import PROFILES, BrokerUrlError
from edakit.brokers.kafka import TOOL_CONSUMER as KAFKA_TOOL_CONSUMER  # noqa: F401 - the name tests used to import
from edakit.redact import redact
from edakit.runtime.adapters.base import Broker, BrokerUnreachable
from edakit.runtime.adapters.embedded import EmbeddedBroker

# `embedded:PATH` (the local SQLite broker, no spec broker), then each broker profile's scheme (edakit.brokers).
SCHEMES = ", ".join(["embedded:PATH", *(p.url_forms for p in PROFILES.values() if p.open_url is not None)])

# Seconds a command waits for its broker or database to answer before it reports it unreachable (exit 2);
# EDAKIT_CONNECT_TIMEOUT overrides it (a slow link, or tests).
REACHABLE_TIMEOUT = 5.0


class DatabaseUnreachable(RuntimeError):
    """A database (outbox, event store, saga state) that does not answer, or is not there."""


def open_broker(url: str) -> Broker:
    """The broker `url` names, not yet contacted (see connect_broker). Error messages show the URL redacted."""
    shown = redact(url)
    scheme, sep, rest = url.partition(":")
    by_scheme = {p.url_scheme: p for p in PROFILES.values() if p.open_url is not None}
    broker = by_scheme.get(scheme) if sep else None
    if broker is not None and broker.open_url is not None and (rest or broker.url_bare):
        return broker.open_url(shown, rest)
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
