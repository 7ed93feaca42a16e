# Every alarm of the saga module ends its description with its runbook section of alerts/README.md under
# runbook_url (the default is the file's path in the kit repository); a runbook_url with a #fragment is refused.

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
  name       = "order-fulfilment"
  definition = file("../../../tests/saga/golden/order-fulfilment.asl.json")
}

run "alarms_link_their_runbook_sections_by_default" {
  command = plan

  assert {
    condition     = endswith(aws_cloudwatch_metric_alarm.compensation_failed.alarm_description, " Runbook: alerts/README.md#sagacompensationfailed")
    error_message = "The CompensationFailed alarm links its runbook section in the kit's alerts/README.md."
  }
  assert {
    condition     = endswith(aws_cloudwatch_metric_alarm.executions_failed.alarm_description, " Runbook: alerts/README.md#sagaexecutionsfailed")
    error_message = "The ExecutionsFailed alarm links its runbook section."
  }
  assert {
    condition     = endswith(aws_cloudwatch_metric_alarm.executions_timed_out.alarm_description, " Runbook: alerts/README.md#sagaexecutionstimedout")
    error_message = "The ExecutionsTimedOut alarm links its runbook section."
  }
}

run "alarms_link_a_published_runbook" {
  command = plan

  variables {
    runbook_url = "https://wiki.example.com/eda-kit/alerts"
  }

  assert {
    condition = [for alarm in [aws_cloudwatch_metric_alarm.compensation_failed, aws_cloudwatch_metric_alarm.executions_failed, aws_cloudwatch_metric_alarm.executions_timed_out] : regex("Runbook: (\\S+)$", alarm.alarm_description)[0]] == [
      "https://wiki.example.com/eda-kit/alerts#sagacompensationfailed",
      "https://wiki.example.com/eda-kit/alerts#sagaexecutionsfailed",
      "https://wiki.example.com/eda-kit/alerts#sagaexecutionstimedout",
    ]
    error_message = "Each alarm's description ends with its section under runbook_url."
  }
  assert {
    condition     = alltrue([for alarm in [aws_cloudwatch_metric_alarm.compensation_failed, aws_cloudwatch_metric_alarm.executions_failed, aws_cloudwatch_metric_alarm.executions_timed_out] : length(alarm.alarm_description) <= 1024])
    error_message = "CloudWatch takes alarm descriptions of at most 1024 characters."
  }
}

run "a_runbook_url_with_a_fragment_is_refused" {
  command = plan

  variables {
    runbook_url = "https://wiki.example.com/alerts#top"
  }

  expect_failures = [var.runbook_url]
}
