output "state_machine_arn" {
  description = "Start one execution per order (StartExecution with the order as input)."
  value       = module.saga.state_machine_arn
}

output "role_arn" {
  description = "The state machine's role: it may invoke exactly the functions, queues and topics of the definition."
  value       = module.saga.role_arn
}

output "invoked_resources" {
  description = "What the definition invokes, by service; their owners must let the role in (resource policies, KMS)."
  value       = module.saga.invoked_resources
}

output "log_group_name" {
  description = "Execution history (level ALL)."
  value       = module.saga.log_group_name
}

output "alarm_names" {
  description = "The alarms on failed and timed-out executions and on CompensationFailed ends (notify alarm_actions)."
  value       = module.saga.alarm_names
}
