# The redrive operator may move messages from each DLQ back to its own source queue, and nothing else.

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
      arn = "arn:aws:sqs:eu-west-1:123456789012:mocked"
    }
  }
}

variables {
  environment = "staging"
  name        = "payments-redrive-staging-payment-failed"
  subscribers = {
    dunning = { max_receive_count = 3 }
    support = {}
    ledger  = { create_dlq = false }
  }
}

run "operator_moves_dead_letters_back_to_their_source" {
  command = plan

  assert {
    condition     = keys(output.dead_letter_queue_arns) == ["dunning", "support"] && output.dlq_arns == output.dead_letter_queue_arns && output.dlq_urls == output.dead_letter_queue_urls
    error_message = "subscribers with create_dlq = false have no DLQ to redrive"
  }
  assert {
    condition     = contains(jsondecode(aws_iam_policy.redrive_operator.policy).Statement[0].Action, "sqs:StartMessageMoveTask")
    error_message = "the operator starts message move tasks on the DLQs"
  }
  assert {
    condition     = length(jsondecode(aws_iam_policy.redrive_operator.policy).Statement[0].Resource) == 2 && length(jsondecode(aws_iam_policy.redrive_operator.policy).Statement[1].Resource) == 2
    error_message = "only the two DLQs and their two source queues (not ledger's queue) are named"
  }
  assert {
    condition     = output.alarm_names["dunning"].dead_letter_depth == "payments-redrive-staging-payment-failed-dunning-dlq-not-empty"
    error_message = "a DLQ that is not empty alarms: someone must look before the messages expire"
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
