# Alarms beyond each route's DLQ depth (main.dead_letter.tf); each description ends with its runbook section.
locals {
  runbook = { for section in ["deadletterqueuenotempty", "deliveryfailing"] : section => "Runbook: ${var.runbook_url}#${section}" }
}

# An event its targets refused and that EventBridge could not put into the DLQ either (the DLQ's policy or key refuses
# it, or the event is too large) is gone: the DLQ alarm cannot see it, so this one pages on the first.
resource "aws_cloudwatch_metric_alarm" "dead_letter_failed" {
  for_each = var.routes

  alarm_name          = "${var.name}-${each.key}-dead-letter-failed"
  alarm_description   = "Rule ${each.key} on ${var.name} could not deliver events to its targets nor to its dead-letter queue: they are lost. ${local.runbook.deliveryfailing}"
  namespace           = "AWS/Events"
  metric_name         = "InvocationsFailedToBeSentToDlq"
  dimensions          = { EventBusName = aws_cloudwatch_event_bus.this.name, RuleName = aws_cloudwatch_event_rule.this[each.key].name }
  statistic           = "Sum"
  period              = 60
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  # EventBridge sends these metrics only when they are not zero.
  treat_missing_data = "notBreaching"
  alarm_actions      = local.dead_letter_alarm_actions
  ok_actions         = local.dead_letter_alarm_actions
  tags               = var.tags
}
