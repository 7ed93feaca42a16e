# The example var file (the rendered staging file) is the fixture: the definition edakit generates plans.

mock_provider "aws" {}

variables {
  environment = "staging"
  name        = jsondecode(file("order-fulfilment.tfvars.json")).name
  definition  = jsondecode(file("order-fulfilment.tfvars.json")).definition
}

run "the_generated_definition_plans_with_least_privilege" {
  command = plan

  assert {
    condition     = output.invoked_resources.lambda_functions == tolist(["arn:aws:lambda:eu-west-1:123456789012:function:order-cancel", "arn:aws:lambda:eu-west-1:123456789012:function:order-create"])
    error_message = "the role may invoke exactly the saga's Lambda functions"
  }
  assert {
    condition     = output.log_group_name == "/aws/vendedlogs/states/orders-saga-staging-order-fulfilment"
    error_message = "execution history goes to the state machine's own log group"
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
