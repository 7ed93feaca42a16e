"""The claim-check store interface, its errors, and the local-development store.

A store keeps payloads as objects in one bucket (or container) under keys the publisher chooses; it never lists,
and it never follows a pointer into another bucket (the consumer checks `bucket` first). Expiry is the store's own
(the Terraform modules' lifecycle rules), so a payload nobody deletes is removed after `payload_expiration_days`.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Protocol

# Objects larger than this are refused when read, whatever a pointer claims: the consumer holds a payload in memory.
DEFAULT_MAX_PAYLOAD_BYTES = 256 * 1024 * 1024


class StoreError(RuntimeError):
    """The store did not answer or refused the request: retryable, like any handler error."""


class PayloadMissing(StoreError):
    """No object under the key: deleted, or expired by the store's lifecycle rule. Not retryable: a poison message."""


class PayloadTooLarge(StoreError):
    """The object is larger than the consumer reads. Not retryable: a poison message."""


class PayloadStore(Protocol):
    bucket: str  # what pointers name as s3BucketName: the bucket, or the Azure container

    def put(self, key: str, payload: bytes) -> None:
        """Store `payload` under `key`; return only once the store acknowledged it. Raise StoreError otherwise."""

    def get(self, key: str, max_bytes: int) -> bytes:
        """The object under `key`; PayloadMissing if there is none, PayloadTooLarge if it exceeds `max_bytes`
        (checked before it is read)."""

    def delete(self, key: str) -> None:
        """Remove the object; a missing one is not an error."""


def too_large(where: str, size: int, max_bytes: int) -> PayloadTooLarge:
    return PayloadTooLarge(f"claim-check object {where} is {size} bytes, more than the {max_bytes} this consumer "
                           f"reads (max_payload_bytes)")


# Keys the kit writes are uuid4 strings; a key read from a pointer may be anything, so the directory store accepts
# only names that stay inside its directory.
_LOCAL_KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,254}")


class LocalDirectoryStore:
    """The local-development store: one directory of files, for demos and unit tests only (no expiry, no sharing
    between hosts). Same pointer format as the cloud stores; `bucket` is the name pointers carry."""

    def __init__(self, directory: str | Path, bucket: str = "local-claim-checks") -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.bucket = bucket

    def _path(self, key: str) -> Path:
        if not _LOCAL_KEY.fullmatch(key):
            raise PayloadMissing(f"claim-check object {self.bucket}/{key!r:.80}: not a key the local store holds "
                                 f"(letters, digits, '.', '_', '-')")
        return self.directory / key

    def put(self, key: str, payload: bytes) -> None:
        path = self._path(key)
        partial = path.with_name(f".{key}.partial")
        partial.write_bytes(payload)
        os.replace(partial, path)  # readers never see half a payload

    def get(self, key: str, max_bytes: int) -> bytes:
        path = self._path(key)
        try:
            with path.open("rb") as stream:
                size = os.fstat(stream.fileno()).st_size
                if size > max_bytes:
                    raise too_large(f"{self.bucket}/{key}", size, max_bytes)
                return stream.read()
        except FileNotFoundError:
            raise PayloadMissing(f"claim-check object {self.bucket}/{key} not found in {self.directory} "
                                 f"(deleted, or never stored)") from None

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)
