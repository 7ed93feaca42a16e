provider "aws" {
  region = var.region

  default_tags {
    tags = {
      environment = var.environment
      pattern     = "fan-out"
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

# Rendered var files carry environment-specific names; applying staging's file with environment=prod is a mistake.
check "names_match_environment" {
  assert {
    condition     = strcontains(var.name, var.environment)
    error_message = "topic name \"${var.name}\" does not mention environment \"${var.environment}\": is this the var file rendered for ${var.environment}?"
  }
}
