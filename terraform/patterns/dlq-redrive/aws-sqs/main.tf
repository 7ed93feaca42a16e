provider "aws" {
  region = var.region

  default_tags {
    tags = {
      environment = var.environment
      pattern     = "dlq-redrive"
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

# A redrive (SQS StartMessageMoveTask) reads and deletes on the DLQ and sends to the source queue as the caller:
# the operator needs both sides and the key, or the move task fails after it started.
resource "aws_iam_policy" "redrive_operator" {
  name        = "${var.name}-redrive-operator"
  description = "Inspect the dead-letter queues of ${var.name} and move their messages back to the source queues."
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid      = "InspectAndMoveDeadLetters"
        Effect   = "Allow"
        Action   = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:StartMessageMoveTask", "sqs:ListMessageMoveTasks", "sqs:CancelMessageMoveTask"]
        Resource = values(module.fanout.dead_letter_queue_arns)
      },
      {
        Sid      = "SendBackToSourceQueues"
        Effect   = "Allow"
        Action   = ["sqs:SendMessage", "sqs:GetQueueAttributes"]
        Resource = [for key, arn in module.fanout.queue_arns : arn if contains(keys(module.fanout.dead_letter_queue_arns), key)]
      },
      {
        Sid      = "ReEncryptMessages"
        Effect   = "Allow"
        Action   = ["kms:Decrypt", "kms:GenerateDataKey"]
        Resource = module.fanout.kms_key_arn
      },
    ]
  })
  tags = var.tags
}

# Rendered var files carry environment-specific names; applying staging's file with environment=prod is a mistake.
check "names_match_environment" {
  assert {
    condition     = strcontains(var.name, var.environment)
    error_message = "topic name \"${var.name}\" does not mention environment \"${var.environment}\": is this the var file rendered for ${var.environment}?"
  }
}
