"""The Azure Blob store on Azurite, the GCS store on fake-gcs-server and the S3 store on moto: a 2 MB payload
round-trips through the embedded broker, a missing object is a poison message, an oversized one is refused before it
is read."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from azure.storage.blob import BlobServiceClient
from google.auth.credentials import AnonymousCredentials
from google.cloud import storage

from edakit.runtime.adapters.base import DLQ_REASON_KEY, DeadLetterReason
from edakit.runtime.adapters.embedded import EmbeddedBroker
from edakit.runtime.claimcheck import (ClaimCheckPublisher, OffloadPolicy, PayloadMissing, PayloadStore,
                                       PayloadTooLarge, claim_check, parse_pointer)
from edakit.runtime.claimcheck.azure_blob import AzureBlobStore
from edakit.runtime.claimcheck.gcs import GcsStore
from edakit.runtime.claimcheck.s3 import S3Store
from edakit.runtime.message import Message
from edakit.runtime.middleware import Router, compose

TWO_MB = 2 * 1024 * 1024


@pytest.fixture
def azure_store(azurite_blob: str) -> Iterator[AzureBlobStore]:
    with BlobServiceClient.from_connection_string(azurite_blob) as service:
        container = service.create_container(f"claims-{uuid.uuid4().hex[:8]}")
        yield AzureBlobStore(container)


@pytest.fixture
def gcs_store(gcs_url: str) -> GcsStore:
    client = storage.Client(project="edakit-test", credentials=AnonymousCredentials(),
                            client_options={"api_endpoint": gcs_url})
    return GcsStore(client.create_bucket(f"claims-{uuid.uuid4().hex[:8]}"), timeout=10)


@pytest.fixture
def s3_store(moto_url: str) -> S3Store:
    s3 = boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing",
                       region_name="us-east-1").client("s3", endpoint_url=moto_url)
    bucket = f"claims-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket)
    return S3Store(s3, bucket)


@pytest.fixture(params=["azure", "gcs", "s3"])
def store(request: pytest.FixtureRequest) -> PayloadStore:
    return request.getfixturevalue(f"{request.param}_store")


def test_a_2_mb_payload_round_trips(store: PayloadStore, tmp_path: Path) -> None:
    broker = EmbeddedBroker(tmp_path / "broker.sqlite3")
    broker.create_group("orders", "billing")
    message = Message.new("OrderPlaced", bytes(range(256)) * (TWO_MB // 256), source="orders",
                          content_type="application/octet-stream")
    ClaimCheckPublisher(broker.publisher(), store, {"orders": OffloadPolicy(768 * 1024)}).publish("orders", [message])
    seen: list[Message] = []
    Router(broker.subscriber("orders", "billing"), compose(lambda d: seen.append(d.message), claim_check(store)),
           receive_timeout=0).run_until_idle(0)
    assert [m.payload == message.payload and m.id == message.id for m in seen] == [True]


def test_missing_and_oversized_objects(store: PayloadStore, tmp_path: Path) -> None:
    with pytest.raises(PayloadMissing, match="not found"):
        store.get(str(uuid.uuid4()), 1000)
    store.put("big", b"x" * 2000)
    with pytest.raises(PayloadTooLarge, match="2000 bytes"):
        store.get("big", 1000)
    store.delete("big")
    store.delete("big")  # a missing object is no error
    with pytest.raises(PayloadMissing):
        store.get("big", 10_000)


def test_an_expired_object_is_dead_lettered_with_the_reason(store: PayloadStore, tmp_path: Path) -> None:
    broker = EmbeddedBroker(tmp_path / "broker.sqlite3")
    broker.create_group("orders", "billing")
    message = Message.new("OrderPlaced", b"x" * 5000, source="orders")
    ClaimCheckPublisher(broker.publisher(), store, {"orders": OffloadPolicy(1000)}).publish("orders", [message])
    [pending] = broker.subscriber("orders", "billing").receive(1, 0)
    store.delete(parse_pointer(pending.message.payload).key)
    pending.nack(0)
    Router(broker.subscriber("orders", "billing"), compose(lambda d: None, claim_check(store)),
           receive_timeout=0).run_until_idle(0)
    [dead] = broker.dead_letter_subscriber("orders", "billing").receive(10, 0)
    reason = DeadLetterReason.from_json(dead.metadata[DLQ_REASON_KEY])
    assert reason.error_type == "PayloadMissing" and store.bucket in reason.error_message
