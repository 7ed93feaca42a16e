# Every feature of the module at once: a bus and archive on a customer managed key, DLQs on their own key, an
# attribute-and-content pattern, a disabled route, a FIFO queue target, two rules sharing one target queue whose
# policy merges the module's statements with the owner's, retry policies, alarms.
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

variable "events_kms_key_arn" {
  description = "Customer managed key for the bus, its archive and the DLQs; its policy lets events.amazonaws.com use it."
  type        = string
}

# The target queues are the service teams'; the module only hands out the statements their policies need.
resource "aws_sqs_queue" "fraud_review" {
  name              = "shop-fraud-review"
  kms_master_key_id = var.events_kms_key_arn
}

resource "aws_sqs_queue" "fulfilment" {
  name                        = "shop-fulfilment.fifo"
  fifo_queue                  = true
  content_based_deduplication = true
  kms_master_key_id           = var.events_kms_key_arn
}

module "order_routing" {
  source = "../.."

  name                   = "shop-orders"
  kms_key_identifier     = var.events_kms_key_arn
  dead_letter_kms_key_id = var.events_kms_key_arn
  archive                = { retention_days = 30 }

  routes = {
    big-orders = {
      description   = "Orders of 1000 or more are reviewed before they ship."
      event_pattern = jsonencode({ source = ["shop.orders"], "detail-type" = ["OrderPlaced"], detail = { total_amount = [{ numeric = [">=", 1000] }] } })
      targets = {
        review = {
          arn          = aws_sqs_queue.fraud_review.arn
          retry_policy = { maximum_event_age_in_seconds = 3600, maximum_retry_attempts = 10 }
        }
      }
    }
    fulfilment = {
      event_pattern = jsonencode({ source = ["shop.orders"], "detail-type" = ["OrderPlaced", "OrderCancelled"] })
      targets = {
        queue = {
          arn              = aws_sqs_queue.fulfilment.arn
          message_group_id = "orders"
          input_path       = "$.detail"
        }
      }
    }
    chargebacks = {
      # Disabled until the review team is staffed; its DLQ and alarm exist already.
      event_pattern = jsonencode({ source = ["shop.payments"], "detail-type" = ["ChargebackOpened"] })
      state         = "DISABLED"
      targets       = { review = { arn = aws_sqs_queue.fraud_review.arn } }
    }
  }

  alarm_actions = [var.alarm_topic_arn]
  tags          = { team = "orders" }
}

# One policy per target queue: the module's statements (EventBridge may send for the rules targeting it, TLS only)
# merged with the owner's own.
data "aws_iam_policy_document" "fraud_review" {
  source_policy_documents = [module.order_routing.target_queue_policies[aws_sqs_queue.fraud_review.arn]]

  statement {
    sid       = "AccountReads"
    actions   = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility"]
    resources = [aws_sqs_queue.fraud_review.arn]
    principals {
      type        = "AWS"
      identifiers = ["arn:aws:iam::${data.aws_caller_identity.current.account_id}:root"]
    }
  }
}

data "aws_caller_identity" "current" {}

resource "aws_sqs_queue_policy" "fraud_review" {
  queue_url = aws_sqs_queue.fraud_review.url
  policy    = data.aws_iam_policy_document.fraud_review.json
}

resource "aws_sqs_queue_policy" "fulfilment" {
  queue_url = aws_sqs_queue.fulfilment.url
  policy    = module.order_routing.target_queue_policies[aws_sqs_queue.fulfilment.arn]
}

output "event_bus_name" {
  description = "Bus to PutEvents to."
  value       = module.order_routing.event_bus_name
}

output "dead_letter_queue_urls" {
  description = "DLQ per route: inspect, then redrive."
  value       = module.order_routing.dead_letter_queue_urls
}

output "dead_letter_alarm_names" {
  description = "DLQ-not-empty alarm per route."
  value       = module.order_routing.dead_letter_alarm_names
}
