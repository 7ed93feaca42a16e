"""Lease stores on real Redis and DynamoDB (moto server) for the idempotency tests; fixtures are in conftest.py."""

from __future__ import annotations

import uuid
from typing import Any

import boto3
import redis
from botocore.config import Config

from edakit.runtime.idempotency import DynamoDBIdempotencyStore, RedisIdempotencyStore

TABLE = "processed_events"
# One attempt with short timeouts: behind a cut proxy a call fails fast instead of retrying for seconds.
FAST_FAIL = Config(connect_timeout=0.5, read_timeout=1, retries={"total_max_attempts": 1, "mode": "standard"})


def dynamodb_client(endpoint: str, config: Config | None = None) -> Any:
    return boto3.client("dynamodb", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="test",
                        aws_secret_access_key="test", config=config)


def lease_store(kind: str, address: str, consumer: str) -> RedisIdempotencyStore | DynamoDBIdempotencyStore:
    """A store of `kind` ("redis", "redis-decoded", "dynamodb") on the server at `address` ("host:port")."""
    if kind.startswith("redis"):
        host, _, port = address.rpartition(":")
        client = redis.Redis(host=host, port=int(port), decode_responses=kind == "redis-decoded",
                             socket_timeout=1, socket_connect_timeout=0.5)
        return RedisIdempotencyStore(client, consumer, window_hours=1)
    return DynamoDBIdempotencyStore(dynamodb_client(f"http://{address}", FAST_FAIL), TABLE, consumer, window_hours=1)


def fresh_consumer() -> str:
    return f"billing-{uuid.uuid4().hex[:8]}"
