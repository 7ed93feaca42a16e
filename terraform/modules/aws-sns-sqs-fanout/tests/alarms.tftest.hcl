# The alarms take the spec's per-subscriber thresholds (alarm_thresholds, rendered by `edakit render`), link their
# runbook section, and the dashboard draws the same thresholds.

mock_provider "aws" {
  override_during = plan

  mock_data "aws_region" {
    defaults = { region = "eu-west-1" }
  }
}

variables {
  name = "orders-order-placed"
  subscribers = {
    billing = {
      alarm_thresholds = { lag_messages = 50000, dlq_messages = 3, for_seconds = 900 }
    }
    audit = {}
    analytics = {
      create_dlq       = false
      alarm_thresholds = { lag_messages = 10 }
    }
  }
  alarm_actions = ["arn:aws:sns:eu-west-1:111111111111:ops-alerts"]
  runbook_url   = "https://wiki.example.com/eda-kit/alerts"
}

run "thresholds_reach_the_alarms" {
  command = plan

  assert {
    condition = (
      aws_cloudwatch_metric_alarm.backlog["billing"].metric_name == "ApproximateNumberOfMessagesVisible"
      && aws_cloudwatch_metric_alarm.backlog["billing"].dimensions == tomap({ QueueName = "orders-order-placed-billing" })
      && aws_cloudwatch_metric_alarm.backlog["billing"].threshold == 50000
      && aws_cloudwatch_metric_alarm.backlog["billing"].period == 60
      && aws_cloudwatch_metric_alarm.backlog["billing"].evaluation_periods == 15
      && aws_cloudwatch_metric_alarm.oldest_message_age["billing"].evaluation_periods == 15
    )
    error_message = "billing's backlog alarm fires above its lag_messages once for_seconds (15 periods of 60 s) have passed"
  }
  assert {
    condition     = aws_cloudwatch_metric_alarm.dead_letter_depth["billing"].threshold == 3 && aws_cloudwatch_metric_alarm.dead_letter_depth["billing"].evaluation_periods == 1
    error_message = "billing's DLQ alarm fires on the first minute with more than its dlq_messages"
  }
  assert {
    condition = (
      aws_cloudwatch_metric_alarm.backlog["audit"].threshold == 1000
      && aws_cloudwatch_metric_alarm.backlog["audit"].evaluation_periods == 5
      && aws_cloudwatch_metric_alarm.dead_letter_depth["audit"].threshold == 0
      && aws_cloudwatch_metric_alarm.backlog["analytics"].threshold == 10
      && !contains(keys(aws_cloudwatch_metric_alarm.dead_letter_depth), "analytics")
    )
    error_message = "unset thresholds are the spec's defaults (1000 messages, 300 s, any dead letter); no DLQ, no DLQ alarm"
  }
}

run "every_alarm_links_its_runbook_and_notifies_alarm_actions" {
  command = plan

  assert {
    condition = (
      endswith(aws_cloudwatch_metric_alarm.backlog["billing"].alarm_description, "Runbook: https://wiki.example.com/eda-kit/alerts#consumerlaghigh")
      && endswith(aws_cloudwatch_metric_alarm.oldest_message_age["billing"].alarm_description, "Runbook: https://wiki.example.com/eda-kit/alerts#consumerlagagehigh")
      && endswith(aws_cloudwatch_metric_alarm.dead_letter_depth["billing"].alarm_description, "Runbook: https://wiki.example.com/eda-kit/alerts#deadletterqueuenotempty")
      && endswith(aws_cloudwatch_metric_alarm.delivery_failed.alarm_description, "Runbook: https://wiki.example.com/eda-kit/alerts#deliveryfailing")
    )
    error_message = "each alarm's description ends with its runbook section under runbook_url"
  }
  assert {
    condition = alltrue([for a in concat(values(aws_cloudwatch_metric_alarm.backlog), values(aws_cloudwatch_metric_alarm.oldest_message_age), values(aws_cloudwatch_metric_alarm.dead_letter_depth), [aws_cloudwatch_metric_alarm.delivery_failed]) :
    a.alarm_actions == toset(["arn:aws:sns:eu-west-1:111111111111:ops-alerts"]) && a.ok_actions == a.alarm_actions && length(a.alarm_description) <= 1024])
    error_message = "every alarm notifies alarm_actions when it fires and when it recovers, within CloudWatch's 1024-character description"
  }
  assert {
    condition = (
      aws_cloudwatch_metric_alarm.delivery_failed.namespace == "AWS/SNS"
      && aws_cloudwatch_metric_alarm.delivery_failed.metric_name == "NumberOfNotificationsFailed"
      && aws_cloudwatch_metric_alarm.delivery_failed.dimensions == tomap({ TopicName = "orders-order-placed" })
      && aws_cloudwatch_metric_alarm.delivery_failed.statistic == "Sum"
      && aws_cloudwatch_metric_alarm.delivery_failed.threshold == 0
      && output.delivery_failed_alarm_name == "orders-order-placed-delivery-failed"
    )
    error_message = "the topic alarms on any message SNS gave up delivering"
  }
}

run "the_default_runbook_is_the_kit_s_alerts_readme" {
  command = plan

  variables {
    runbook_url = null # as when a caller does not set it (nullable = false: the default applies)
  }

  assert {
    condition     = endswith(aws_cloudwatch_metric_alarm.backlog["audit"].alarm_description, "Runbook: alerts/README.md#consumerlaghigh")
    error_message = "without runbook_url the alarms name the kit's alerts/README.md sections"
  }
}

run "a_runbook_url_with_a_fragment_is_refused" {
  command = plan

  variables {
    runbook_url = "https://wiki.example.com/alerts#top"
  }

  expect_failures = [var.runbook_url]
}

run "for_seconds_must_be_whole_minutes" {
  command = plan

  variables {
    subscribers = { billing = { alarm_thresholds = { for_seconds = 90 } } }
  }

  expect_failures = [var.subscribers]
}

run "negative_thresholds_are_refused" {
  command = plan

  variables {
    subscribers = { billing = { alarm_thresholds = { dlq_messages = -1 } } }
  }

  expect_failures = [var.subscribers]
}

run "dashboard_draws_each_subscriber_with_its_thresholds" {
  command = plan

  assert {
    condition     = aws_cloudwatch_dashboard.this[0].dashboard_name == "orders-order-placed" && output.dashboard_name == "orders-order-placed"
    error_message = "the dashboard is named after the topic"
  }
  assert {
    condition     = length(jsondecode(aws_cloudwatch_dashboard.this[0].dashboard_body).widgets) == 1 + 3 * 3
    error_message = "one topic widget and three widgets per subscriber"
  }
  assert {
    condition = contains([for w in jsondecode(aws_cloudwatch_dashboard.this[0].dashboard_body).widgets : w.properties.annotations.horizontal[0].value if try(w.properties.metrics[0][3], "") == "orders-order-placed-billing" && w.properties.metrics[0][1] == "ApproximateNumberOfMessagesVisible"], 50000) && contains(
    [for w in jsondecode(aws_cloudwatch_dashboard.this[0].dashboard_body).widgets : w.properties.annotations.horizontal[0].value if try(w.properties.metrics[0][3], "") == "orders-order-placed-billing-dlq"], 3)
    error_message = "billing's backlog and DLQ widgets draw its alarm thresholds"
  }
  assert {
    condition     = alltrue([for w in jsondecode(aws_cloudwatch_dashboard.this[0].dashboard_body).widgets : w.properties.region == "eu-west-1" && w.x + w.width <= 24])
    error_message = "every widget reads the module's region and fits the 24-column grid"
  }
}

run "no_dashboard_when_not_wanted" {
  command = plan

  variables {
    create_dashboard = false
  }

  assert {
    condition     = length(aws_cloudwatch_dashboard.this) == 0 && output.dashboard_name == null
    error_message = "create_dashboard = false creates no dashboard"
  }
}
