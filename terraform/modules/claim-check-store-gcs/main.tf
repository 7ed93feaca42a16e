data "google_project" "this" {
  count = var.kms_key_name == null ? 0 : 1

  project_id = var.project_id
}

# Cloud Storage encrypts with CMEK as its own service agent; without this grant every upload fails.
resource "google_kms_crypto_key_iam_member" "storage_service_agent" {
  count = var.kms_key_name == null ? 0 : 1

  crypto_key_id = var.kms_key_name
  role          = "roles/cloudkms.cryptoKeyEncrypterDecrypter"
  member        = "serviceAccount:service-${data.google_project.this[0].number}@gs-project-accounts.iam.gserviceaccount.com"
}

resource "google_storage_bucket" "this" {
  project       = var.project_id
  name          = var.bucket
  location      = var.location
  labels        = var.labels
  force_destroy = false

  # IAM alone decides access: no object ACLs, and no way to make the bucket public.
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"

  versioning {
    enabled = true
  }

  lifecycle_rule {
    condition {
      age        = var.payload_expiration_days
      with_state = "LIVE"
    }
    action {
      type = "Delete"
    }
  }

  # Versioning keeps replaced payloads; delete them too, or storage grows without bound.
  lifecycle_rule {
    condition {
      days_since_noncurrent_time = var.payload_expiration_days
      with_state                 = "ARCHIVED"
    }
    action {
      type = "Delete"
    }
  }

  dynamic "encryption" {
    for_each = var.kms_key_name == null ? [] : [var.kms_key_name]
    content {
      default_kms_key_name = encryption.value
    }
  }

  dynamic "logging" {
    for_each = var.log_bucket == null ? [] : [var.log_bucket]
    content {
      log_bucket        = logging.value
      log_object_prefix = var.bucket
    }
  }

  depends_on = [google_kms_crypto_key_iam_member.storage_service_agent]
}

resource "google_storage_bucket_iam_member" "creator" {
  for_each = toset(var.object_creators)

  bucket = google_storage_bucket.this.name
  role   = "roles/storage.objectCreator"
  member = each.value
}

resource "google_storage_bucket_iam_member" "viewer" {
  for_each = toset(var.object_viewers)

  bucket = google_storage_bucket.this.name
  role   = "roles/storage.objectViewer"
  member = each.value
}
