output "topic_names" {
  description = "Topics the Order service produces to."
  value       = module.topics.topic_names
}

output "retry_topic_names" {
  description = "Retry topics by consumer group and topic, in retry order."
  value       = module.topics.retry_topic_names
}

output "dead_letter_topic_names" {
  description = "Dead-letter topics by consumer group and topic."
  value       = module.topics.dead_letter_topic_names
}

output "dlq_topic_names" {
  description = "Deprecated: use dead_letter_topic_names."
  value       = module.topics.dead_letter_topic_names
}

output "acls" {
  description = "ACLs granted."
  value       = module.topics.acls
}
