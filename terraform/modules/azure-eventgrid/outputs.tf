output "topic_id" {
  description = "Resource id of the Event Grid topic."
  value       = azurerm_eventgrid_topic.this.id
}

output "topic_endpoint" {
  description = "Endpoint publishers post events to."
  value       = azurerm_eventgrid_topic.this.endpoint
}

output "principal_id" {
  description = "Principal id of the identity Event Grid uses for dead-lettering and delivery."
  value       = local.principal_id
}

output "event_subscription_ids" {
  description = "Event subscription resource ids keyed by name."
  value       = { for name, s in azurerm_eventgrid_event_subscription.this : name => s.id }
}

output "dead_letter_storage_account_id" {
  description = "Storage account holding dead letters."
  value       = local.dead_letter_account_id
}

output "dead_letter_container_name" {
  description = "Blob container holding dead letters (one blob per dead-lettered event batch)."
  value       = var.dead_letter_storage.container_name
}
