# Alert policies take each subscription's thresholds (the spec's alerts, rendered by `edakit render`), notify
# alarm_actions (and the deprecated alerts.notification_channels), link their runbook section; the dashboard draws
# the same thresholds.

mock_provider "google" {}

override_data {
  override_during = plan
  target          = data.google_project.this
  values          = { number = "123456789012" }
}

variables {
  project_id = "shop-prod"
  topic_name = "order-events"
  subscriptions = {
    billing = {
      alarm_thresholds = { lag_messages = 20000, lag_seconds = 120, dlq_messages = 2, for_seconds = 600 }
    }
    email = {}
  }
  alarm_actions = ["projects/shop-prod/notificationChannels/1"]
  alerts        = { notification_channels = ["projects/shop-prod/notificationChannels/2"], oldest_unacked_age_seconds = 900 }
  runbook_url   = "https://wiki.example.com/eda-kit/alerts"
}

run "thresholds_reach_the_alert_policies" {
  command = plan

  assert {
    condition = (
      google_monitoring_alert_policy.backlog["billing"].conditions[0].condition_threshold[0].threshold_value == 20000
      && strcontains(google_monitoring_alert_policy.backlog["billing"].conditions[0].condition_threshold[0].filter, "metric.type = \"pubsub.googleapis.com/subscription/num_undelivered_messages\"")
      && strcontains(google_monitoring_alert_policy.backlog["billing"].conditions[0].condition_threshold[0].filter, "resource.label.subscription_id = \"billing\"")
      && google_monitoring_alert_policy.backlog["billing"].conditions[0].condition_threshold[0].duration == "600s"
      && google_monitoring_alert_policy.oldest_unacked["billing"].conditions[0].condition_threshold[0].threshold_value == 120
      && google_monitoring_alert_policy.oldest_unacked["billing"].conditions[0].condition_threshold[0].duration == "600s"
      && google_monitoring_alert_policy.dead_letters["billing"].conditions[0].condition_threshold[0].threshold_value == 2
    )
    error_message = "billing's backlog, age and dead-letter policies fire above its own thresholds after its for_seconds"
  }
  assert {
    condition = (
      google_monitoring_alert_policy.backlog["email"].conditions[0].condition_threshold[0].threshold_value == 1000
      && google_monitoring_alert_policy.oldest_unacked["email"].conditions[0].condition_threshold[0].threshold_value == 900
      && google_monitoring_alert_policy.oldest_unacked["email"].conditions[0].condition_threshold[0].duration == "300s"
      && google_monitoring_alert_policy.dead_letters["email"].conditions[0].condition_threshold[0].threshold_value == 0
    )
    error_message = "unset thresholds are the spec's defaults, and the module-wide alerts settings where the module had one"
  }
  assert {
    condition = (
      endswith(google_monitoring_alert_policy.backlog["billing"].documentation[0].content, "Runbook: https://wiki.example.com/eda-kit/alerts#consumerlaghigh")
      && endswith(google_monitoring_alert_policy.oldest_unacked["billing"].documentation[0].content, "Runbook: https://wiki.example.com/eda-kit/alerts#consumerlagagehigh")
      && endswith(google_monitoring_alert_policy.dead_letters["billing"].documentation[0].content, "Runbook: https://wiki.example.com/eda-kit/alerts#deadletterqueuenotempty")
    )
    error_message = "each policy's documentation ends with its runbook section under runbook_url"
  }
  assert {
    condition     = alltrue([for p in concat(values(google_monitoring_alert_policy.backlog), values(google_monitoring_alert_policy.oldest_unacked), values(google_monitoring_alert_policy.dead_letters)) : p.notification_channels == tolist(["projects/shop-prod/notificationChannels/1", "projects/shop-prod/notificationChannels/2"])])
    error_message = "every policy notifies alarm_actions and the deprecated alerts.notification_channels"
  }
}

run "for_seconds_must_be_whole_minutes" {
  command = plan

  variables {
    subscriptions = { billing = { alarm_thresholds = { for_seconds = 90 } } }
  }

  expect_failures = [var.subscriptions]
}

run "alarm_actions_must_be_notification_channels" {
  command = plan

  variables {
    alarm_actions = ["arn:aws:sns:eu-west-1:123456789012:ops-alerts"]
  }

  expect_failures = [var.alarm_actions]
}

run "dashboard_draws_each_subscription_with_its_thresholds" {
  command = plan

  assert {
    condition     = length(jsondecode(google_monitoring_dashboard.this[0].dashboard_json).mosaicLayout.tiles) == 1 + 2 * 3
    error_message = "one topic tile and three tiles per subscription"
  }
  assert {
    condition = contains([for t in jsondecode(google_monitoring_dashboard.this[0].dashboard_json).mosaicLayout.tiles : t.widget.xyChart.thresholds[0].value if t.widget.title == "billing: undelivered messages"], 20000) && contains(
    [for t in jsondecode(google_monitoring_dashboard.this[0].dashboard_json).mosaicLayout.tiles : t.widget.xyChart.thresholds[0].value if t.widget.title == "email: oldest unacked message age (s)"], 900)
    error_message = "the tiles draw the thresholds the policies use"
  }
  assert {
    condition     = alltrue([for t in jsondecode(google_monitoring_dashboard.this[0].dashboard_json).mosaicLayout.tiles : t.xPos + t.width <= 48])
    error_message = "every tile fits the 48-column mosaic layout"
  }
}

run "no_dashboard_when_not_wanted" {
  command = plan

  variables {
    create_dashboard = false
  }

  assert {
    condition     = length(google_monitoring_dashboard.this) == 0 && output.dashboard_id == null
    error_message = "create_dashboard = false creates no dashboard"
  }
}
