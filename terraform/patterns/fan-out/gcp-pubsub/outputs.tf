output "topic_id" {
  description = "Publish OrderPlaced here."
  value       = module.pubsub.topic_id
}

output "subscription_ids" {
  description = "Subscription each consumer pulls from (or that pushes to it), by subscription name."
  value       = module.pubsub.subscription_ids
}

output "dead_letter_subscription_ids" {
  description = "Subscriptions on the dead-letter topics: inspect and replay failed messages from here."
  value       = module.pubsub.dead_letter_subscription_ids
}
