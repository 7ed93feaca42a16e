"""DynamoDB idempotency store: a conditional put takes a lease; `expires_at` doubles as the table's TTL attribute.

DynamoDB deletes expired items only eventually, so every condition also treats an expired item as absent. The
`token` of the run holding the lease is the owner check: renewing or completing after another run took the item
over fails its condition (LeaseLost), so the other run's lease or record stands. Expiry is in whole epoch seconds
of the consumers' clocks (keep them in sync, as NTP does).
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from edakit.runtime.idempotency.errors import InProgressError, checked_lease, lease_lost


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

    def __post_init__(self) -> None:
        if self.window_hours <= 0:
            raise ValueError(f"idempotency_window_hours must be > 0, got {self.window_hours}")

    def _pk(self, key: str) -> dict[str, str]:
        return {"S": f"{self.consumer}#{key}"}

    def begin(self, key: str, lease_seconds: int) -> str | None:
        """Take a lease of `lease_seconds` and return its token; None when the event is done; InProgressError while
        another run holds the lease."""
        token, now = uuid.uuid4().hex, int(time.time())
        taken = _conditional(
            self.client.put_item, TableName=self.table,
            Item={"pk": self._pk(key), "token": {"S": token}, "status": {"S": "processing"},
                  "expires_at": {"N": str(now + checked_lease(lease_seconds))}},
            ConditionExpression="attribute_not_exists(pk) OR expires_at < :now",
            ExpressionAttributeValues={":now": {"N": str(now)}})
        if taken:
            return token
        item = self.client.get_item(TableName=self.table, Key={"pk": self._pk(key)}, ConsistentRead=True).get("Item")
        if item is not None and item["status"]["S"] == "done":
            return None
        raise InProgressError(f"event key {key!r} of consumer {self.consumer!r} is being processed by another run")

    def renew(self, key: str, token: str, lease_seconds: int) -> None:
        """Push the lease `lease_seconds` ahead (a lapsed lease nobody took is taken again); LeaseLost when another
        run took the key over."""
        now = int(time.time())
        if not _conditional(
                self.client.put_item, TableName=self.table,
                Item={"pk": self._pk(key), "token": {"S": token}, "status": {"S": "processing"},
                      "expires_at": {"N": str(now + checked_lease(lease_seconds))}},
                # status too: a renewal racing this run's own completion must not turn "done" back into a lease
                ConditionExpression=("attribute_not_exists(pk) OR (#t = :token AND #s = :processing) "
                                     "OR expires_at < :now"),
                ExpressionAttributeNames={"#t": "token", "#s": "status"},
                ExpressionAttributeValues={":token": {"S": token}, ":processing": {"S": "processing"},
                                           ":now": {"N": str(now)}}):
            raise lease_lost(self.consumer, key, "renewing")

    def complete(self, key: str, token: str) -> None:
        """Record the event done for the window; LeaseLost (and nothing recorded) when another run took it over."""
        now = int(time.time())
        if not _conditional(
                self.client.put_item, TableName=self.table,
                Item={"pk": self._pk(key), "token": {"S": token}, "status": {"S": "done"},
                      "expires_at": {"N": str(int(now + self.window_hours * 3600))}},
                ConditionExpression="attribute_not_exists(pk) OR #t = :token OR expires_at < :now",
                ExpressionAttributeNames={"#t": "token"},
                ExpressionAttributeValues={":token": {"S": token}, ":now": {"N": str(now)}}):
            raise lease_lost(self.consumer, key, "completing")

    def release(self, key: str, token: str) -> None:
        """Drop this run's lease (a failed run), so a redelivery may take over at once; a done record stays."""
        _conditional(self.client.delete_item, TableName=self.table, Key={"pk": self._pk(key)},
                     ConditionExpression="#t = :token AND #s = :processing",
                     ExpressionAttributeNames={"#t": "token", "#s": "status"},
                     ExpressionAttributeValues={":token": {"S": token}, ":processing": {"S": "processing"}})
