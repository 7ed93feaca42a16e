"""Claim check: payloads above a threshold travel through an object store, messages carry a pointer.

- Publishing: `ClaimCheckPublisher(broker.publisher(...), store, settings.policies)` stores each payload its
  channel's `OffloadPolicy` offloads (above `threshold_bytes`, or every one) and publishes the pointer instead.
- Consuming: `claim_check(store, delete_after_processing=...)` middleware, innermost before the handler, puts the
  payload back; a missing or expired object is dead-lettered with the reason, never retried in a loop.
- Wire format (edakit.runtime.claimcheck.pointer): the pointer body and size attribute of AWS's SQS Extended Client
  Library, so on S3 + SQS/SNS each side reads what the other offloaded.
- Stores: S3Store (boto3), AzureBlobStore (azure-storage-blob), GcsStore (google-cloud-storage), the three
  Terraform store modules; LocalDirectoryStore for local development.
- Settings: `claim_check_settings(spec)` from the spec's `claim_check` block.
"""

from edakit.runtime.claimcheck.consumer import ClaimCheckError, RestoredDelivery, claim_check, restore
from edakit.runtime.claimcheck.limits import MESSAGE_LIMIT_BYTES, default_threshold
from edakit.runtime.claimcheck.pointer import (LEGACY_POINTER_CLASS, POINTER_CLASS, SIZE_HEADER, Pointer, PointerError,
                                              parse_pointer)
from edakit.runtime.claimcheck.publisher import ClaimCheckPublisher, OffloadPolicy, offloaded
from edakit.runtime.claimcheck.store import (DEFAULT_MAX_PAYLOAD_BYTES, LocalDirectoryStore, PayloadMissing,
                                            PayloadStore, PayloadTooLarge, StoreError)

__all__ = ["DEFAULT_MAX_PAYLOAD_BYTES", "LEGACY_POINTER_CLASS", "MESSAGE_LIMIT_BYTES", "POINTER_CLASS", "SIZE_HEADER",
           "ClaimCheckError", "ClaimCheckPublisher", "LocalDirectoryStore", "OffloadPolicy", "PayloadMissing",
           "PayloadStore", "PayloadTooLarge", "Pointer", "PointerError", "RestoredDelivery", "StoreError",
           "claim_check", "default_threshold", "offloaded", "parse_pointer", "restore"]
