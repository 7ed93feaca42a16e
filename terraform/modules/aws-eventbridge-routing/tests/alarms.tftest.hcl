# The DLQ alarm takes the route's threshold (the spec's alerts.dlq_messages, rendered by `edakit render`), every alarm
# links its runbook section, and the dashboard draws the same threshold.

mock_provider "aws" {
  mock_data "aws_region" {
    defaults = { region = "eu-west-1" }
  }
}

variables {
  name = "shop"
  routes = {
    big-orders = {
      event_pattern    = "{\"source\":[\"shop.orders\"]}"
      targets          = { review = { arn = "arn:aws:sqs:eu-west-1:123456789012:order-review" } }
      alarm_thresholds = { dlq_messages = 5 }
    }
    cancellations = {
      event_pattern = "{\"source\":[\"shop.orders\"]}"
      targets       = { review = { arn = "arn:aws:sqs:eu-west-1:123456789012:order-review" } }
    }
  }
  alarm_actions = ["arn:aws:sns:eu-west-1:123456789012:ops-alerts"]
  runbook_url   = "https://wiki.example.com/eda-kit/alerts"
}

run "thresholds_and_runbooks_reach_the_alarms" {
  command = plan

  assert {
    condition     = aws_cloudwatch_metric_alarm.dead_letter_depth["big-orders"].threshold == 5 && aws_cloudwatch_metric_alarm.dead_letter_depth["cancellations"].threshold == 0
    error_message = "a route's DLQ alarm fires above its dlq_messages (default: the first event)"
  }
  assert {
    condition = (
      endswith(aws_cloudwatch_metric_alarm.dead_letter_depth["big-orders"].alarm_description, "Runbook: https://wiki.example.com/eda-kit/alerts#deadletterqueuenotempty")
      && endswith(aws_cloudwatch_metric_alarm.dead_letter_failed["big-orders"].alarm_description, "Runbook: https://wiki.example.com/eda-kit/alerts#deliveryfailing")
    )
    error_message = "each alarm's description ends with its runbook section under runbook_url"
  }
  assert {
    condition = (
      aws_cloudwatch_metric_alarm.dead_letter_failed["cancellations"].namespace == "AWS/Events"
      && aws_cloudwatch_metric_alarm.dead_letter_failed["cancellations"].metric_name == "InvocationsFailedToBeSentToDlq"
      && aws_cloudwatch_metric_alarm.dead_letter_failed["cancellations"].dimensions == tomap({ EventBusName = "shop", RuleName = "cancellations" })
      && aws_cloudwatch_metric_alarm.dead_letter_failed["cancellations"].threshold == 0
      && aws_cloudwatch_metric_alarm.dead_letter_failed["cancellations"].treat_missing_data == "notBreaching"
      && output.dead_letter_failed_alarm_names == { big-orders = "shop-big-orders-dead-letter-failed", cancellations = "shop-cancellations-dead-letter-failed" }
    )
    error_message = "each route pages on the first event lost to both its targets and its DLQ (custom bus: EventBusName and RuleName)"
  }
  assert {
    condition     = alltrue([for a in concat(values(aws_cloudwatch_metric_alarm.dead_letter_depth), values(aws_cloudwatch_metric_alarm.dead_letter_failed)) : a.alarm_actions == toset(["arn:aws:sns:eu-west-1:123456789012:ops-alerts"]) && a.ok_actions == a.alarm_actions])
    error_message = "every alarm notifies alarm_actions when it fires and when it recovers"
  }
}

run "a_negative_dlq_threshold_is_refused" {
  command = plan

  variables {
    routes = { r = { event_pattern = "{}", targets = { t = { arn = "arn:aws:sqs:eu-west-1:123456789012:q" } }, alarm_thresholds = { dlq_messages = -1 } } }
  }

  expect_failures = [var.routes]
}

run "a_runbook_url_with_a_fragment_is_refused" {
  command = plan

  variables {
    runbook_url = "https://wiki.example.com/alerts#top"
  }

  expect_failures = [var.runbook_url]
}

run "dashboard_has_a_row_per_route" {
  command = plan

  assert {
    condition     = aws_cloudwatch_dashboard.this[0].dashboard_name == "shop" && length(jsondecode(aws_cloudwatch_dashboard.this[0].dashboard_body).widgets) == 4
    error_message = "one dashboard named after the bus, two widgets per route"
  }
  assert {
    condition = contains([for w in jsondecode(aws_cloudwatch_dashboard.this[0].dashboard_body).widgets : w.properties.annotations.horizontal[0].value if w.properties.metrics[0][3] == "shop-big-orders-dlq"], 5) && contains(
    [for w in jsondecode(aws_cloudwatch_dashboard.this[0].dashboard_body).widgets : w.properties.metrics[0] if w.properties.metrics[0][0] == "AWS/Events"], ["AWS/Events", "MatchedEvents", "EventBusName", "shop", "RuleName", "cancellations"])
    error_message = "each route's row reads its rule on the bus and its DLQ with the alarm threshold"
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
