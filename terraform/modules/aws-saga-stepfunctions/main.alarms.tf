# Three ways a saga execution ends that someone must look at:
# - ExecutionsFailed: a step failed and the completed steps were compensated (SagaFailed), or a compensation failed
#   for good (CompensationFailed). The first is often a business outcome (a declined card): raise the threshold
#   when failed sagas are routine, and rely on the CompensationFailed alarm for the ones that need a person.
# - ExecutionsTimedOut: the execution's TimeoutSeconds backstop (the saga's deadline plus its compensations' worst
#   case) ended it, with compensations possibly not run.
# - CompensationFailed: counted from the execution logs (level ALL, whether or not execution data is logged: the
#   state's name is not execution data) each time an execution enters the CompensationFailed Fail state. The saga
#   then waits for a person: Step Functions cannot retry the compensation itself (a redrive restarts at the Fail
#   state), so the failed compensations are run by hand after the fix.
# Each description ends with its runbook section of alerts/README.md (var.runbook_url).

locals {
  compensation_failed_metric = "${var.name}-CompensationFailed"
  runbook                    = { for section in ["sagacompensationfailed", "sagaexecutionsfailed", "sagaexecutionstimedout"] : section => "Runbook: ${var.runbook_url}#${section}" }
}

resource "aws_cloudwatch_log_metric_filter" "compensation_failed" {
  name           = "${var.name}-compensation-failed"
  log_group_name = aws_cloudwatch_log_group.this.name
  pattern        = "{ ($.type = \"FailStateEntered\") && ($.details.name = \"CompensationFailed\") }"

  metric_transformation {
    namespace     = var.metric_namespace
    name          = local.compensation_failed_metric
    value         = "1"
    default_value = "0"
    unit          = "Count"
  }
}

resource "aws_cloudwatch_metric_alarm" "compensation_failed" {
  alarm_name          = "${var.name}-compensation-failed"
  alarm_description   = "A saga execution of ${var.name} ended in CompensationFailed: a compensation failed after its retries and the saga needs manual repair (the execution's history names the failed compensation and what is left to undo). ${local.runbook.sagacompensationfailed}"
  namespace           = var.metric_namespace
  metric_name         = local.compensation_failed_metric
  statistic           = "Sum"
  period              = 60
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.alarm_actions
  ok_actions          = var.alarm_actions
  tags                = var.tags

  depends_on = [aws_cloudwatch_log_metric_filter.compensation_failed]
}

resource "aws_cloudwatch_metric_alarm" "executions_failed" {
  alarm_name          = "${var.name}-executions-failed"
  alarm_description   = "More than ${var.executions_failed_alarm_threshold} saga execution(s) of ${var.name} failed within 5 minutes (compensated failures and CompensationFailed ends alike). ${local.runbook.sagaexecutionsfailed}"
  namespace           = "AWS/States"
  metric_name         = "ExecutionsFailed"
  dimensions          = { StateMachineArn = aws_sfn_state_machine.this.arn }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  threshold           = var.executions_failed_alarm_threshold
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.alarm_actions
  ok_actions          = var.alarm_actions
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "executions_timed_out" {
  alarm_name          = "${var.name}-executions-timed-out"
  alarm_description   = "A saga execution of ${var.name} hit its TimeoutSeconds backstop (deadline plus the compensations' worst case): its compensations may not have run. ${local.runbook.sagaexecutionstimedout}"
  namespace           = "AWS/States"
  metric_name         = "ExecutionsTimedOut"
  dimensions          = { StateMachineArn = aws_sfn_state_machine.this.arn }
  statistic           = "Sum"
  period              = 60
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.alarm_actions
  ok_actions          = var.alarm_actions
  tags                = var.tags
}
