"""Amazon S3 claim-check store (boto3), the store of terraform/modules/claim-check-store-aws-s3 and of AWS's SQS
Extended Client Library: a payload one of them stored is read by the other."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from edakit.runtime.claimcheck.store import PayloadMissing, StoreError, too_large

NOT_FOUND = frozenset({"NoSuchKey", "404", "NotFound"})


class S3Store:
    def __init__(self, client: Any, bucket: str) -> None:
        """`client`: a boto3 S3 client (`boto3.client("s3", endpoint_url=...)`), whose botocore Config bounds each
        call; `bucket`: the store's bucket (the module's `bucket` output)."""
        self.client, self.bucket = client, bucket

    def put(self, key: str, payload: bytes) -> None:
        try:
            self.client.put_object(Bucket=self.bucket, Key=key, Body=payload)
        except (ClientError, BotoCoreError) as exc:
            raise StoreError(f"S3: PutObject s3://{self.bucket}/{key} failed: {exc}") from exc

    def get(self, key: str, max_bytes: int) -> bytes:
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in NOT_FOUND:
                raise PayloadMissing(f"claim-check object s3://{self.bucket}/{key} not found (deleted, or expired "
                                     f"by the bucket's lifecycle rule)") from None
            raise StoreError(f"S3: GetObject s3://{self.bucket}/{key} failed: {exc}") from exc
        except BotoCoreError as exc:
            raise StoreError(f"S3: GetObject s3://{self.bucket}/{key} failed: {exc}") from exc
        body = response["Body"]
        try:
            if response["ContentLength"] > max_bytes:
                raise too_large(f"s3://{self.bucket}/{key}", response["ContentLength"], max_bytes)
            return body.read()
        except (ClientError, BotoCoreError) as exc:
            raise StoreError(f"S3: reading s3://{self.bucket}/{key} failed: {exc}") from exc
        finally:
            body.close()

    def delete(self, key: str) -> None:
        try:
            self.client.delete_object(Bucket=self.bucket, Key=key)  # S3 answers 204 for a missing key too
        except (ClientError, BotoCoreError) as exc:
            raise StoreError(f"S3: DeleteObject s3://{self.bucket}/{key} failed: {exc}") from exc
