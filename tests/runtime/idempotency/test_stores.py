"""Idempotency stores on real PostgreSQL, SQLite, Redis and DynamoDB (moto server)."""

from __future__ import annotations

import sqlite3
import threading
import time
import uuid
from pathlib import Path

import psycopg
import pytest
import redis
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from edakit.runtime.idempotency import (
    DynamoDBIdempotencyStore,
    InProgressError,
    LeaseLost,
    RedisIdempotencyStore,
    SqlIdempotencyStore,
)


@pytest.fixture
def pg(pg_url: str):
    with psycopg.connect(pg_url) as conn:
        with conn.transaction():
            SqlIdempotencyStore("billing", window_hours=1).create_schema(conn)
        yield conn


def test_postgres_claim_is_once_per_consumer_and_rolls_back_with_the_transaction(pg):
    billing, shipping = SqlIdempotencyStore("billing", 1), SqlIdempotencyStore("shipping", 1)
    with pytest.raises(RuntimeError), pg.transaction():
        assert billing.claim(pg, "e1")
        raise RuntimeError("handler failed")
    with pg.transaction():
        assert billing.claim(pg, "e1")  # the failed run left no record
        assert not billing.claim(pg, "e1")
        assert shipping.claim(pg, "e1")


def test_cleanup_removes_only_records_older_than_the_window(pg):
    short = SqlIdempotencyStore("billing", window_hours=0.2 / 3600)  # 0.2 s
    other = SqlIdempotencyStore("shipping", window_hours=0.2 / 3600)
    with pg.transaction():
        assert short.claim(pg, "e1") and other.claim(pg, "e1")
    time.sleep(0.25)
    with pg.transaction():
        assert short.claim(pg, "e2")
        assert not short.claim(pg, "e1")  # aged, but recorded until a cleanup runs
        assert short.cleanup(pg) == 1  # e1 of this consumer only
        assert short.claim(pg, "e1")  # after the cleanup the event counts as new
        assert not short.claim(pg, "e2")
    count = pg.execute("SELECT count(*) FROM processed_events").fetchone()
    assert count == (3,)


@pytest.mark.parametrize("first_commits", [True, False])
def test_concurrent_duplicates_exactly_one_commits(pg, pg_url, first_commits):
    store = SqlIdempotencyStore("billing", 1)
    first, second = psycopg.connect(pg_url), psycopg.connect(pg_url)
    outcome: list[bool] = []
    first.execute("BEGIN")
    assert store.claim(first, "dup")

    def second_run() -> None:
        with second.transaction():
            outcome.append(store.claim(second, "dup"))  # blocks on the unique key until `first` ends

    thread = threading.Thread(target=second_run)
    thread.start()
    thread.join(0.3)
    assert thread.is_alive() and outcome == []
    first.execute("COMMIT" if first_commits else "ROLLBACK")
    thread.join()
    assert outcome == [not first_commits]
    first.close()
    second.close()


def test_sqlite_and_sqlalchemy_share_the_same_records(tmp_path: Path):
    db = tmp_path / "app.sqlite3"
    store = SqlIdempotencyStore("billing", 24)
    with sqlite3.connect(db) as conn:
        store.create_schema(conn)
        assert store.claim(conn, "e1")
    engine = create_engine(f"sqlite:///{db}")
    with Session(engine) as session, session.begin():
        assert not store.claim(session, "e1")
        assert store.claim(session, "e2")
    with engine.begin() as conn:
        assert conn.execute(text("SELECT count(*) FROM processed_events")).scalar() == 2
    engine.dispose()


@settings(max_examples=50, deadline=None)
@given(st.lists(st.text(min_size=1, max_size=20), max_size=30))
def test_claims_match_first_occurrences(keys):
    store = SqlIdempotencyStore("c", 1)
    with sqlite3.connect(":memory:") as conn:
        store.create_schema(conn)
        claimed = [store.claim(conn, k) for k in keys]
    assert claimed == [k not in keys[:i] for i, k in enumerate(keys)]


def test_bad_settings_are_named():
    with pytest.raises(ValueError, match="idempotency_window_hours must be > 0"):
        SqlIdempotencyStore("c", 0)
    with pytest.raises(ValueError, match="table name 'x y': expected a lower-case SQL identifier"):
        SqlIdempotencyStore("c", 1, table="x y")


STORES = ["redis", "redis-decoded", "dynamodb"]  # Redis with the client's two response settings


@pytest.fixture(params=STORES)
def make_store(request, redis_url):
    """The same lease-store contract on Redis (bytes and `decode_responses=True` clients) and on DynamoDB; each
    store gets its own consumer name."""
    if request.param.startswith("redis"):
        client = redis.Redis.from_url(redis_url, decode_responses=request.param == "redis-decoded")
        request.addfinalizer(client.close)
        return lambda **kw: RedisIdempotencyStore(client, uuid.uuid4().hex, **kw)
    dynamodb = request.getfixturevalue("dynamodb")
    return lambda **kw: DynamoDBIdempotencyStore(dynamodb, "processed_events", uuid.uuid4().hex, **kw)


def test_lease_release_and_done(make_store):
    store = make_store(window_hours=2)
    token = store.begin("e1", 30)
    assert token is not None
    with pytest.raises(InProgressError, match="'e1'"):
        store.begin("e1", 30)
    store.release("e1", "someone-else")  # not the holder: no effect
    with pytest.raises(InProgressError):
        store.begin("e1", 30)
    store.release("e1", token)  # the run failed: a redelivery may take over
    token = store.begin("e1", 30)
    assert token is not None
    store.complete("e1", token)
    assert store.begin("e1", 30) is None  # done: a duplicate is skipped (either client setting)
    store.release("e1", token)  # a late release leaves the done record alone
    assert store.begin("e1", 30) is None
    assert store.begin("e2", 30) is not None


def test_a_renewed_lease_holds_and_an_expired_one_is_taken_over_without_the_stale_run_finishing_it(make_store):
    store = make_store(window_hours=1)
    stale, kept = store.begin("e1", 1), store.begin("kept", 1)
    renewed, completed = store.begin("late-renewal", 1), store.begin("late-completion", 1)
    time.sleep(0.7)
    store.renew("kept", kept, 2)
    time.sleep(1.4)  # 2.1 s in all: the 1 s leases expired (DynamoDB's expiry has whole-second resolution)
    with pytest.raises(InProgressError):
        store.begin("kept", 30)  # renewed in time: still held
    fresh = store.begin("e1", 30)  # the holder stalled: a redelivery takes over
    assert fresh is not None
    with pytest.raises(LeaseLost, match="'e1'.*another run took the event over .seen when renewing"):
        store.renew("e1", stale, 30)
    with pytest.raises(LeaseLost, match="seen when completing"):
        store.complete("e1", stale)  # the stale holder can neither finish ...
    store.release("e1", stale)  # ... nor release the new lease
    with pytest.raises(InProgressError):
        store.begin("e1", 30)
    store.complete("e1", fresh)
    with pytest.raises(LeaseLost):
        store.complete("e1", stale)  # nor overwrite the winner's record
    assert store.begin("e1", 30) is None

    # A lapsed lease nobody took over is still this run's: renewing takes it again, completing records the event.
    store.renew("late-renewal", renewed, 30)
    with pytest.raises(InProgressError):
        store.begin("late-renewal", 30)
    store.complete("late-completion", completed)
    assert store.begin("late-completion", 30) is None


def test_concurrent_begin_has_one_winner(make_store):
    store = make_store(window_hours=1)
    tokens: list[str | None] = []
    busy: list[InProgressError] = []

    def attempt() -> None:
        try:
            tokens.append(store.begin("same", 30))
        except InProgressError as exc:
            busy.append(exc)

    threads = [threading.Thread(target=attempt) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(tokens) == 1 and tokens[0] is not None and len(busy) == 7


@pytest.mark.parametrize("lease_seconds", [0, -1, 1.5, True])
def test_a_lease_that_is_not_whole_positive_seconds_is_refused(make_store, lease_seconds):
    store = make_store(window_hours=1)
    with pytest.raises(ValueError, match=r"lease_seconds: expected a whole number of seconds >= 1"):
        store.begin("e1", lease_seconds)


@pytest.mark.parametrize("decode_responses", [False, True])
def test_done_records_live_for_the_window(redis_url, dynamodb, decode_responses):
    client = redis.Redis.from_url(redis_url, decode_responses=decode_responses)
    in_redis = RedisIdempotencyStore(client, uuid.uuid4().hex, window_hours=2)
    in_redis.complete("e1", in_redis.begin("e1", 30))
    assert 2 * 3600 - 5 <= client.ttl(f"edakit:processed:{in_redis.consumer}:e1") <= 2 * 3600
    client.close()
    in_dynamodb = DynamoDBIdempotencyStore(dynamodb, "processed_events", uuid.uuid4().hex, window_hours=3)
    in_dynamodb.complete("e1", in_dynamodb.begin("e1", 30))
    item = dynamodb.get_item(TableName="processed_events", Key={"pk": {"S": f"{in_dynamodb.consumer}#e1"}})["Item"]
    assert item["status"] == {"S": "done"}
    assert int(item["expires_at"]["N"]) >= time.time() + 3 * 3600 - 5
