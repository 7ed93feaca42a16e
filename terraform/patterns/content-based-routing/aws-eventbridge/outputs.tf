output "event_bus_name" {
  description = "Producers put events on this bus (PutEvents with EventBusName)."
  value       = module.routing.event_bus_name
}

output "rule_arns" {
  description = "One rule per route."
  value       = module.routing.rule_arns
}

output "dead_letter_queue_arns" {
  description = "Dead-letter queue ARNs keyed by route name."
  value       = module.routing.dead_letter_queue_arns
}

output "dead_letter_alarm_names" {
  description = "DLQ-not-empty alarm names keyed by route name."
  value       = module.routing.dead_letter_alarm_names
}

output "dead_letter_queue_urls" {
  description = "Events a route's targets could not take, by route."
  value       = module.routing.dead_letter_queue_urls
}

output "target_queue_policies" {
  description = "Policy JSON to merge into each SQS target queue's own policy, by queue ARN (EventBridge may send for these rules; TLS only). The root does not write target queue policies: the queues are their owners'."
  value       = module.routing.target_queue_policies
}

output "archive_arn" {
  description = "Archive of every event on the bus; start a replay from it."
  value       = module.routing.archive_arn
}
