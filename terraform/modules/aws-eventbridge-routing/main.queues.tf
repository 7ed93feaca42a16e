# EventBridge target DLQs must be standard queues in the rule's account and region.
resource "aws_sqs_queue" "dead_letter" {
  for_each = var.routes

  name                      = "${var.name}-${each.key}-dlq"
  message_retention_seconds = 1209600
  sqs_managed_sse_enabled   = var.dead_letter_kms_key_id == null ? true : null
  kms_master_key_id         = var.dead_letter_kms_key_id
  tags                      = var.tags
}

# Every queue policy the module writes or hands out refuses plain-HTTP requests, whoever makes them.
locals {
  deny_insecure_transport = {
    Sid       = "DenyInsecureTransport"
    Effect    = "Deny"
    Principal = "*"
    Action    = "sqs:*"
    Condition = { Bool = { "aws:SecureTransport" = "false" } }
  }
}

resource "aws_sqs_queue_policy" "dead_letter" {
  for_each = var.routes

  queue_url = aws_sqs_queue.dead_letter[each.key].url
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "EventBridgeDeadLetters"
        Effect    = "Allow"
        Principal = { Service = "events.amazonaws.com" }
        Action    = "sqs:SendMessage"
        Resource  = aws_sqs_queue.dead_letter[each.key].arn
        Condition = { ArnEquals = { "aws:SourceArn" = aws_cloudwatch_event_rule.this[each.key].arn } }
      },
      merge(local.deny_insecure_transport, { Resource = aws_sqs_queue.dead_letter[each.key].arn }),
    ]
  })
}

locals {
  # Target queues belong to the caller, and a queue has a single policy document: writing one here would replace
  # the owner's statements. The module hands out the document to merge instead (output target_queue_policies), one
  # per queue naming every rule that targets it.
  sqs_target_rules = { for t in values(local.targets) : t.arn => t.route... if can(regex("^arn:aws[a-z-]*:sqs:", t.arn)) }
  target_queue_policies = {
    for arn, routes in local.sqs_target_rules : arn => jsonencode({
      Version = "2012-10-17"
      Statement = [
        {
          Sid       = "EventBridgeRules"
          Effect    = "Allow"
          Principal = { Service = "events.amazonaws.com" }
          Action    = "sqs:SendMessage"
          Resource  = arn
          Condition = { ArnEquals = { "aws:SourceArn" = sort(distinct([for route in routes : aws_cloudwatch_event_rule.this[route].arn])) } }
        },
        merge(local.deny_insecure_transport, { Resource = arn }),
      ]
    })
  }
}

# Earlier versions wrote target queue policies (sqs_queue_url): forget them without deleting them, so a queue keeps
# EventBridge's permission until its owner applies a policy merged from target_queue_policies.
removed {
  from = aws_sqs_queue_policy.target

  lifecycle {
    destroy = false
  }
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
