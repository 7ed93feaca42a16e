provider "aws" {
  region = var.region

  default_tags {
    tags = {
      environment = var.environment
      pattern     = "saga"
      managed-by  = "eda-kit"
    }
  }
}

module "saga" {
  source = "../../../modules/aws-saga-stepfunctions"

  name                              = var.name
  definition                        = var.definition
  log_retention_in_days             = var.log_retention_in_days
  allow_execution_data_logging      = var.allow_execution_data_logging
  integration_kms_key_arns          = var.integration_kms_key_arns
  alarm_actions                     = var.alarm_actions
  executions_failed_alarm_threshold = var.executions_failed_alarm_threshold
  metric_namespace                  = var.metric_namespace
  tags                              = var.tags
}

# Rendered var files carry environment-specific names; applying staging's file with environment=prod is a mistake.
check "names_match_environment" {
  assert {
    condition     = strcontains(var.name, var.environment)
    error_message = "state machine name \"${var.name}\" does not mention environment \"${var.environment}\": is this the var file rendered for ${var.environment}?"
  }
}
