locals {
  alerting             = var.alerts != null
  alerted_dead_letters = { for name, s in local.dead_lettered : name => s if local.alerting }
  alerted_backlogs     = { for name, s in var.subscriptions : name => s if local.alerting }

  # alarm_actions is the kit-wide input; alerts.notification_channels its deprecated predecessor (both are notified).
  alert_channels = local.alerting ? distinct(concat(var.alarm_actions, var.alerts.notification_channels)) : []
  runbook        = { for section in ["consumerlaghigh", "consumerlagagehigh", "deadletterqueuenotempty"] : section => "${var.runbook_url}#${section}" }

  # Per subscription: its own threshold where the spec gave one, else the module-wide one.
  thresholds = {
    for name, s in var.subscriptions : name => {
      lag_messages = s.alarm_thresholds.lag_messages
      lag_seconds  = coalesce(s.alarm_thresholds.lag_seconds, try(var.alerts.oldest_unacked_age_seconds, 600))
      dlq_messages = coalesce(s.alarm_thresholds.dlq_messages, try(var.alerts.dead_letter_threshold, 0))
      for_seconds  = s.alarm_thresholds.for_seconds
    }
  }
}

resource "google_monitoring_alert_policy" "dead_letters" {
  for_each = local.alerted_dead_letters

  project               = var.project_id
  display_name          = "Pub/Sub ${each.key}: messages dead-lettered"
  combiner              = "OR"
  notification_channels = local.alert_channels

  conditions {
    display_name = "dead_letter_message_count > ${local.thresholds[each.key].dlq_messages}"

    condition_threshold {
      filter          = "resource.type = \"pubsub_subscription\" AND resource.label.subscription_id = \"${each.key}\" AND metric.type = \"pubsub.googleapis.com/subscription/dead_letter_message_count\""
      comparison      = "COMPARISON_GT"
      threshold_value = local.thresholds[each.key].dlq_messages
      duration        = "0s"

      aggregations {
        alignment_period   = "300s"
        per_series_aligner = "ALIGN_SUM"
      }
    }
  }

  documentation {
    mime_type = "text/markdown"
    content   = "Messages of subscription ${each.key} failed every delivery attempt and were forwarded to ${each.key}-dlq. Runbook: ${local.runbook.deadletterqueuenotempty}"
  }
}

resource "google_monitoring_alert_policy" "oldest_unacked" {
  for_each = local.alerted_backlogs

  project               = var.project_id
  display_name          = "Pub/Sub ${each.key}: oldest unacked message too old"
  combiner              = "OR"
  notification_channels = local.alert_channels

  conditions {
    display_name = "oldest_unacked_message_age > ${local.thresholds[each.key].lag_seconds}s"

    condition_threshold {
      filter          = "resource.type = \"pubsub_subscription\" AND resource.label.subscription_id = \"${each.key}\" AND metric.type = \"pubsub.googleapis.com/subscription/oldest_unacked_message_age\""
      comparison      = "COMPARISON_GT"
      threshold_value = local.thresholds[each.key].lag_seconds
      duration        = "${local.thresholds[each.key].for_seconds}s"

      aggregations {
        alignment_period   = "60s"
        per_series_aligner = "ALIGN_MAX"
      }
    }
  }

  documentation {
    mime_type = "text/markdown"
    content   = "Subscription ${each.key} has had a message unacknowledged for more than ${local.thresholds[each.key].lag_seconds}s: its consumer is down, too slow or failing. Runbook: ${local.runbook.consumerlagagehigh}"
  }
}

# The spec's lag_messages: more undelivered messages than the consumer keeps up with (the Prometheus ConsumerLagHigh).
resource "google_monitoring_alert_policy" "backlog" {
  for_each = local.alerted_backlogs

  project               = var.project_id
  display_name          = "Pub/Sub ${each.key}: backlog too large"
  combiner              = "OR"
  notification_channels = local.alert_channels

  conditions {
    display_name = "num_undelivered_messages > ${local.thresholds[each.key].lag_messages}"

    condition_threshold {
      filter          = "resource.type = \"pubsub_subscription\" AND resource.label.subscription_id = \"${each.key}\" AND metric.type = \"pubsub.googleapis.com/subscription/num_undelivered_messages\""
      comparison      = "COMPARISON_GT"
      threshold_value = local.thresholds[each.key].lag_messages
      duration        = "${local.thresholds[each.key].for_seconds}s"

      aggregations {
        alignment_period   = "60s"
        per_series_aligner = "ALIGN_MAX"
      }
    }
  }

  documentation {
    mime_type = "text/markdown"
    content   = "Subscription ${each.key} has had more than ${local.thresholds[each.key].lag_messages} undelivered messages for ${local.thresholds[each.key].for_seconds}s. Runbook: ${local.runbook.consumerlaghigh}"
  }
}
