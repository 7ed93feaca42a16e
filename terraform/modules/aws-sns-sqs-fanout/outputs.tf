output "topic_arn" {
  description = "ARN of the SNS topic publishers send to."
  value       = aws_sns_topic.this.arn
}

output "topic_name" {
  description = "Name of the SNS topic (with `.fifo` for a FIFO topic)."
  value       = aws_sns_topic.this.name
}

output "kms_key_arn" {
  description = "KMS key encrypting the topic and queues: publishers need kms:GenerateDataKey and consumers kms:Decrypt on it."
  value       = local.kms_key_id
}

output "queue_arns" {
  description = "Subscriber queue ARNs, by subscriber."
  value       = { for key, queue in aws_sqs_queue.this : key => queue.arn }
}

output "queue_urls" {
  description = "Subscriber queue URLs, by subscriber."
  value       = { for key, queue in aws_sqs_queue.this : key => queue.url }
}

output "dead_letter_queue_arns" {
  description = "Dead-letter queue ARNs, by subscriber (subscribers with create_dlq = false are absent)."
  value       = { for key, queue in aws_sqs_queue.dead_letter : key => queue.arn }
}

output "dead_letter_queue_urls" {
  description = "Dead-letter queue URLs, by subscriber (subscribers with create_dlq = false are absent; redrive reads from these)."
  value       = { for key, queue in aws_sqs_queue.dead_letter : key => queue.url }
}

output "dead_letter_alarm_names" {
  description = "Names of the DLQ-not-empty alarms, by subscriber (subscribers with create_dlq = false are absent)."
  value       = { for key, alarm in aws_cloudwatch_metric_alarm.dead_letter_depth : key => alarm.alarm_name }
}

output "dlq_arns" {
  description = "Deprecated: use dead_letter_queue_arns."
  value       = { for key, queue in aws_sqs_queue.dead_letter : key => queue.arn }
}

output "dlq_urls" {
  description = "Deprecated: use dead_letter_queue_urls."
  value       = { for key, queue in aws_sqs_queue.dead_letter : key => queue.url }
}

output "subscription_arns" {
  description = "SNS subscription ARNs, by subscriber."
  value       = { for key, subscription in aws_sns_topic_subscription.this : key => subscription.arn }
}

output "alarm_names" {
  description = "CloudWatch alarm names by subscriber: `dead_letter_depth` (null without a DLQ), `oldest_message_age`, `backlog`, and `dlq_depth` (deprecated: use `dead_letter_depth`). The topic's own alarm is delivery_failed_alarm_name."
  value = {
    for key in keys(var.subscribers) : key => {
      dead_letter_depth  = lookup({ for k, alarm in aws_cloudwatch_metric_alarm.dead_letter_depth : k => alarm.alarm_name }, key, null)
      oldest_message_age = aws_cloudwatch_metric_alarm.oldest_message_age[key].alarm_name
      backlog            = aws_cloudwatch_metric_alarm.backlog[key].alarm_name
      dlq_depth          = lookup({ for k, alarm in aws_cloudwatch_metric_alarm.dead_letter_depth : k => alarm.alarm_name }, key, null)
    }
  }
}

output "dashboard_name" {
  description = "Name of the CloudWatch dashboard of the topic and its subscribers (null when create_dashboard = false)."
  value       = one(aws_cloudwatch_dashboard.this[*].dashboard_name)
}

output "delivery_failed_alarm_name" {
  description = "Name of the alarm on the topic's failed deliveries to subscriber queues (NumberOfNotificationsFailed)."
  value       = aws_cloudwatch_metric_alarm.delivery_failed.alarm_name
}
