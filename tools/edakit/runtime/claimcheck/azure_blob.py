"""Azure Blob Storage claim-check store (azure-storage-blob), the store of
terraform/modules/claim-check-store-azure-blob: one private container (`container_name`, default claim-checks)."""

from __future__ import annotations

from azure.core.exceptions import AzureError, ResourceNotFoundError
from azure.storage.blob import ContainerClient

from edakit.runtime.claimcheck.store import PayloadMissing, StoreError, too_large


class AzureBlobStore:
    def __init__(self, container: ContainerClient) -> None:
        """`container`: e.g. `BlobServiceClient(account_url, credential=DefaultAzureCredential())
        .get_container_client("claim-checks")`; pointers name the container as their bucket."""
        self.container = container
        self.bucket = container.container_name

    def _where(self, key: str) -> str:
        return f"{self.container.account_name}/{self.bucket}/{key}"

    def put(self, key: str, payload: bytes) -> None:
        try:
            self.container.upload_blob(key, payload, overwrite=True)
        except AzureError as exc:
            raise StoreError(f"Azure Blob: upload of {self._where(key)} failed: {exc}") from exc

    def get(self, key: str, max_bytes: int) -> bytes:
        try:
            downloader = self.container.download_blob(key)
            if downloader.size > max_bytes:
                raise too_large(self._where(key), downloader.size, max_bytes)
            return downloader.readall()
        except ResourceNotFoundError:
            raise PayloadMissing(f"claim-check object {self._where(key)} not found (deleted, or expired by the "
                                 f"account's lifecycle management policy)") from None
        except AzureError as exc:
            raise StoreError(f"Azure Blob: download of {self._where(key)} failed: {exc}") from exc

    def delete(self, key: str) -> None:
        try:
            self.container.delete_blob(key)
        except ResourceNotFoundError:
            pass
        except AzureError as exc:
            raise StoreError(f"Azure Blob: delete of {self._where(key)} failed: {exc}") from exc
