# The root passes every input through unchanged and adds the environment to the labels.

mock_provider "google" {}

variables {
  environment = "staging"
  project_id  = "orders-platform-staging"
  topic_name  = "orders-staging-order-placed"
  subscriptions = {
    orders-staging-order-placed-billing = {
      filter             = "attributes.payable = \"true\""
      dead_letter_policy = { max_delivery_attempts = 10 }
    }
    orders-staging-order-placed-audit = {
      dead_letter_policy = { enabled = false }
    }
  }
}

run "dead_letter_topics_only_where_the_policy_is_enabled" {
  command = plan

  assert {
    condition     = keys(output.subscription_ids) == ["orders-staging-order-placed-audit", "orders-staging-order-placed-billing"]
    error_message = "one subscription per consumer"
  }
  assert {
    condition     = keys(output.dead_letter_subscription_ids) == ["orders-staging-order-placed-billing"]
    error_message = "a dead-letter topic and its subscription exist only for subscriptions with a dead-letter policy"
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
