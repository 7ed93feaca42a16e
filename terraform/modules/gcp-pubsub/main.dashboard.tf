# One Cloud Monitoring dashboard per topic: its publish rate, then a row per subscription with the metric each of its
# alert policies reads and the policy's threshold drawn in.

locals {
  dashboard_subscriptions = sort(keys(var.subscriptions))

  dashboard_chart = {
    for name in local.dashboard_subscriptions : name => [
      { title = "${name}: undelivered messages", metric = "num_undelivered_messages", subscription = name, aligner = "ALIGN_MAX", threshold = local.thresholds[name].lag_messages },
      { title = "${name}: oldest unacked message age (s)", metric = "oldest_unacked_message_age", subscription = name, aligner = "ALIGN_MAX", threshold = local.thresholds[name].lag_seconds },
      { title = "${name}: dead-lettered messages", metric = "dead_letter_message_count", subscription = name, aligner = "ALIGN_SUM", threshold = local.thresholds[name].dlq_messages },
    ]
  }

  dashboard_tiles = concat(
    [{
      xPos   = 0
      yPos   = 0
      width  = 48
      height = 12
      widget = {
        title = "${var.topic_name}: messages published (per second)"
        xyChart = {
          dataSets = [{
            plotType = "LINE"
            timeSeriesQuery = {
              timeSeriesFilter = {
                filter      = "resource.type = \"pubsub_topic\" AND resource.label.topic_id = \"${var.topic_name}\" AND metric.type = \"pubsub.googleapis.com/topic/send_message_operation_count\""
                aggregation = { alignmentPeriod = "60s", perSeriesAligner = "ALIGN_RATE" }
              }
            }
          }]
        }
      }
    }],
    flatten([for row, name in local.dashboard_subscriptions : [for column, chart in local.dashboard_chart[name] : {
      xPos   = column * 16
      yPos   = 12 + row * 12
      width  = 16
      height = 12
      widget = {
        title = chart.title
        xyChart = {
          dataSets = [{
            plotType = "LINE"
            timeSeriesQuery = {
              timeSeriesFilter = {
                filter      = "resource.type = \"pubsub_subscription\" AND resource.label.subscription_id = \"${chart.subscription}\" AND metric.type = \"pubsub.googleapis.com/subscription/${chart.metric}\""
                aggregation = { alignmentPeriod = "60s", perSeriesAligner = chart.aligner }
              }
            }
          }]
          thresholds = [{ value = chart.threshold, label = "alert", color = "RED", direction = "ABOVE" }]
        }
      }
    }]])
  )
}

resource "google_monitoring_dashboard" "this" {
  count = var.create_dashboard ? 1 : 0

  project        = var.project_id
  dashboard_json = jsonencode({ displayName = "Pub/Sub ${var.topic_name}", mosaicLayout = { columns = 48, tiles = local.dashboard_tiles } })
}
