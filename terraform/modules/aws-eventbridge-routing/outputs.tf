output "event_bus_name" {
  description = "Name of the custom event bus producers put events on."
  value       = aws_cloudwatch_event_bus.this.name
}

output "event_bus_arn" {
  description = "ARN of the custom event bus (grant events:PutEvents on it to producers)."
  value       = aws_cloudwatch_event_bus.this.arn
}

output "rule_arns" {
  description = "Rule ARNs keyed by route name."
  value       = { for name, r in aws_cloudwatch_event_rule.this : name => r.arn }
}

output "dead_letter_queue_arns" {
  description = "Dead-letter queue ARNs keyed by route name."
  value       = { for name, q in aws_sqs_queue.dead_letter : name => q.arn }
}

output "dead_letter_queue_urls" {
  description = "Dead-letter queue URLs keyed by route name (redrive reads from these)."
  value       = { for name, q in aws_sqs_queue.dead_letter : name => q.url }
}

output "dead_letter_alarm_names" {
  description = "Names of the DLQ-not-empty alarms keyed by route name."
  value       = { for name, alarm in aws_cloudwatch_metric_alarm.dead_letter_depth : name => alarm.alarm_name }
}

output "target_queue_policies" {
  description = "Queue policy JSON to merge into each SQS target queue's own policy, keyed by queue ARN: EventBridge may send on behalf of the rules targeting the queue, and requests without TLS are denied. The module never writes a target queue's policy (it would replace the owner's); pass this to source_policy_documents of the aws_iam_policy_document behind the queue's aws_sqs_queue_policy."
  value       = local.target_queue_policies
}

output "archive_arn" {
  description = "ARN of the replay archive, or null."
  value       = one(aws_cloudwatch_event_archive.this[*].arn)
}

output "dead_letter_failed_alarm_names" {
  description = "Names of the alarms on events lost because they reached neither a target nor the dead-letter queue, by route."
  value       = { for route, alarm in aws_cloudwatch_metric_alarm.dead_letter_failed : route => alarm.alarm_name }
}

output "dashboard_name" {
  description = "Name of the CloudWatch dashboard of the bus's routes (null when create_dashboard = false)."
  value       = one(aws_cloudwatch_dashboard.this[*].dashboard_name)
}
