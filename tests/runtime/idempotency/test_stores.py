"""Idempotency stores on real PostgreSQL, SQLite, Redis and DynamoDB (moto server)."""

from __future__ import annotations

import sqlite3
import threading
import time
import uuid
from pathlib import Path

import boto3
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
    RedisIdempotencyStore,
    SqlIdempotencyStore,
)
from edakit.runtime.idempotency.dynamodb import create_table


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


@pytest.fixture(scope="module")
def dynamodb(moto_url: str):
    client = boto3.client("dynamodb", endpoint_url=moto_url, region_name="us-east-1",
                          aws_access_key_id="test", aws_secret_access_key="test")
    create_table(client, "processed_events")
    return client


@pytest.fixture(params=["redis", "dynamodb"])
def make_store(request, redis_url):
    """The same lease-store contract on Redis and on DynamoDB; each store gets its own consumer name."""
    if request.param == "redis":
        client = redis.Redis.from_url(redis_url)
        request.addfinalizer(client.close)
        return lambda **kw: RedisIdempotencyStore(client, uuid.uuid4().hex, **kw)
    dynamodb = request.getfixturevalue("dynamodb")
    return lambda **kw: DynamoDBIdempotencyStore(dynamodb, "processed_events", uuid.uuid4().hex, **kw)


def test_lease_release_and_done(make_store):
    store = make_store(window_hours=2, lease_seconds=30)
    token = store.begin("e1")
    assert token is not None
    with pytest.raises(InProgressError, match="'e1'"):
        store.begin("e1")
    store.release("e1", "someone-else")  # not the holder: no effect
    with pytest.raises(InProgressError):
        store.begin("e1")
    store.release("e1", token)  # the run failed: a redelivery may take over
    token = store.begin("e1")
    assert token is not None
    store.complete("e1", token)
    assert store.begin("e1") is None  # done: a duplicate is skipped
    assert store.begin("e2") is not None


def test_an_expired_lease_lets_a_redelivery_run(make_store):
    store = make_store(window_hours=1, lease_seconds=1)
    stale = store.begin("e1")
    assert stale is not None
    time.sleep(2.1)  # the holder crashed; DynamoDB's expiry has whole-second resolution
    fresh = store.begin("e1")
    assert fresh is not None
    store.complete("e1", stale)  # the stale holder can neither finish ...
    store.release("e1", stale)  # ... nor release the new lease
    with pytest.raises(InProgressError):
        store.begin("e1")
    store.complete("e1", fresh)
    assert store.begin("e1") is None


def test_concurrent_begin_has_one_winner(make_store):
    store = make_store(window_hours=1)
    tokens: list[str | None] = []
    busy: list[InProgressError] = []

    def attempt() -> None:
        try:
            tokens.append(store.begin("same"))
        except InProgressError as exc:
            busy.append(exc)

    threads = [threading.Thread(target=attempt) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(tokens) == 1 and tokens[0] is not None and len(busy) == 7


def test_done_records_live_for_the_window(redis_url, dynamodb):
    client = redis.Redis.from_url(redis_url)
    in_redis = RedisIdempotencyStore(client, uuid.uuid4().hex, window_hours=2)
    in_redis.complete("e1", in_redis.begin("e1"))
    assert 2 * 3600 - 5 <= client.ttl(f"edakit:processed:{in_redis.consumer}:e1") <= 2 * 3600
    client.close()
    in_dynamodb = DynamoDBIdempotencyStore(dynamodb, "processed_events", uuid.uuid4().hex, window_hours=3)
    in_dynamodb.complete("e1", in_dynamodb.begin("e1"))
    item = dynamodb.get_item(TableName="processed_events", Key={"pk": {"S": f"{in_dynamodb.consumer}#e1"}})["Item"]
    assert item["status"] == {"S": "done"}
    assert int(item["expires_at"]["N"]) >= time.time() + 3 * 3600 - 5
