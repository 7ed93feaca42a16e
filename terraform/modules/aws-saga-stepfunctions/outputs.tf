output "state_machine_arn" {
  description = "ARN of the saga state machine (start executions with states:StartExecution)."
  value       = aws_sfn_state_machine.this.arn
}

output "role_arn" {
  description = "ARN of the role the state machine runs as."
  value       = aws_iam_role.this.arn
}

output "log_group_name" {
  description = "CloudWatch Logs group receiving every execution event."
  value       = aws_cloudwatch_log_group.this.name
}

output "log_kms_key_arn" {
  description = "KMS key encrypting the execution logs."
  value       = aws_kms_key.logs.arn
}

output "invoked_resources" {
  description = "The functions, queues and topics the definition invokes: exactly what the role may call."
  value       = { lambda_functions = local.lambda_functions, sqs_queues = local.sqs_queues, sns_topics = local.sns_topics }
}

output "alarm_names" {
  description = "The CloudWatch alarms: failed executions, timed-out executions, and CompensationFailed ends."
  value = {
    executions_failed    = aws_cloudwatch_metric_alarm.executions_failed.alarm_name
    executions_timed_out = aws_cloudwatch_metric_alarm.executions_timed_out.alarm_name
    compensation_failed  = aws_cloudwatch_metric_alarm.compensation_failed.alarm_name
  }
}

output "compensation_failed_metric" {
  description = "Namespace and name of the metric counting executions that entered the CompensationFailed state."
  value       = { namespace = var.metric_namespace, name = local.compensation_failed_metric }
}
