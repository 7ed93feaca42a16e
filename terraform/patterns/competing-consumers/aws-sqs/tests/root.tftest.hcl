# One queue per subscriber, shared by its pool of workers, each with a policy for exactly that queue.

mock_provider "aws" {
  mock_resource "aws_kms_key" {
    override_during = plan
    defaults = {
      arn = "arn:aws:kms:eu-west-1:123456789012:key/00000000-0000-0000-0000-000000000000"
    }
  }
  mock_resource "aws_sqs_queue" {
    override_during = plan
    defaults = {
      arn = "arn:aws:sqs:eu-west-1:123456789012:orders-workers-staging-order-placed-fulfilment"
    }
  }
}

variables {
  environment = "staging"
  name        = "orders-workers-staging-order-placed"
  subscribers = {
    fulfilment = { visibility_timeout_seconds = 360 }
  }
}

run "workers_may_consume_only_their_queue" {
  command = plan

  assert {
    condition     = keys(aws_iam_policy.workers) == ["fulfilment"]
    error_message = "one worker policy per subscriber queue"
  }
  assert {
    condition     = jsondecode(aws_iam_policy.workers["fulfilment"].policy).Statement[0].Resource == "arn:aws:sqs:eu-west-1:123456789012:orders-workers-staging-order-placed-fulfilment"
    error_message = "the policy names the subscriber's queue, not a wildcard"
  }
  assert {
    condition     = !contains(jsondecode(aws_iam_policy.workers["fulfilment"].policy).Statement[0].Action, "sqs:SendMessage")
    error_message = "workers consume; they do not send to their own queue"
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
