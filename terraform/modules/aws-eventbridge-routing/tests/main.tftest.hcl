mock_provider "aws" {}

override_resource {
  override_during = plan
  target          = aws_cloudwatch_event_rule.this
  values = {
    arn = "arn:aws:events:eu-west-1:123456789012:rule/shop/any"
  }
}

override_resource {
  override_during = plan
  target          = aws_sqs_queue.dead_letter
  values = {
    arn = "arn:aws:sqs:eu-west-1:123456789012:shop-dlq"
    url = "https://sqs.eu-west-1.amazonaws.com/123456789012/shop-dlq"
  }
}

variables {
  name = "shop"
  routes = {
    big-orders = {
      event_pattern = "{\"source\":[\"shop.orders\"],\"detail-type\":[\"OrderPlaced\"],\"detail\":{\"total\":[{\"numeric\":[\">\",100]}]}}"
      targets = {
        review = {
          arn          = "arn:aws:sqs:eu-west-1:123456789012:order-review"
          retry_policy = { maximum_event_age_in_seconds = 3600, maximum_retry_attempts = 10 }
        }
        ledger = {
          arn              = "arn:aws:sqs:eu-west-1:123456789012:ledger.fifo"
          message_group_id = "orders"
        }
      }
    }
    cancellations = {
      event_pattern = "{\"source\":[\"shop.orders\"],\"detail-type\":[\"OrderCancelled\"]}"
      targets = {
        review = {
          arn = "arn:aws:sqs:eu-west-1:123456789012:order-review"
        }
      }
    }
  }
}

run "bus_rules_targets_and_archive" {
  command = plan

  assert {
    condition     = aws_cloudwatch_event_bus.this.name == "shop" && aws_cloudwatch_event_rule.this["big-orders"].event_bus_name == "shop"
    error_message = "Rules live on the custom bus."
  }
  assert {
    condition     = jsondecode(aws_cloudwatch_event_rule.this["big-orders"].event_pattern)["detail-type"] == ["OrderPlaced"]
    error_message = "The route's event pattern is the rule's."
  }
  assert {
    condition     = length(aws_cloudwatch_event_target.this) == 3 && aws_cloudwatch_event_target.this["big-orders/review"].target_id == "review"
    error_message = "One target resource per route target."
  }
  assert {
    condition     = aws_cloudwatch_event_target.this["big-orders/review"].retry_policy[0].maximum_event_age_in_seconds == 3600 && aws_cloudwatch_event_target.this["big-orders/review"].retry_policy[0].maximum_retry_attempts == 10
    error_message = "The target's retry policy is passed through."
  }
  assert {
    condition     = aws_cloudwatch_event_target.this["cancellations/review"].retry_policy[0].maximum_event_age_in_seconds == 86400 && aws_cloudwatch_event_target.this["cancellations/review"].retry_policy[0].maximum_retry_attempts == 185
    error_message = "Retry defaults are EventBridge's maxima (24 h, 185 attempts)."
  }
  assert {
    condition     = alltrue([for t in values(aws_cloudwatch_event_target.this) : t.dead_letter_config[0].arn == "arn:aws:sqs:eu-west-1:123456789012:shop-dlq"])
    error_message = "Every target dead-letters to its route's DLQ."
  }
  assert {
    condition     = aws_cloudwatch_event_target.this["big-orders/ledger"].sqs_target[0].message_group_id == "orders" && length(aws_cloudwatch_event_target.this["big-orders/review"].sqs_target) == 0
    error_message = "Only the FIFO target carries a message group id."
  }
  assert {
    condition     = aws_cloudwatch_event_archive.this[0].retention_days == 7 && aws_cloudwatch_event_archive.this[0].name == "shop-archive"
    error_message = "The bus is archived for 7 days by default."
  }
}

run "queue_policies_allow_only_the_rules" {
  command = plan

  assert {
    condition     = keys(aws_sqs_queue.dead_letter) == ["big-orders", "cancellations"] && aws_sqs_queue.dead_letter["big-orders"].name == "shop-big-orders-dlq" && aws_sqs_queue.dead_letter["big-orders"].sqs_managed_sse_enabled
    error_message = "One encrypted DLQ per route."
  }
  assert {
    condition     = jsondecode(aws_sqs_queue_policy.dead_letter["big-orders"].policy).Statement[0].Principal.Service == "events.amazonaws.com" && jsondecode(aws_sqs_queue_policy.dead_letter["big-orders"].policy).Statement[0].Condition.ArnEquals["aws:SourceArn"] == "arn:aws:events:eu-west-1:123456789012:rule/shop/any"
    error_message = "The DLQ accepts messages only from EventBridge on behalf of its rule."
  }
  assert {
    condition     = keys(output.target_queue_policies) == ["arn:aws:sqs:eu-west-1:123456789012:ledger.fifo", "arn:aws:sqs:eu-west-1:123456789012:order-review"]
    error_message = "A queue targeted by two rules gets one policy document to merge, not two that overwrite each other."
  }
  assert {
    condition     = jsondecode(output.target_queue_policies["arn:aws:sqs:eu-west-1:123456789012:order-review"]).Statement[0].Resource == "arn:aws:sqs:eu-west-1:123456789012:order-review"
    error_message = "The target queue policy document names the queue."
  }
  assert {
    condition     = length(aws_cloudwatch_metric_alarm.dead_letter_depth) == 2 && aws_cloudwatch_metric_alarm.dead_letter_depth["cancellations"].metric_name == "ApproximateNumberOfMessagesVisible"
    error_message = "Each DLQ has a depth alarm."
  }
}

run "dead_letter_alarms_and_outputs" {
  command = plan

  variables {
    alarm_actions = ["arn:aws:sns:eu-west-1:123456789012:ops-alerts"]
  }

  assert {
    condition = alltrue([for a in values(aws_cloudwatch_metric_alarm.dead_letter_depth) :
      a.period == 60 && a.evaluation_periods == 1 && a.statistic == "Maximum" && a.threshold == 0 && a.treat_missing_data == "notBreaching"
      && a.alarm_actions == toset(["arn:aws:sns:eu-west-1:123456789012:ops-alerts"]) && a.ok_actions == toset(["arn:aws:sns:eu-west-1:123456789012:ops-alerts"])
    ])
    error_message = "A DLQ alarm fires on the first 60 s datapoint that sees a message and notifies alarm_actions."
  }
  assert {
    condition     = aws_cloudwatch_metric_alarm.dead_letter_depth["big-orders"].alarm_name == "shop-big-orders-dlq-not-empty" && aws_cloudwatch_metric_alarm.dead_letter_depth["big-orders"].dimensions == tomap({ QueueName = "shop-big-orders-dlq" })
    error_message = "The alarm is named after its DLQ and watches it."
  }
  assert {
    condition     = output.dead_letter_alarm_names == { big-orders = "shop-big-orders-dlq-not-empty", cancellations = "shop-cancellations-dlq-not-empty" }
    error_message = "dead_letter_alarm_names names each route's DLQ alarm."
  }
  assert {
    condition     = output.dead_letter_queue_arns == { big-orders = "arn:aws:sqs:eu-west-1:123456789012:shop-dlq", cancellations = "arn:aws:sqs:eu-west-1:123456789012:shop-dlq" } && keys(output.dead_letter_queue_urls) == ["big-orders", "cancellations"]
    error_message = "dead_letter_queue_arns and dead_letter_queue_urls are keyed by route."
  }
}

run "deprecated_dead_letter_alarm_actions_still_notifies" {
  command = plan

  variables {
    alarm_actions             = ["arn:aws:sns:eu-west-1:123456789012:ignored"]
    dead_letter_alarm_actions = ["arn:aws:sns:eu-west-1:123456789012:old-name"]
  }

  assert {
    condition     = alltrue([for a in values(aws_cloudwatch_metric_alarm.dead_letter_depth) : a.alarm_actions == toset(["arn:aws:sns:eu-west-1:123456789012:old-name"])])
    error_message = "A caller still passing dead_letter_alarm_actions (deprecated) keeps its alarm notifications for one release."
  }
}

run "rejects_alarm_action_that_is_not_an_arn" {
  command = plan
  variables {
    alarm_actions = ["ops-alerts"]
  }
  expect_failures = [var.alarm_actions]
}

run "no_archive_and_customer_managed_keys" {
  command = plan

  variables {
    archive                = null
    kms_key_identifier     = "alias/events"
    dead_letter_kms_key_id = "alias/dlq"
  }

  assert {
    condition     = length(aws_cloudwatch_event_archive.this) == 0 && aws_cloudwatch_event_bus.this.kms_key_identifier == "alias/events"
    error_message = "archive = null creates no archive; the bus uses the given key."
  }
  assert {
    condition     = aws_sqs_queue.dead_letter["big-orders"].kms_master_key_id == "alias/dlq" && aws_sqs_queue.dead_letter["big-orders"].sqs_managed_sse_enabled != true
    error_message = "DLQs use the customer managed key instead of SSE-SQS."
  }
}

run "rejects_default_bus_name" {
  command = plan
  variables {
    name = "default"
  }
  expect_failures = [var.name]
}

run "rejects_fractional_archive_retention" {
  command = plan
  variables {
    archive = { retention_days = 1.5 }
  }
  expect_failures = [var.archive]
}

run "rejects_empty_routes" {
  command = plan
  variables {
    routes = {}
  }
  expect_failures = [var.routes]
}

run "rejects_route_whose_dlq_name_exceeds_80_characters" {
  command = plan
  variables {
    name   = "shop-order-events-production-eu-west-1"
    routes = { "orders-placed-by-premium-customers-over-one-hundred-euros" = { event_pattern = "{}", targets = { t = { arn = "arn:aws:sqs:eu-west-1:123456789012:q" } } } }
  }
  expect_failures = [var.routes]
}

run "rejects_pattern_that_is_not_a_json_object" {
  command = plan
  variables {
    routes = { r = { event_pattern = "[\"shop.orders\"]", targets = { t = { arn = "arn:aws:sqs:eu-west-1:123456789012:q" } } } }
  }
  expect_failures = [var.routes]
}

run "rejects_unknown_state" {
  command = plan
  variables {
    routes = { r = { event_pattern = "{}", state = "PAUSED", targets = { t = { arn = "arn:aws:sqs:eu-west-1:123456789012:q" } } } }
  }
  expect_failures = [var.routes]
}

run "rejects_six_targets" {
  command = plan
  variables {
    routes = { r = { event_pattern = "{}", targets = { for i in range(6) : "t${i}" => { arn = "arn:aws:sqs:eu-west-1:123456789012:q${i}" } } } }
  }
  expect_failures = [var.routes]
}

run "rejects_target_that_is_not_an_arn" {
  command = plan
  variables {
    routes = { r = { event_pattern = "{}", targets = { t = { arn = "order-review" } } } }
  }
  expect_failures = [var.routes]
}

run "rejects_event_age_under_60_seconds" {
  command = plan
  variables {
    routes = { r = { event_pattern = "{}", targets = { t = { arn = "arn:aws:sqs:eu-west-1:123456789012:q", retry_policy = { maximum_event_age_in_seconds = 59 } } } } }
  }
  expect_failures = [var.routes]
}

run "rejects_fifo_target_without_message_group" {
  command = plan
  variables {
    routes = { r = { event_pattern = "{}", targets = { t = { arn = "arn:aws:sqs:eu-west-1:123456789012:q.fifo" } } } }
  }
  expect_failures = [var.routes]
}
