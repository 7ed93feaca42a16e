output "topic_endpoint" {
  description = "Publish OrderPlaced CloudEvents here (Microsoft Entra ID, role EventGrid Data Sender)."
  value       = module.eventgrid.topic_endpoint
}

output "topic_id" {
  description = "Resource id of the custom topic; scope the publishers' role assignment to it."
  value       = module.eventgrid.topic_id
}

output "event_subscription_ids" {
  description = "Event subscriptions, by consumer."
  value       = module.eventgrid.event_subscription_ids
}

output "dead_letter_container_name" {
  description = "Blob container receiving undeliverable events."
  value       = module.eventgrid.dead_letter_container_name
}
