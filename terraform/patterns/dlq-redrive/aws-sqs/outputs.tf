output "dead_letter_queue_urls" {
  description = "Dead-letter queues, by subscriber: inspect here, then start a message move task back to the source."
  value       = module.fanout.dead_letter_queue_urls
}

output "dead_letter_queue_arns" {
  description = "Dead-letter queue ARNs, by subscriber (SourceArn of StartMessageMoveTask)."
  value       = module.fanout.dead_letter_queue_arns
}

output "dead_letter_alarm_names" {
  description = "DLQ-not-empty alarm names, by subscriber."
  value       = module.fanout.dead_letter_alarm_names
}

output "dlq_urls" {
  description = "Deprecated: use dead_letter_queue_urls."
  value       = module.fanout.dead_letter_queue_urls
}

output "dlq_arns" {
  description = "Deprecated: use dead_letter_queue_arns."
  value       = module.fanout.dead_letter_queue_arns
}

output "redrive_operator_policy_arn" {
  description = "Attach to the on-call role that redrives."
  value       = aws_iam_policy.redrive_operator.arn
}

output "alarm_names" {
  description = "CloudWatch alarms, by subscriber: DLQ not empty, oldest message too old."
  value       = module.fanout.alarm_names
}
