mock_provider "aws" {
  override_during = plan

  mock_data "aws_caller_identity" {
    defaults = { account_id = "123456789012" }
  }
  mock_data "aws_partition" {
    defaults = { partition = "aws" }
  }
  mock_data "aws_region" {
    defaults = { region = "eu-west-1" }
  }
  mock_resource "aws_cloudwatch_log_group" {
    defaults = { arn = "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/vendedlogs/states/order-fulfilment" }
  }
}

variables {
  name = "order-fulfilment"
  # The ASL edakit generates from configs/sagas/order-fulfilment.yaml (golden file of tests/saga).
  definition = file("../../../tests/saga/golden/order-fulfilment.asl.json")
}

run "role_may_call_exactly_what_the_definition_invokes" {
  command = plan

  assert {
    condition     = local.lambda_functions == tolist(["arn:aws:lambda:eu-west-1:123456789012:function:order-cancel", "arn:aws:lambda:eu-west-1:123456789012:function:order-create"])
    error_message = "The Lambda functions are read from the definition."
  }
  assert {
    condition     = local.sqs_queues == tolist(["arn:aws:sqs:eu-west-1:123456789012:payment-commands", "arn:aws:sqs:eu-west-1:123456789012:payment-refunds"])
    error_message = "Queue URLs in the definition become queue ARNs for IAM."
  }
  assert {
    condition     = local.sns_topics == tolist(["arn:aws:sns:eu-west-1:123456789012:shipping-requests"])
    error_message = "The SNS topic is read from the definition."
  }
  assert {
    condition = [for s in jsondecode(aws_iam_role_policy.this.policy).Statement : s.Sid] == [
      "InvokeSagaFunctions", "SendToSagaQueues", "PublishToSagaTopics", "DeliverExecutionLogs", "WriteTraces",
    ]
    error_message = "The role policy has one statement per integration, plus log delivery and tracing; no KMS without keys."
  }
  assert {
    condition     = contains(jsondecode(aws_iam_role_policy.this.policy).Statement[0].Resource, "arn:aws:lambda:eu-west-1:123456789012:function:order-create:*")
    error_message = "Lambda permissions cover the function's versions and aliases."
  }
  assert {
    condition     = jsondecode(aws_iam_role.this.assume_role_policy).Statement[0].Condition.ArnLike["aws:SourceArn"] == "arn:aws:states:eu-west-1:123456789012:stateMachine:order-fulfilment"
    error_message = "Only this state machine may assume the role."
  }
}

run "logging_all_with_kms_and_tracing" {
  command = plan

  assert {
    condition     = aws_sfn_state_machine.this.type == "STANDARD" && aws_sfn_state_machine.this.tracing_configuration[0].enabled
    error_message = "A STANDARD workflow (callbacks need it) with X-Ray tracing."
  }
  assert {
    condition     = aws_sfn_state_machine.this.logging_configuration[0].level == "ALL" && !aws_sfn_state_machine.this.logging_configuration[0].include_execution_data
    error_message = "Every execution event is logged, but by default without the saga's data (inputs and outputs)."
  }
  assert {
    condition     = aws_sfn_state_machine.this.logging_configuration[0].log_destination == "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/vendedlogs/states/order-fulfilment:*"
    error_message = "Logs go to the module's log group."
  }
  assert {
    condition     = aws_cloudwatch_log_group.this.name == "/aws/vendedlogs/states/order-fulfilment" && aws_cloudwatch_log_group.this.retention_in_days == 365
    error_message = "The log group uses the vendedlogs prefix and keeps a year."
  }
  assert {
    condition     = jsondecode(aws_kms_key.logs.policy).Statement[1].Condition.ArnEquals["kms:EncryptionContext:aws:logs:arn"] == "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/vendedlogs/states/order-fulfilment" && aws_kms_key.logs.enable_key_rotation
    error_message = "CloudWatch Logs may use the rotating key for this log group only."
  }
}

run "execution_data_is_logged_only_when_allowed" {
  command = plan

  variables {
    allow_execution_data_logging = true
  }

  assert {
    condition     = aws_sfn_state_machine.this.logging_configuration[0].include_execution_data && aws_sfn_state_machine.this.logging_configuration[0].level == "ALL"
    error_message = "The opt-in logs each state's input and output."
  }
}

run "lambda_only_definition_with_encrypted_integrations" {
  command = plan

  variables {
    definition = jsonencode({
      StartAt = "Charge"
      States = {
        Charge = { Type = "Task", Resource = "arn:aws:states:::lambda:invoke.waitForTaskToken", Parameters = { FunctionName = "arn:aws:lambda:eu-west-1:123456789012:function:charge" }, End = true }
      }
    })
    integration_kms_key_arns = ["arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"]
  }

  assert {
    condition = [for s in jsondecode(aws_iam_role_policy.this.policy).Statement : s.Sid] == [
      "InvokeSagaFunctions", "EncryptSagaMessages", "DeliverExecutionLogs", "WriteTraces",
    ]
    error_message = "No SQS or SNS statements without such tasks; a KMS statement for the given keys."
  }
}

run "rejects_bad_name" {
  command = plan
  variables {
    name = "order fulfilment"
  }
  expect_failures = [var.name]
}

run "rejects_definition_that_is_not_asl" {
  command = plan
  variables {
    definition = "{\"Comment\": \"no states\"}"
  }
  expect_failures = [var.definition]
}

run "rejects_unsupported_task_integration" {
  command = plan
  variables {
    definition = jsonencode({ StartAt = "Put", States = { Put = { Type = "Task", Resource = "arn:aws:states:::dynamodb:putItem", Parameters = { TableName = "orders" }, End = true } } })
  }
  expect_failures = [var.definition]
}

run "rejects_unsupported_log_retention" {
  command = plan
  variables {
    log_retention_in_days = 10
  }
  expect_failures = [var.log_retention_in_days]
}

run "rejects_kms_alias_instead_of_key_arn" {
  command = plan
  variables {
    integration_kms_key_arns = ["alias/orders"]
  }
  expect_failures = [var.integration_kms_key_arns]
}

run "alarms_on_failed_timed_out_and_compensation_failed_executions" {
  command = plan

  variables {
    alarm_actions = ["arn:aws:sns:eu-west-1:123456789012:oncall"]
  }

  assert {
    condition = alltrue([for alarm in [aws_cloudwatch_metric_alarm.executions_failed, aws_cloudwatch_metric_alarm.executions_timed_out, aws_cloudwatch_metric_alarm.compensation_failed] :
    alarm.alarm_actions == toset(["arn:aws:sns:eu-west-1:123456789012:oncall"]) && alarm.ok_actions == toset(["arn:aws:sns:eu-west-1:123456789012:oncall"])])
    error_message = "Every alarm notifies alarm_actions, and again when it recovers."
  }
  assert {
    condition     = aws_cloudwatch_metric_alarm.executions_failed.metric_name == "ExecutionsFailed" && aws_cloudwatch_metric_alarm.executions_timed_out.metric_name == "ExecutionsTimedOut" && aws_cloudwatch_metric_alarm.executions_failed.namespace == "AWS/States"
    error_message = "The Step Functions metrics of this state machine are watched."
  }
  assert {
    condition     = aws_cloudwatch_log_metric_filter.compensation_failed.pattern == "{ ($.type = \"FailStateEntered\") && ($.details.name = \"CompensationFailed\") }" && aws_cloudwatch_log_metric_filter.compensation_failed.log_group_name == "/aws/vendedlogs/states/order-fulfilment"
    error_message = "CompensationFailed ends are counted from the execution logs by the Fail state's name."
  }
  assert {
    condition     = aws_cloudwatch_metric_alarm.compensation_failed.metric_name == "order-fulfilment-CompensationFailed" && aws_cloudwatch_metric_alarm.compensation_failed.namespace == "EdaKit/Sagas" && aws_cloudwatch_metric_alarm.compensation_failed.threshold == 0
    error_message = "One CompensationFailed end is enough to alarm."
  }
  assert {
    condition     = contains(keys(jsondecode(var.definition).States), "CompensationFailed") && jsondecode(var.definition).States.CompensationFailed.Type == "Fail"
    error_message = "The generated definition has the Fail state the metric filter counts."
  }
}

run "rejects_alarm_actions_that_are_not_arns" {
  command = plan
  variables {
    alarm_actions = ["oncall"]
  }
  expect_failures = [var.alarm_actions]
}
