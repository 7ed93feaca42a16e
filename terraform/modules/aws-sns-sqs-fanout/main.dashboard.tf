# One CloudWatch dashboard per topic: what an operator opens when an alarm of this module fires. Each subscriber's row
# draws the metric its alarms read with the alarm's threshold as a line, so "how close to paging" is visible.

data "aws_region" "current" {}

locals {
  dashboard_region = data.aws_region.current.region

  dashboard_topic_widgets = [
    {
      type   = "metric"
      x      = 0
      y      = 0
      width  = 24
      height = 6
      properties = {
        title   = "${local.topic_name}: published, delivered, failed (per minute)"
        region  = local.dashboard_region
        stat    = "Sum"
        period  = 60
        metrics = [for metric in ["NumberOfMessagesPublished", "NumberOfNotificationsDelivered", "NumberOfNotificationsFailed"] : ["AWS/SNS", metric, "TopicName", local.topic_name]]
      }
    },
  ]

  # Three widgets a row, one row per subscriber (sorted by key, as for_each orders them), below the topic's row.
  dashboard_subscriber_widgets = flatten([
    for index, key in sort(keys(var.subscribers)) : [
      {
        type   = "metric"
        x      = 0
        y      = 6 + index * 6
        width  = 8
        height = 6
        properties = {
          title       = "${key}: messages waiting (visible, in flight)"
          region      = local.dashboard_region
          stat        = "Maximum"
          period      = 60
          metrics     = [for metric in ["ApproximateNumberOfMessagesVisible", "ApproximateNumberOfMessagesNotVisible"] : ["AWS/SQS", metric, "QueueName", local.queue_names[key]]]
          annotations = { horizontal = [{ label = "backlog alarm", value = var.subscribers[key].alarm_thresholds.lag_messages }] }
        }
      },
      {
        type   = "metric"
        x      = 8
        y      = 6 + index * 6
        width  = 8
        height = 6
        properties = {
          title       = "${key}: age of the oldest message (s)"
          region      = local.dashboard_region
          stat        = "Maximum"
          period      = 60
          metrics     = [["AWS/SQS", "ApproximateAgeOfOldestMessage", "QueueName", local.queue_names[key]]]
          annotations = { horizontal = [{ label = "age alarm", value = var.subscribers[key].age_of_oldest_message_threshold_seconds }] }
        }
      },
      {
        type   = "metric"
        x      = 16
        y      = 6 + index * 6
        width  = 8
        height = 6
        properties = var.subscribers[key].create_dlq ? {
          title       = "${key}: messages in the DLQ"
          region      = local.dashboard_region
          stat        = "Maximum"
          period      = 60
          metrics     = [["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", local.dlq_names[key]]]
          annotations = { horizontal = [{ label = "DLQ alarm", value = var.subscribers[key].alarm_thresholds.dlq_messages }] }
          } : {
          # No DLQ (create_dlq = false): failed messages stay in the queue, so their receive count is the signal.
          title       = "${key}: no DLQ, messages received (per minute)"
          region      = local.dashboard_region
          stat        = "Sum"
          period      = 60
          metrics     = [["AWS/SQS", "NumberOfMessagesReceived", "QueueName", local.queue_names[key]]]
          annotations = { horizontal = [] }
        }
      },
    ]
  ])
}

resource "aws_cloudwatch_dashboard" "this" {
  count = var.create_dashboard ? 1 : 0

  dashboard_name = replace(local.topic_name, ".", "-")
  dashboard_body = jsonencode({ widgets = concat(local.dashboard_topic_widgets, local.dashboard_subscriber_widgets) })
}
