locals {
  tasks = [for state in values(jsondecode(var.definition).States) : state if state.Type == "Task"]
  # "arn:aws:states:::sqs:sendMessage.waitForTaskToken" -> "sqs:sendMessage"
  integrations = [for task in local.tasks : {
    api        = join(":", [split(":", task.Resource)[5], split(".", split(":", task.Resource)[6])[0]])
    parameters = task.Parameters
  }]

  lambda_functions = sort(distinct([for i in local.integrations : i.parameters.FunctionName if i.api == "lambda:invoke"]))
  sns_topics       = sort(distinct([for i in local.integrations : i.parameters.TopicArn if i.api == "sns:publish"]))
  # IAM names queues by ARN while SendMessage takes the URL https://sqs.REGION.amazonaws.com/ACCOUNT/NAME.
  sqs_queues = sort(distinct([for i in local.integrations : format("arn:%s:sqs:%s:%s:%s", local.partition,
  regex("^https://sqs\\.([a-z0-9-]+)\\.amazonaws\\.com(?:\\.cn)?/([0-9]{12})/([^/]+)$", i.parameters.QueueUrl)...) if i.api == "sqs:sendMessage"]))

  integration_statements = concat(
    length(local.lambda_functions) == 0 ? [] : [{
      Sid      = "InvokeSagaFunctions"
      Effect   = "Allow"
      Action   = "lambda:InvokeFunction"
      Resource = flatten([for arn in local.lambda_functions : [arn, "${arn}:*"]])
    }],
    length(local.sqs_queues) == 0 ? [] : [{
      Sid      = "SendToSagaQueues"
      Effect   = "Allow"
      Action   = "sqs:SendMessage"
      Resource = local.sqs_queues
    }],
    length(local.sns_topics) == 0 ? [] : [{
      Sid      = "PublishToSagaTopics"
      Effect   = "Allow"
      Action   = "sns:Publish"
      Resource = local.sns_topics
    }],
    length(var.integration_kms_key_arns) == 0 ? [] : [{
      Sid      = "EncryptSagaMessages"
      Effect   = "Allow"
      Action   = ["kms:GenerateDataKey", "kms:Decrypt"]
      Resource = var.integration_kms_key_arns
    }],
  )
}

resource "aws_iam_role" "this" {
  name = var.name
  tags = var.tags

  # Only this state machine, in this account, may assume the role (confused-deputy guard).
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "states.amazonaws.com" }
      Action    = "sts:AssumeRole"
      Condition = {
        StringEquals = { "aws:SourceAccount" = local.account }
        ArnLike      = { "aws:SourceArn" = local.state_machine_arn }
      }
    }]
  })
}

resource "aws_iam_role_policy" "this" {
  name = "${var.name}-saga"
  role = aws_iam_role.this.id

  policy = jsonencode({
    Version = "2012-10-17"
    Statement = concat(local.integration_statements, [
      {
        Sid    = "DeliverExecutionLogs"
        Effect = "Allow"
        Action = [
          "logs:CreateLogDelivery", "logs:GetLogDelivery", "logs:UpdateLogDelivery", "logs:DeleteLogDelivery",
          "logs:ListLogDeliveries", "logs:PutResourcePolicy", "logs:DescribeResourcePolicies", "logs:DescribeLogGroups",
        ]
        Resource = "*"
      },
      {
        Sid      = "WriteTraces"
        Effect   = "Allow"
        Action   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords", "xray:GetSamplingRules", "xray:GetSamplingTargets"]
        Resource = "*"
      },
    ])
  })
}
