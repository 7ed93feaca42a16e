output "queue_urls" {
  description = "The queue every worker of a subscriber's pool polls, by subscriber."
  value       = module.fanout.queue_urls
}

output "worker_policy_arns" {
  description = "Attach to the workers' role, by subscriber."
  value       = { for key, policy in aws_iam_policy.workers : key => policy.arn }
}

output "topic_arn" {
  description = "Publish here."
  value       = module.fanout.topic_arn
}

output "alarm_names" {
  description = "CloudWatch alarms, by subscriber: a growing oldest-message age means too few workers."
  value       = module.fanout.alarm_names
}
