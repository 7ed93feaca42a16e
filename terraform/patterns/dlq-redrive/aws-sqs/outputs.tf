output "dlq_urls" {
  description = "Dead-letter queues, by subscriber: inspect here, then start a message move task back to the source."
  value       = module.fanout.dlq_urls
}

output "dlq_arns" {
  description = "Dead-letter queue ARNs, by subscriber (SourceArn of StartMessageMoveTask)."
  value       = module.fanout.dlq_arns
}

output "redrive_operator_policy_arn" {
  description = "Attach to the on-call role that redrives."
  value       = aws_iam_policy.redrive_operator.arn
}

output "alarm_names" {
  description = "CloudWatch alarms, by subscriber: DLQ not empty, oldest message too old."
  value       = module.fanout.alarm_names
}
