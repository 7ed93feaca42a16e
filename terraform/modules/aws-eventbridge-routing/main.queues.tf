# EventBridge target DLQs must be standard queues in the rule's account and region.
resource "aws_sqs_queue" "dead_letter" {
  for_each = var.routes

  name                      = "${var.name}-${each.key}-dlq"
  message_retention_seconds = 1209600
  sqs_managed_sse_enabled   = var.dead_letter_kms_key_id == null ? true : null
  kms_master_key_id         = var.dead_letter_kms_key_id
  tags                      = var.tags
}

resource "aws_sqs_queue_policy" "dead_letter" {
  for_each = var.routes

  queue_url = aws_sqs_queue.dead_letter[each.key].url
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "EventBridgeDeadLetters"
      Effect    = "Allow"
      Principal = { Service = "events.amazonaws.com" }
      Action    = "sqs:SendMessage"
      Resource  = aws_sqs_queue.dead_letter[each.key].arn
      Condition = { ArnEquals = { "aws:SourceArn" = aws_cloudwatch_event_rule.this[each.key].arn } }
    }]
  })
}

locals {
  # A queue has one policy document: targets of several rules on one queue must share it, or they overwrite each other.
  owned_target_queues = { for key, t in local.targets : t.sqs_queue_url => t... if t.sqs_queue_url != null }
}

resource "aws_sqs_queue_policy" "target" {
  for_each = local.owned_target_queues

  queue_url = each.key
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "EventBridgeRules"
      Effect    = "Allow"
      Principal = { Service = "events.amazonaws.com" }
      Action    = "sqs:SendMessage"
      Resource  = each.value[0].arn
      Condition = { ArnEquals = { "aws:SourceArn" = sort(distinct([for t in each.value : aws_cloudwatch_event_rule.this[t.route].arn])) } }
    }]
  })
}

resource "aws_cloudwatch_metric_alarm" "dead_letter_depth" {
  for_each = var.routes

  alarm_name          = "${var.name}-${each.key}-dlq-not-empty"
  alarm_description   = "Events matched rule ${each.key} but its targets could not take them; inspect and redrive ${aws_sqs_queue.dead_letter[each.key].name}."
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateNumberOfMessagesVisible"
  dimensions          = { QueueName = aws_sqs_queue.dead_letter[each.key].name }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.dead_letter_alarm_actions
  ok_actions          = var.dead_letter_alarm_actions
  tags                = var.tags
}
