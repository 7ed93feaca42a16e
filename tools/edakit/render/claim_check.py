"""tfvars for the claim-check stores (terraform/modules/claim-check-store-{aws-s3,azure-blob,gcs}): the spec's
`claim_check` store, placed with the same cloud's broker, keeping payloads longer than any message lives."""

from __future__ import annotations

from typing import Any

from edakit.render.sns_sqs_fanout import tags
from edakit.spec.model import ClaimCheck, Spec

S3_MODULE = "claim-check-store-aws-s3"
AZURE_BLOB_MODULE = "claim-check-store-azure-blob"
GCS_MODULE = "claim-check-store-gcs"
SECONDS_PER_HOUR = 3600


def _store(spec: Spec, kind: str) -> ClaimCheck | None:
    return spec.claim_check if spec.claim_check is not None and spec.claim_check.store == kind else None


def _common(spec: Spec, store: ClaimCheck) -> dict[str, Any]:
    common: dict[str, Any] = {"payload_expiration_days": store.payload_expiration_days}
    # A payload that expires before its message turns a late or redriven message into a dangling reference.
    if (hours := spec.longest_message_retention_hours()) is not None:
        common["max_message_retention_seconds"] = hours * SECONDS_PER_HOUR
    return common


def s3_tfvars(spec: Spec) -> dict[str, Any] | None:
    store = _store(spec, "s3")
    return None if store is None else {"bucket": store.name, "tags": tags(spec)} | _common(spec, store)


def azure_blob_tfvars(spec: Spec) -> dict[str, Any] | None:
    store = _store(spec, "azure-blob")
    if store is None or spec.event_grid is None:
        return None
    return {
        "storage_account_name": store.name,
        "resource_group_name": spec.event_grid.resource_group_name,
        "location": spec.event_grid.location,
        "writer_principal_ids": list(store.writers),
        "reader_principal_ids": list(store.readers),
        "tags": tags(spec),
    } | _common(spec, store)


def gcs_tfvars(spec: Spec) -> dict[str, Any] | None:
    store = _store(spec, "gcs")
    if store is None or spec.pubsub is None or spec.pubsub.location is None:
        return None
    return {
        "project_id": spec.pubsub.project_id,
        "bucket": store.name,
        "location": spec.pubsub.location,
        "object_creators": list(store.writers),
        "object_viewers": list(store.readers),
        "labels": tags(spec),
    } | _common(spec, store)


def provider_settings(spec: Spec) -> dict[str, Any] | None:
    """An s3 store's region is the spec's AWS region (sqs_sns or eventbridge: the loader checks they agree)."""
    if _store(spec, "s3") is None:
        return None
    region = spec.sqs_sns.region if spec.sqs_sns is not None else spec.eventbridge.region if spec.eventbridge else None
    return {"region": region} if region is not None else None
