# Every feature of the module at once: a FIFO topic with content-based deduplication, a module-created key,
# attribute and body filters, raw delivery, per-subscriber queue settings, a subscriber without a DLQ, alarms.
# terraform init && terraform apply -var="alarm_topic_arn=arn:aws:sns:eu-west-1:<account>:ops-alerts"

terraform {
  required_version = ">= 1.9"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 6.25"
    }
  }
}

provider "aws" {
  region = "eu-west-1"
}

variable "alarm_topic_arn" {
  description = "SNS topic (not encrypted with an AWS managed key, which CloudWatch cannot use) that receives the alarms."
  type        = string
}

module "payment_authorized" {
  source = "../.."

  name                        = "payments-staging-payment-authorized"
  fifo_topic                  = true
  content_based_deduplication = true

  subscribers = {
    ledger = {
      filter_policy        = jsonencode({ event_type = ["PaymentAuthorized"] })
      raw_message_delivery = true
      max_receive_count    = 3
    }
    fraud-check = {
      filter_policy              = jsonencode({ amount = [{ numeric = [">=", 1000] }] })
      filter_policy_scope        = "MessageBody"
      visibility_timeout_seconds = 300
    }
    analytics = {
      # Best effort: a message that keeps failing is dropped when retention expires.
      create_dlq                = false
      message_retention_seconds = 86400
    }
  }

  alarm_actions = [var.alarm_topic_arn]
  tags          = { team = "payments" }
}

output "topic_arn" {
  description = "FIFO topic to publish PaymentAuthorized to (MessageGroupId required)."
  value       = module.payment_authorized.topic_arn
}

output "queue_urls" {
  description = "Queue per subscriber."
  value       = module.payment_authorized.queue_urls
}
