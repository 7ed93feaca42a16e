"""The claim-check pointer: what an offloaded message carries instead of its payload.

The body is the pointer of AWS's payload-offloading library (SQS Extended Client Library for Java 2.x and its Python
port `amazon-sqs-extended-client`), a JSON array of the pointer class and the object's location:

    ["software.amazon.payloadoffloading.PayloadS3Pointer", {"s3BucketName": "<bucket>", "s3Key": "<key>"}]

and the message carries the payload's size in bytes in the claim-check header (`extendedpayloadsize`; on SNS/SQS the
`ExtendedPayloadSize` attribute the Extended Client reads). The header, not the body's shape, marks a message as
offloaded. Every store uses this one format: for Azure Blob and GCS `s3BucketName` names the container or bucket;
a consumer reads only from the store it was configured with, whatever the pointer says (see `parse_pointer`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from edakit.brokers.attributes import CLAIM_CHECK_SIZE_HEADER

SIZE_HEADER = CLAIM_CHECK_SIZE_HEADER
POINTER_CLASS = "software.amazon.payloadoffloading.PayloadS3Pointer"
LEGACY_POINTER_CLASS = "com.amazon.sqs.javamessaging.MessageS3Pointer"  # Extended Client 1.x; read, never written
# A pointer is a few hundred bytes; anything longer is not one (and is not parsed: the body is untrusted input).
MAX_POINTER_BYTES = 4096
MAX_KEY_BYTES = 1024  # S3's longest object key (Azure: 1024 characters, GCS: 1024 bytes)


class PointerError(ValueError):
    """An offloaded message whose body is not a claim-check pointer this consumer may follow: a poison message."""


@dataclass(frozen=True)
class Pointer:
    bucket: str  # bucket or container
    key: str

    def to_payload(self) -> bytes:
        """The pointer body, compact as the Java library writes it."""
        return json.dumps([POINTER_CLASS, {"s3BucketName": self.bucket, "s3Key": self.key}],
                          separators=(",", ":"), ensure_ascii=False).encode()

    def __str__(self) -> str:
        return f"{self.bucket}/{self.key}"


def parse_pointer(payload: bytes) -> Pointer:
    """The pointer in an offloaded message's body; PointerError (naming what was expected) for anything else."""
    if len(payload) > MAX_POINTER_BYTES:
        raise PointerError(f"claim-check pointer: expected at most {MAX_POINTER_BYTES} bytes, got {len(payload)}")
    try:
        document = json.loads(payload)
    except (ValueError, UnicodeDecodeError):
        raise PointerError("claim-check pointer: expected a JSON array [pointer class, {s3BucketName, s3Key}], "
                           "got a body that is not JSON") from None
    if not (isinstance(document, list) and len(document) == 2 and isinstance(document[1], dict)):
        raise PointerError("claim-check pointer: expected a JSON array [pointer class, {s3BucketName, s3Key}]")
    kind, location = document
    if kind not in (POINTER_CLASS, LEGACY_POINTER_CLASS):
        raise PointerError(f"claim-check pointer: expected class {POINTER_CLASS}, got {kind!r:.100}")
    bucket, key = location.get("s3BucketName"), location.get("s3Key")
    if not isinstance(bucket, str) or not bucket or not isinstance(key, str) or not key:
        raise PointerError("claim-check pointer: s3BucketName and s3Key must be non-empty strings")
    if len(key.encode()) > MAX_KEY_BYTES:
        raise PointerError(f"claim-check pointer: s3Key longer than {MAX_KEY_BYTES} bytes")
    # Keys the kit and AWS's client write are uuid4 strings; refused here is what a URL path could resolve elsewhere
    # (an Azure blob name is a URL path) and what no store key needs: dot segments, a leading '/', control characters.
    if key.startswith("/") or any(segment in (".", "..") for segment in key.split("/")) or not key.isprintable():
        raise PointerError(f"claim-check pointer: s3Key {key!r:.80} has a '.' or '..' segment, a leading '/' or a "
                           f"control character")
    return Pointer(bucket, key)


def declared_size(text: str) -> int:
    """The claim-check header's value: the payload's size in bytes, a non-negative decimal integer."""
    if not (text.isascii() and text.isdigit() and len(text) <= 19):
        raise PointerError(f"claim-check header {SIZE_HEADER}: expected the payload size in bytes, got {text!r:.40}")
    return int(text)
