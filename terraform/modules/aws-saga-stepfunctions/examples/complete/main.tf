# Every feature of the module at once: a saga whose steps use all three integrations (a Lambda function, an SQS
# command with a task token, an SNS command with a task token), a compensation, a KMS-encrypted command queue and
# topic, opt-in execution data logging and a longer log retention.
# The definition is normally generated: python -c 'from edakit.saga import render_asl; print(render_asl("configs/sagas/order-fulfilment.yaml"))'
# It is written out here so that the example stands alone.
# terraform init && terraform apply -var="commands_kms_key_arn=arn:aws:kms:eu-west-1:<account>:key/<id>"

terraform {
  required_version = ">= 1.9"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 6.25"
    }
  }
}

provider "aws" {
  region = "eu-west-1"
}

variable "commands_kms_key_arn" {
  description = "Customer managed key encrypting the payment queue and the shipping topic."
  type        = string
}

data "aws_caller_identity" "current" {}

locals {
  account = data.aws_caller_identity.current.account_id
  # The Retry every step gets: transient Lambda errors, and task tokens that timed out.
  retry = [{ ErrorEquals = ["States.Timeout", "Lambda.ServiceException", "Lambda.TooManyRequestsException"], IntervalSeconds = 2, MaxAttempts = 3, BackoffRate = 2.0 }]
}

module "order_fulfilment" {
  source = "../.."

  name = "order-fulfilment-staging"
  definition = jsonencode({
    Comment        = "Create the order, take the payment, ship the parcel; undo what was done if any of it fails."
    StartAt        = "CreateOrder"
    TimeoutSeconds = 86400
    States = {
      CreateOrder = {
        Type       = "Task"
        Resource   = "arn:aws:states:::lambda:invoke"
        Parameters = { FunctionName = "arn:aws:lambda:eu-west-1:${local.account}:function:order-create", "Payload.$" = "$" }
        ResultPath = "$.results.CreateOrder"
        Retry      = local.retry
        Catch      = [{ ErrorEquals = ["States.ALL"], ResultPath = "$.failure", Next = "SagaFailed" }]
        Next       = "ProcessPayment"
      }
      ProcessPayment = {
        Type     = "Task"
        Resource = "arn:aws:states:::sqs:sendMessage.waitForTaskToken"
        Parameters = {
          QueueUrl    = "https://sqs.eu-west-1.amazonaws.com/${local.account}/payment-commands"
          MessageBody = { "input.$" = "$", "task_token.$" = "$$.Task.Token" }
        }
        ResultPath       = "$.results.ProcessPayment"
        TimeoutSeconds   = 900
        HeartbeatSeconds = 120
        Retry            = local.retry
        Catch            = [{ ErrorEquals = ["States.ALL"], ResultPath = "$.failure", Next = "CancelOrder" }]
        Next             = "ShipOrder"
      }
      ShipOrder = {
        Type     = "Task"
        Resource = "arn:aws:states:::sns:publish.waitForTaskToken"
        Parameters = {
          TopicArn = "arn:aws:sns:eu-west-1:${local.account}:shipping-commands"
          Message  = { "input.$" = "$", "task_token.$" = "$$.Task.Token" }
        }
        ResultPath     = "$.results.ShipOrder"
        TimeoutSeconds = 3600
        Retry          = local.retry
        Catch          = [{ ErrorEquals = ["States.ALL"], ResultPath = "$.failure", Next = "CancelOrder" }]
        End            = true
      }
      CancelOrder = {
        Type       = "Task"
        Resource   = "arn:aws:states:::lambda:invoke"
        Parameters = { FunctionName = "arn:aws:lambda:eu-west-1:${local.account}:function:order-cancel", "Payload.$" = "$" }
        ResultPath = "$.compensations.CancelOrder"
        Retry      = local.retry
        Next       = "SagaFailed"
      }
      SagaFailed = { Type = "Fail", Error = "SagaFailed", Cause = "A step failed; the completed steps were compensated." }
    }
  })

  integration_kms_key_arns     = [var.commands_kms_key_arn]
  allow_execution_data_logging = true # staging only: the logs then hold order lines and addresses
  log_retention_in_days        = 731  # two years: the orders audit period
  tags                         = { team = "orders" }
}

output "state_machine_arn" {
  description = "Start executions with states:StartExecution."
  value       = module.order_fulfilment.state_machine_arn
}

output "invoked_resources" {
  description = "What the role may call: exactly the definition's functions, queue and topic."
  value       = module.order_fulfilment.invoked_resources
}
