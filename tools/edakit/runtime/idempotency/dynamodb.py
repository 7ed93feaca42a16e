"""DynamoDB idempotency store: a conditional put takes a lease; `expires_at` doubles as the table's TTL attribute.

DynamoDB deletes expired items only eventually, so the condition also treats an expired item as absent.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from edakit.runtime.idempotency.errors import InProgressError


def create_table(client: Any, table: str) -> None:
    """On-demand table keyed by `pk`, with TTL on `expires_at`; waits until it is active."""
    client.create_table(TableName=table, BillingMode="PAY_PER_REQUEST",
                        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}])
    client.get_waiter("table_exists").wait(TableName=table)
    client.update_time_to_live(TableName=table,
                               TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires_at"})


def _conditional(call: Any, **kwargs: Any) -> bool:
    try:
        call(**kwargs)
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
            return False
        raise
    return True


@dataclass
class DynamoDBIdempotencyStore:
    client: Any  # boto3 DynamoDB client
    table: str
    consumer: str
    window_hours: float
    lease_seconds: int = 60

    def __post_init__(self) -> None:
        if self.window_hours <= 0:
            raise ValueError(f"idempotency_window_hours must be > 0, got {self.window_hours}")

    def _pk(self, key: str) -> dict[str, str]:
        return {"S": f"{self.consumer}#{key}"}

    def begin(self, key: str) -> str | None:
        """Take the lease and return its token; None when the event is done; InProgressError while another run
        holds the lease."""
        token, now = uuid.uuid4().hex, int(time.time())
        taken = _conditional(
            self.client.put_item, TableName=self.table,
            Item={"pk": self._pk(key), "token": {"S": token}, "status": {"S": "processing"},
                  "expires_at": {"N": str(now + self.lease_seconds)}},
            ConditionExpression="attribute_not_exists(pk) OR expires_at < :now",
            ExpressionAttributeValues={":now": {"N": str(now)}})
        if taken:
            return token
        item = self.client.get_item(TableName=self.table, Key={"pk": self._pk(key)}, ConsistentRead=True).get("Item")
        if item is not None and item["status"]["S"] == "done":
            return None
        raise InProgressError(f"event key {key!r} of consumer {self.consumer!r} is being processed by another run")

    def complete(self, key: str, token: str) -> None:
        expires = int(time.time() + self.window_hours * 3600)
        _conditional(self.client.update_item, TableName=self.table, Key={"pk": self._pk(key)},
                     UpdateExpression="SET #s = :done, expires_at = :expires",
                     ConditionExpression="#t = :token",
                     ExpressionAttributeNames={"#s": "status", "#t": "token"},
                     ExpressionAttributeValues={":done": {"S": "done"}, ":expires": {"N": str(expires)},
                                                ":token": {"S": token}})

    def release(self, key: str, token: str) -> None:
        _conditional(self.client.delete_item, TableName=self.table, Key={"pk": self._pk(key)},
                     ConditionExpression="#t = :token", ExpressionAttributeNames={"#t": "token"},
                     ExpressionAttributeValues={":token": {"S": token}})
