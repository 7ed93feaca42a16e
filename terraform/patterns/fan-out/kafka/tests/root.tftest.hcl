# The root passes every input through unchanged: what the var file omits gets the module's defaults.

mock_provider "kafka" {}

variables {
  environment       = "staging"
  bootstrap_servers = ["kafka-1.staging.internal:9092"]
  topics = {
    "orders-staging.order-placed" = { producers = ["User:order-service"] }
  }
  consumer_groups = {
    billing = { topics = ["orders-staging.order-placed"] }
  }
}

run "omitted_inputs_take_the_module_defaults" {
  command = plan

  assert {
    condition     = output.retry_topic_names == { billing = { "orders-staging.order-placed" = ["orders-staging.order-placed.billing.retry.1", "orders-staging.order-placed.billing.retry.2", "orders-staging.order-placed.billing.retry.3"] } }
    error_message = "retry_topic_count = null must mean the module's default of 3"
  }
  assert {
    condition     = output.acls == tolist(["User:order-service|Describe|Topic|orders-staging.order-placed", "User:order-service|IdempotentWrite|Cluster|kafka-cluster", "User:order-service|Write|Topic|orders-staging.order-placed"])
    error_message = "principals = null must mean no consumer ACLs"
  }
}

run "consumer_groups_may_be_omitted" {
  command = plan

  variables {
    consumer_groups = null
  }

  assert {
    condition     = output.topic_names == tolist(["orders-staging.order-placed"]) && length(output.dead_letter_topic_names) == 0 && output.dlq_topic_names == output.dead_letter_topic_names && length(output.acls) == 3
    error_message = "without consumer groups only the topic is planned"
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
    environment = "prod/eu"
  }

  expect_failures = [var.environment]
}

run "bootstrap_servers_need_host_and_port" {
  command = plan

  variables {
    bootstrap_servers = ["kafka-1.staging.internal"]
  }

  expect_failures = [var.bootstrap_servers]
}
