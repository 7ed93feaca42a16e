mock_provider "aws" {
  override_during = plan

  mock_data "aws_caller_identity" {
    defaults = { account_id = "123456789012" }
  }
  mock_data "aws_partition" {
    defaults = { partition = "aws" }
  }
  mock_resource "aws_s3_bucket" {
    defaults = { arn = "arn:aws:s3:::shop-claim-checks", id = "shop-claim-checks" }
  }
  mock_resource "aws_kms_key" {
    defaults = { arn = "arn:aws:kms:eu-west-1:123456789012:key/created" }
  }
}

variables {
  bucket = "shop-claim-checks"
}

run "hardened_bucket_with_expiring_payloads" {
  command = plan

  assert {
    condition     = aws_s3_bucket_ownership_controls.this.rule[0].object_ownership == "BucketOwnerEnforced"
    error_message = "ACLs are disabled: the bucket owner owns every payload."
  }
  assert {
    condition     = alltrue([aws_s3_bucket_public_access_block.this.block_public_acls, aws_s3_bucket_public_access_block.this.block_public_policy, aws_s3_bucket_public_access_block.this.ignore_public_acls, aws_s3_bucket_public_access_block.this.restrict_public_buckets])
    error_message = "All four public access blocks are on."
  }
  assert {
    condition     = aws_s3_bucket_versioning.this.versioning_configuration[0].status == "Enabled"
    error_message = "Versioning is on."
  }
  assert {
    condition     = one(one(aws_s3_bucket_server_side_encryption_configuration.this.rule).apply_server_side_encryption_by_default).sse_algorithm == "aws:kms" && one(one(aws_s3_bucket_server_side_encryption_configuration.this.rule).apply_server_side_encryption_by_default).kms_master_key_id == "arn:aws:kms:eu-west-1:123456789012:key/created" && one(aws_s3_bucket_server_side_encryption_configuration.this.rule).bucket_key_enabled
    error_message = "SSE-KMS with the created key and an S3 bucket key."
  }
  assert {
    condition     = length(aws_kms_key.this) == 1 && aws_kms_key.this[0].enable_key_rotation
    error_message = "Without kms_key_arn a rotating key is created."
  }
  assert {
    condition     = aws_s3_bucket_lifecycle_configuration.this.rule[0].expiration[0].days == 30 && aws_s3_bucket_lifecycle_configuration.this.rule[0].noncurrent_version_expiration[0].noncurrent_days == 30
    error_message = "Payloads and their old versions expire after 30 days."
  }
  assert {
    condition     = jsondecode(aws_s3_bucket_policy.this.policy).Statement[0].Effect == "Deny" && jsondecode(aws_s3_bucket_policy.this.policy).Statement[0].Condition.Bool["aws:SecureTransport"] == "false" && contains(jsondecode(aws_s3_bucket_policy.this.policy).Statement[0].Resource, "arn:aws:s3:::shop-claim-checks/*")
    error_message = "Requests without TLS are denied on the bucket and its objects."
  }
  assert {
    condition     = length(aws_s3_bucket_logging.this) == 0
    error_message = "No access logging unless a log bucket is given."
  }
}

run "given_key_and_access_logging" {
  command = plan

  variables {
    kms_key_arn       = "arn:aws:kms:eu-west-1:123456789012:key/given"
    access_log_bucket = "shop-access-logs"
  }

  assert {
    condition     = length(aws_kms_key.this) == 0 && one(one(aws_s3_bucket_server_side_encryption_configuration.this.rule).apply_server_side_encryption_by_default).kms_master_key_id == "arn:aws:kms:eu-west-1:123456789012:key/given"
    error_message = "A given key is used and none is created."
  }
  assert {
    condition     = aws_s3_bucket_logging.this[0].target_bucket == "shop-access-logs" && aws_s3_bucket_logging.this[0].target_prefix == "shop-claim-checks/"
    error_message = "Access logs go to the given bucket under the bucket's name."
  }
}

run "rejects_bucket_name_with_uppercase" {
  command = plan
  variables {
    bucket = "Shop-Claim-Checks"
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
    payload_expiration_days       = 7
    max_message_retention_seconds = 1209600
  }
  expect_failures = [var.max_message_retention_seconds]
}

run "rejects_kms_alias" {
  command = plan
  variables {
    kms_key_arn = "alias/claim-checks"
  }
  expect_failures = [var.kms_key_arn]
}

# "" is not null: it would plan a key-less or logging-less store instead of being refused.
run "rejects_empty_kms_key_arn" {
  command = plan
  variables {
    kms_key_arn = ""
  }
  expect_failures = [var.kms_key_arn]
}

run "rejects_empty_access_log_bucket" {
  command = plan
  variables {
    access_log_bucket = ""
  }
  expect_failures = [var.access_log_bucket]
}
