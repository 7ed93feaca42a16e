# The root passes every input through unchanged: one rule and one dead-letter queue per route.

mock_provider "aws" {}

variables {
  environment = "staging"
  name        = "orders-staging-orders"
  routes = {
    fraud-review = {
      event_pattern = "{\"detail-type\":[\"OrderPlaced\"],\"detail\":{\"total_amount\":[{\"numeric\":[\">=\",1000]}]}}"
      targets = {
        queue = {
          arn = "arn:aws:sqs:eu-west-1:123456789012:fraud-review"
        }
      }
    }
    analytics = {
      event_pattern = "{\"source\":[\"shop.orders\"]}"
      targets       = { queue = { arn = "arn:aws:sqs:eu-west-1:123456789012:order-analytics" } }
    }
  }
}

run "one_rule_and_dead_letter_queue_per_route" {
  command = plan

  assert {
    condition     = keys(output.rule_arns) == ["analytics", "fraud-review"] && keys(output.dead_letter_queue_urls) == ["analytics", "fraud-review"]
    error_message = "every route needs its rule and its dead-letter queue"
  }
  assert {
    condition     = output.event_bus_name == "orders-staging-orders"
    error_message = "the bus is named after the rendered name"
  }
  assert {
    condition     = keys(output.target_queue_policies) == ["arn:aws:sqs:eu-west-1:123456789012:fraud-review", "arn:aws:sqs:eu-west-1:123456789012:order-analytics"]
    error_message = "the root hands each target queue's owner the policy document to merge, instead of writing it"
  }
}

run "takes_alarm_actions_like_every_aws_root" {
  command = plan

  variables {
    alarm_actions = ["arn:aws:sns:eu-west-1:123456789012:orders-oncall"]
  }

  assert {
    condition     = output.dead_letter_alarm_names == { analytics = "orders-staging-orders-analytics-dlq-not-empty", fraud-review = "orders-staging-orders-fraud-review-dlq-not-empty" }
    error_message = "every route's DLQ has its not-empty alarm, output by route"
  }
}

run "var_file_for_another_environment_is_flagged" {
  command = plan

  variables {
    environment = "prod"
  }

  expect_failures = [check.names_match_environment]
}

run "environment_must_be_a_simple_name" {
  command = plan

  variables {
    environment = "Staging EU"
  }

  expect_failures = [var.environment]
}

run "region_must_be_a_region_code" {
  command = plan

  variables {
    region = "Ireland"
  }

  expect_failures = [var.region]
}
