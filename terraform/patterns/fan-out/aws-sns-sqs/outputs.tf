output "topic_arn" {
  description = "Publish OrderPlaced events here."
  value       = module.fanout.topic_arn
}

output "kms_key_arn" {
  description = "Publishers need kms:GenerateDataKey and consumers kms:Decrypt on this key."
  value       = module.fanout.kms_key_arn
}

output "queue_urls" {
  description = "Queue each consumer polls, by subscriber."
  value       = module.fanout.queue_urls
}

output "dead_letter_queue_urls" {
  description = "Dead-letter queues, by subscriber."
  value       = module.fanout.dead_letter_queue_urls
}

output "dlq_urls" {
  description = "Deprecated: use dead_letter_queue_urls."
  value       = module.fanout.dead_letter_queue_urls
}

output "alarm_names" {
  description = "CloudWatch alarms, by subscriber."
  value       = module.fanout.alarm_names
}
