# Payloads outlive every message that refers to them; the bucket is named after the topic unless given.

mock_provider "aws" {}

variables {
  environment = "staging"
  name        = "orders-claims-staging-order-documents"
  subscribers = {
    invoicing = { visibility_timeout_seconds = 300 }
    archive   = {}
  }
}

run "store_and_fan_out_together" {
  command = plan

  assert {
    condition     = local.bucket == "orders-claims-staging-order-documents-claim-checks"
    error_message = "bucket = null must name the store after the topic"
  }
  assert {
    condition     = keys(output.queue_urls) == ["archive", "invoicing"]
    error_message = "every consumer gets its queue"
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
