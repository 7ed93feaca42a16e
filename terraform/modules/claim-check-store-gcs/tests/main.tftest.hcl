mock_provider "google" {
  override_during = plan

  mock_data "google_project" {
    defaults = { number = "123456789012" }
  }
}

variables {
  project_id      = "shop-prod"
  bucket          = "shop-claim-checks"
  location        = "EU"
  object_creators = ["serviceAccount:orders@shop-prod.iam.gserviceaccount.com"]
  object_viewers  = ["serviceAccount:billing@shop-prod.iam.gserviceaccount.com"]
}

run "private_bucket_with_expiring_payloads" {
  command = plan

  assert {
    condition     = google_storage_bucket.this.uniform_bucket_level_access && google_storage_bucket.this.public_access_prevention == "enforced"
    error_message = "Uniform bucket-level access and enforced public access prevention."
  }
  assert {
    condition     = google_storage_bucket.this.versioning[0].enabled
    error_message = "Versioning is on."
  }
  assert {
    condition     = [for rule in google_storage_bucket.this.lifecycle_rule : one(rule.action).type] == ["Delete", "Delete"]
    error_message = "Both lifecycle rules delete."
  }
  assert {
    condition     = one(google_storage_bucket.this.lifecycle_rule[0].condition).age == 30 && one(google_storage_bucket.this.lifecycle_rule[1].condition).days_since_noncurrent_time == 30
    error_message = "Live payloads and replaced versions are deleted after 30 days."
  }
  assert {
    condition     = length(google_storage_bucket.this.encryption) == 0 && length(google_kms_crypto_key_iam_member.storage_service_agent) == 0
    error_message = "Without a key: Google-managed encryption and no KMS grant."
  }
  assert {
    condition     = google_storage_bucket_iam_member.creator["serviceAccount:orders@shop-prod.iam.gserviceaccount.com"].role == "roles/storage.objectCreator" && google_storage_bucket_iam_member.viewer["serviceAccount:billing@shop-prod.iam.gserviceaccount.com"].role == "roles/storage.objectViewer"
    error_message = "Producers create, consumers view."
  }
}

run "cmek_grants_the_storage_service_agent" {
  command = plan

  variables {
    kms_key_name = "projects/shop-prod/locations/europe/keyRings/events/cryptoKeys/claim-checks"
    log_bucket   = "shop-logs"
  }

  assert {
    condition     = google_storage_bucket.this.encryption[0].default_kms_key_name == var.kms_key_name
    error_message = "The bucket encrypts with the given key."
  }
  assert {
    condition     = google_kms_crypto_key_iam_member.storage_service_agent[0].member == "serviceAccount:service-123456789012@gs-project-accounts.iam.gserviceaccount.com" && google_kms_crypto_key_iam_member.storage_service_agent[0].role == "roles/cloudkms.cryptoKeyEncrypterDecrypter"
    error_message = "The Cloud Storage service agent may use the key."
  }
  assert {
    condition     = google_storage_bucket.this.logging[0].log_bucket == "shop-logs"
    error_message = "Usage logs go to the given bucket."
  }
}

run "rejects_bad_project_id" {
  command = plan
  variables {
    project_id = "shop"
  }
  expect_failures = [var.project_id]
}

run "rejects_bucket_containing_google" {
  command = plan
  variables {
    bucket = "my-google-claims"
  }
  expect_failures = [var.bucket]
}

run "rejects_zero_expiration_days" {
  command = plan
  variables {
    payload_expiration_days = 0
  }
  expect_failures = [var.payload_expiration_days]
}

run "rejects_payloads_that_expire_before_their_messages" {
  command = plan
  variables {
    payload_expiration_days       = 3
    max_message_retention_seconds = 604800
  }
  expect_failures = [var.max_message_retention_seconds]
}

run "rejects_short_kms_key_name" {
  command = plan
  variables {
    kms_key_name = "claim-checks"
  }
  expect_failures = [var.kms_key_name]
}

run "rejects_empty_kms_key_name" {
  command = plan
  variables {
    kms_key_name = ""
  }
  expect_failures = [var.kms_key_name]
}

run "rejects_empty_log_bucket" {
  command = plan
  variables {
    log_bucket = ""
  }
  expect_failures = [var.log_bucket]
}
