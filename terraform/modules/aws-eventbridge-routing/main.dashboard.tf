# One CloudWatch dashboard per bus: a row per route with what its rule did and what reached its dead-letter queue.

data "aws_region" "current" {}

locals {
  dashboard_widgets = flatten([
    for index, route in sort(keys(var.routes)) : [
      {
        type   = "metric"
        x      = 0
        y      = index * 6
        width  = 12
        height = 6
        properties = {
          title   = "${route}: matched, invoked, failed, dead-lettered (per minute)"
          region  = data.aws_region.current.region
          stat    = "Sum"
          period  = 60
          metrics = [for metric in ["MatchedEvents", "Invocations", "FailedInvocations", "InvocationsSentToDlq", "InvocationsFailedToBeSentToDlq"] : ["AWS/Events", metric, "EventBusName", var.name, "RuleName", route]]
        }
      },
      {
        type   = "metric"
        x      = 12
        y      = index * 6
        width  = 12
        height = 6
        properties = {
          title       = "${route}: events in the dead-letter queue"
          region      = data.aws_region.current.region
          stat        = "Maximum"
          period      = 60
          metrics     = [["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", local.dead_letter_queues[route].name]]
          annotations = { horizontal = [{ label = "DLQ alarm", value = var.routes[route].alarm_thresholds.dlq_messages }] }
        }
      },
    ]
  ])
}

resource "aws_cloudwatch_dashboard" "this" {
  count = var.create_dashboard ? 1 : 0

  dashboard_name = var.name
  dashboard_body = jsonencode({ widgets = local.dashboard_widgets })
}
