data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  account   = data.aws_caller_identity.current.account_id
  partition = data.aws_partition.current.partition
  region    = data.aws_region.current.region

  state_machine_arn = "arn:${local.partition}:states:${local.region}:${local.account}:stateMachine:${var.name}"
  # The /aws/vendedlogs/ prefix keeps Step Functions log delivery out of the size-limited CloudWatch Logs resource policy.
  log_group_name = "/aws/vendedlogs/states/${var.name}"
}

# Callbacks (.waitForTaskToken) run only in STANDARD workflows, and a saga must not run twice.
resource "aws_sfn_state_machine" "this" {
  #checkov:skip=CKV_AWS_285:Every execution event is logged (level ALL); only the states' input and output are left out by default, so saga data never reaches the logs (opt-in: allow_execution_data_logging).
  name       = var.name
  type       = "STANDARD"
  role_arn   = aws_iam_role.this.arn
  definition = var.definition
  tags       = var.tags

  logging_configuration {
    log_destination        = "${aws_cloudwatch_log_group.this.arn}:*"
    include_execution_data = var.allow_execution_data_logging
    level                  = "ALL"
  }

  tracing_configuration {
    enabled = true
  }

  # Log delivery is checked when the state machine is created: the role's permissions must exist first.
  depends_on = [aws_iam_role_policy.this]
}

resource "aws_cloudwatch_log_group" "this" {
  name              = local.log_group_name
  retention_in_days = var.log_retention_in_days
  kms_key_id        = aws_kms_key.logs.arn
  tags              = var.tags
}

resource "aws_kms_key" "logs" {
  description             = "Encrypts the execution logs of state machine ${var.name}."
  enable_key_rotation     = true
  deletion_window_in_days = 30
  tags                    = var.tags

  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "AccountAdministersTheKey"
        Effect    = "Allow"
        Principal = { AWS = "arn:${local.partition}:iam::${local.account}:root" }
        Action    = "kms:*"
        Resource  = "*"
      },
      {
        # CloudWatch Logs may use the key only for this log group.
        Sid       = "CloudWatchLogsEncryptsThisLogGroup"
        Effect    = "Allow"
        Principal = { Service = "logs.${local.region}.amazonaws.com" }
        Action    = ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"]
        Resource  = "*"
        Condition = { ArnEquals = { "kms:EncryptionContext:aws:logs:arn" = "arn:${local.partition}:logs:${local.region}:${local.account}:log-group:${local.log_group_name}" } }
      },
    ]
  })
}
