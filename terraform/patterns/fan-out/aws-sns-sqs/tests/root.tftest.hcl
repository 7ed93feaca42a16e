# The root passes every input through unchanged: what the var file omits gets the module's defaults.

mock_provider "aws" {}

variables {
  environment = "staging"
  name        = "orders-staging-order-placed"
  subscribers = {
    email   = { filter_policy = "{\"event_type\": [\"OrderPlaced\"]}", filter_policy_scope = "MessageBody" }
    billing = { max_receive_count = 3 }
    audit   = {}
  }
}

run "omitted_inputs_take_the_module_defaults" {
  command = plan

  assert {
    condition     = keys(output.alarm_names) == ["audit", "billing", "email"] && output.alarm_names["audit"].dead_letter_depth == "orders-staging-order-placed-audit-dlq-not-empty"
    error_message = "null pass-through must keep every subscriber with its DLQ (create_dlq defaults to true)"
  }
  assert {
    condition     = module.fanout.topic_name == "orders-staging-order-placed"
    error_message = "fifo_topic = null must mean a standard topic"
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
