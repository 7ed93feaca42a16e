output "topic_id" {
  description = "ID of the topic (projects/PROJECT/topics/NAME)."
  value       = google_pubsub_topic.this.id
}

output "schema_id" {
  description = "ID of the Pub/Sub schema attached to the topic, or null."
  value       = one(google_pubsub_schema.this[*].id)
}

output "subscription_ids" {
  description = "Subscription IDs keyed by subscription name."
  value       = { for name, s in google_pubsub_subscription.this : name => s.id }
}

output "dead_letter_topic_ids" {
  description = "Dead-letter topic IDs keyed by source subscription name."
  value       = { for name, t in google_pubsub_topic.dead_letter : name => t.id }
}

output "dead_letter_subscription_ids" {
  description = "IDs of the subscriptions holding dead letters, keyed by source subscription name (redrive reads from these)."
  value       = { for name, s in google_pubsub_subscription.dead_letter : name => s.id }
}

output "pubsub_service_agent" {
  description = "IAM member of the Pub/Sub service agent granted publish/subscribe for dead-lettering and encrypt/decrypt on the CMEK, or null with neither DLQs nor CMEK."
  value       = local.pubsub_service_agent
}

output "dashboard_id" {
  description = "Id of the Cloud Monitoring dashboard of the topic and its subscriptions (null when create_dashboard = false)."
  value       = one(google_monitoring_dashboard.this[*].id)
}
