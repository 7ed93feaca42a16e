locals {
  alerted_dead_letters = { for name, s in local.dead_lettered : name => s if var.alerts != null }
  alerted_backlogs     = { for name, s in var.subscriptions : name => s if var.alerts != null }
}

resource "google_monitoring_alert_policy" "dead_letters" {
  for_each = local.alerted_dead_letters

  project               = var.project_id
  display_name          = "Pub/Sub ${each.key}: messages dead-lettered"
  combiner              = "OR"
  notification_channels = var.alerts.notification_channels

  conditions {
    display_name = "dead_letter_message_count > ${var.alerts.dead_letter_threshold}"

    condition_threshold {
      filter          = "resource.type = \"pubsub_subscription\" AND resource.label.subscription_id = \"${each.key}\" AND metric.type = \"pubsub.googleapis.com/subscription/dead_letter_message_count\""
      comparison      = "COMPARISON_GT"
      threshold_value = var.alerts.dead_letter_threshold
      duration        = "0s"

      aggregations {
        alignment_period   = "300s"
        per_series_aligner = "ALIGN_SUM"
      }
    }
  }
}

resource "google_monitoring_alert_policy" "oldest_unacked" {
  for_each = local.alerted_backlogs

  project               = var.project_id
  display_name          = "Pub/Sub ${each.key}: oldest unacked message too old"
  combiner              = "OR"
  notification_channels = var.alerts.notification_channels

  conditions {
    display_name = "oldest_unacked_message_age > ${var.alerts.oldest_unacked_age_seconds}s"

    condition_threshold {
      filter          = "resource.type = \"pubsub_subscription\" AND resource.label.subscription_id = \"${each.key}\" AND metric.type = \"pubsub.googleapis.com/subscription/oldest_unacked_message_age\""
      comparison      = "COMPARISON_GT"
      threshold_value = var.alerts.oldest_unacked_age_seconds
      duration        = "300s"

      aggregations {
        alignment_period   = "60s"
        per_series_aligner = "ALIGN_MAX"
      }
    }
  }
}
