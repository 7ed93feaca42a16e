locals {
  # SNS and SQS both require the ".fifo" suffix on FIFO resources.
  suffix     = var.fifo_topic ? ".fifo" : ""
  topic_name = "${var.name}${local.suffix}"

  create_kms_key = var.kms_master_key_id == null
  kms_key_id     = local.create_kms_key ? aws_kms_key.this[0].arn : var.kms_master_key_id

  queue_names = { for key in keys(var.subscribers) : key => "${var.name}-${key}${local.suffix}" }
  dlq_names   = { for key in keys(var.subscribers) : key => "${var.name}-${key}-dlq${local.suffix}" }

  # Subscribers that keep a DLQ (the default): they get the DLQ, both redrive policies and the DLQ alarm.
  dlq_subscribers = { for key, s in var.subscribers : key => s if s.create_dlq }
}

# Every policy the module writes refuses plain-HTTP requests, whoever makes them: TLS only, as on the S3 store.
locals {
  deny_insecure_transport = {
    Sid       = "DenyInsecureTransport"
    Effect    = "Deny"
    Principal = "*"
    Condition = { Bool = { "aws:SecureTransport" = "false" } }
  }
}

data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}

# --- Encryption -------------------------------------------------------------

resource "aws_kms_key" "this" {
  count = local.create_kms_key ? 1 : 0

  description             = "Encrypts SNS topic ${local.topic_name} and its subscriber queues"
  deletion_window_in_days = var.kms_key_deletion_window_in_days
  enable_key_rotation     = true
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        # Without this statement IAM policies cannot grant use of the key and the account can lock itself out.
        Sid       = "AccountAdministersKey"
        Effect    = "Allow"
        Principal = { AWS = "arn:${data.aws_partition.current.partition}:iam::${data.aws_caller_identity.current.account_id}:root" }
        Action    = "kms:*"
        Resource  = "*"
      },
      {
        # SNS encrypts each message it delivers into an encrypted queue, so it needs a data key from this CMK.
        Sid       = "SnsAndSqsUseKey"
        Effect    = "Allow"
        Principal = { Service = ["sns.amazonaws.com", "sqs.amazonaws.com"] }
        Action    = ["kms:GenerateDataKey*", "kms:Decrypt"]
        Resource  = "*"
        Condition = { StringEquals = { "aws:SourceAccount" = data.aws_caller_identity.current.account_id } }
      },
    ]
  })
  tags = var.tags
}

resource "aws_kms_alias" "this" {
  count = local.create_kms_key ? 1 : 0

  name          = "alias/${var.name}"
  target_key_id = aws_kms_key.this[0].key_id
}

# --- Topic ------------------------------------------------------------------

resource "aws_sns_topic" "this" {
  name                        = local.topic_name
  fifo_topic                  = var.fifo_topic
  content_based_deduplication = var.fifo_topic ? var.content_based_deduplication : null
  kms_master_key_id           = local.kms_key_id
  tags                        = var.tags
}

# The topic's only policy: statements the caller merges in, then the TLS-only deny (a second aws_sns_topic_policy
# would replace this one, hence source_topic_policy_documents).
resource "aws_sns_topic_policy" "this" {
  arn = aws_sns_topic.this.arn
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = concat(
      flatten([for doc in var.source_topic_policy_documents : [jsondecode(doc).Statement]]),
      [merge(local.deny_insecure_transport, { Action = ["sns:Publish", "sns:Subscribe"], Resource = aws_sns_topic.this.arn })],
    )
  })
}

# --- Subscriber queues ------------------------------------------------------

resource "aws_sqs_queue" "dlq" {
  for_each = local.dlq_subscribers

  name                      = local.dlq_names[each.key]
  fifo_queue                = var.fifo_topic
  message_retention_seconds = each.value.dlq_message_retention_seconds
  kms_master_key_id         = local.kms_key_id
  tags                      = var.tags
}

resource "aws_sqs_queue" "this" {
  for_each = var.subscribers

  name                       = local.queue_names[each.key]
  fifo_queue                 = var.fifo_topic
  visibility_timeout_seconds = each.value.visibility_timeout_seconds
  message_retention_seconds  = each.value.message_retention_seconds
  receive_wait_time_seconds  = each.value.receive_wait_time_seconds
  kms_master_key_id          = local.kms_key_id
  tags                       = var.tags
}

# Redrive policies are separate resources: inline, the queue and its DLQ would reference each other (a cycle).
resource "aws_sqs_queue_redrive_policy" "this" {
  for_each = local.dlq_subscribers

  queue_url = aws_sqs_queue.this[each.key].url
  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.dlq[each.key].arn
    maxReceiveCount     = each.value.max_receive_count
  })
}

resource "aws_sqs_queue_redrive_allow_policy" "this" {
  for_each = local.dlq_subscribers

  queue_url = aws_sqs_queue.dlq[each.key].url
  redrive_allow_policy = jsonencode({
    redrivePermission = "byQueue"
    sourceQueueArns   = [aws_sqs_queue.this[each.key].arn]
  })
}

resource "aws_sqs_queue_policy" "this" {
  for_each = var.subscribers

  queue_url = aws_sqs_queue.this[each.key].url
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "TopicSendsMessages"
        Effect    = "Allow"
        Principal = { Service = "sns.amazonaws.com" }
        Action    = "sqs:SendMessage"
        Resource  = aws_sqs_queue.this[each.key].arn
        Condition = { ArnEquals = { "aws:SourceArn" = aws_sns_topic.this.arn } }
      },
      merge(local.deny_insecure_transport, { Action = "sqs:*", Resource = aws_sqs_queue.this[each.key].arn }),
    ]
  })
}

resource "aws_sqs_queue_policy" "dlq" {
  for_each = local.dlq_subscribers

  queue_url = aws_sqs_queue.dlq[each.key].url
  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [merge(local.deny_insecure_transport, { Action = "sqs:*", Resource = aws_sqs_queue.dlq[each.key].arn })]
  })
}

resource "aws_sns_topic_subscription" "this" {
  for_each = var.subscribers

  topic_arn            = aws_sns_topic.this.arn
  protocol             = "sqs"
  endpoint             = aws_sqs_queue.this[each.key].arn
  raw_message_delivery = each.value.raw_message_delivery
  filter_policy        = each.value.filter_policy
  # The AWS provider rejects a scope without a policy ("filter_policy is required when filter_policy_scope is set").
  filter_policy_scope = each.value.filter_policy == null ? null : each.value.filter_policy_scope

  # Until the queue policy exists SNS cannot deliver, and messages published meanwhile are lost.
  depends_on = [aws_sqs_queue_policy.this]
}

# --- Alarms -----------------------------------------------------------------

resource "aws_cloudwatch_metric_alarm" "dlq_depth" {
  for_each = local.dlq_subscribers

  alarm_name          = "${local.dlq_names[each.key]}-not-empty"
  alarm_description   = "Messages for subscriber ${each.key} of ${local.topic_name} failed ${each.value.max_receive_count} times and were moved to the DLQ."
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateNumberOfMessagesVisible"
  dimensions          = { QueueName = aws_sqs_queue.dlq[each.key].name }
  statistic           = "Maximum"
  period              = 60
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  # SQS stops reporting metrics for idle queues; an idle DLQ is a healthy one.
  treat_missing_data = "notBreaching"
  alarm_actions      = var.alarm_actions
  ok_actions         = var.alarm_actions
  tags               = var.tags
}

resource "aws_cloudwatch_metric_alarm" "oldest_message_age" {
  for_each = var.subscribers

  alarm_name          = "${local.queue_names[each.key]}-oldest-message-age"
  alarm_description   = "Subscriber ${each.key} of ${local.topic_name} has a message older than ${each.value.age_of_oldest_message_threshold_seconds}s: its consumer is down or too slow."
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateAgeOfOldestMessage"
  dimensions          = { QueueName = aws_sqs_queue.this[each.key].name }
  statistic           = "Maximum"
  period              = 60
  evaluation_periods  = 5
  threshold           = each.value.age_of_oldest_message_threshold_seconds
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.alarm_actions
  ok_actions          = var.alarm_actions
  tags                = var.tags
}
