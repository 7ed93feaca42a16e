"""Google Cloud Storage claim-check store (google-cloud-storage), the store of
terraform/modules/claim-check-store-gcs."""

from __future__ import annotations

from google.api_core.exceptions import GoogleAPIError, NotFound
from google.auth.exceptions import GoogleAuthError
from google.cloud.storage import Bucket

from edakit.runtime.claimcheck.store import PayloadMissing, StoreError, too_large

ERRORS = (GoogleAPIError, GoogleAuthError, OSError)  # OSError: requests' connection errors


class GcsStore:
    def __init__(self, bucket: Bucket, timeout: float = 60.0) -> None:
        """`bucket`: `storage.Client(project).bucket(name)`; `timeout` bounds each request in seconds."""
        self._bucket, self.bucket, self.timeout = bucket, bucket.name, timeout

    def put(self, key: str, payload: bytes) -> None:
        try:
            self._bucket.blob(key).upload_from_string(payload, content_type="application/octet-stream",
                                                      timeout=self.timeout)
        except ERRORS as exc:
            raise StoreError(f"GCS: upload of gs://{self.bucket}/{key} failed: {exc}") from exc

    def get(self, key: str, max_bytes: int) -> bytes:
        try:
            blob = self._bucket.get_blob(key, timeout=self.timeout)
            if blob is None:
                raise PayloadMissing(f"claim-check object gs://{self.bucket}/{key} not found (deleted, or expired "
                                     f"by the bucket's lifecycle rule)")
            if blob.size is not None and blob.size > max_bytes:
                raise too_large(f"gs://{self.bucket}/{key}", blob.size, max_bytes)
            # the generation read above: an object replaced meanwhile is not mixed into this read
            return blob.download_as_bytes(if_generation_match=blob.generation, timeout=self.timeout)
        except NotFound:
            raise PayloadMissing(f"claim-check object gs://{self.bucket}/{key} not found (deleted meanwhile)") from None
        except ERRORS as exc:
            raise StoreError(f"GCS: download of gs://{self.bucket}/{key} failed: {exc}") from exc

    def delete(self, key: str) -> None:
        try:
            self._bucket.blob(key).delete(timeout=self.timeout)
        except NotFound:
            pass
        except ERRORS as exc:
            raise StoreError(f"GCS: delete of gs://{self.bucket}/{key} failed: {exc}") from exc
