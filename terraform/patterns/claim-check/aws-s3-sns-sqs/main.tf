provider "aws" {
  region = var.region

  default_tags {
    tags = {
      environment = var.environment
      pattern     = "claim-check"
      managed-by  = "eda-kit"
    }
  }
}

module "fanout" {
  source = "../../../modules/aws-sns-sqs-fanout"

  name                            = var.name
  fifo_topic                      = var.fifo_topic
  content_based_deduplication     = var.content_based_deduplication
  kms_master_key_id               = var.kms_master_key_id
  kms_key_deletion_window_in_days = var.kms_key_deletion_window_in_days
  subscribers                     = var.subscribers
  alarm_actions                   = var.alarm_actions
  source_topic_policy_documents   = var.source_topic_policy_documents
  tags                            = var.tags
}

locals {
  # Named after the topic unless given: one store per fan-out, easy to find.
  bucket = coalesce(var.bucket, "${var.name}-claim-checks")
}

module "store" {
  source = "../../../modules/claim-check-store-aws-s3"

  bucket                        = local.bucket
  payload_expiration_days       = var.payload_expiration_days
  max_message_retention_seconds = var.max_message_retention_seconds
  kms_key_arn                   = var.kms_key_arn
  access_log_bucket             = var.access_log_bucket
  tags                          = var.tags
}

# Rendered var files carry environment-specific names; applying staging's file with environment=prod is a mistake.
check "names_match_environment" {
  assert {
    condition     = strcontains(var.name, var.environment)
    error_message = "topic name \"${var.name}\" does not mention environment \"${var.environment}\": is this the var file rendered for ${var.environment}?"
  }
}
