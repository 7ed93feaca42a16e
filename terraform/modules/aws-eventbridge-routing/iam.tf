# Least-privilege IAM policy documents for the identities around this bus, ready to attach:
#
# - publisher: events:PutEvents on this bus only. EventBridge encrypts with the bus's key itself (the key policy
#   grants events.amazonaws.com), so a publisher needs no KMS permission.
# - dead-letter operator (one per route): read, delete and change the visibility of the route's DLQ messages, and
#   events:PutEvents on the bus to send them again (an EventBridge DLQ has no source queue to redrive into); with a
#   customer managed DLQ key also kms:Decrypt on it.
# Consumers are the targets' owners: a target queue gets its statement from target_queue_policies.
#
# A DLQ key given as an alias cannot be named in an IAM policy (KMS evaluates key ARNs): the statement then covers
# the keys of that account and region whose alias it is (kms:ResourceAliases), still only that key.

data "aws_caller_identity" "iam" {}

data "aws_partition" "iam" {}

locals {
  dlq_key_given    = coalesce(var.dead_letter_kms_key_id, "-")
  dlq_key_is_alias = can(regex("(^|:)alias/", local.dlq_key_given))
  dlq_key_is_arn   = startswith(local.dlq_key_given, "arn:")
  dlq_key_arn_base = "arn:${data.aws_partition.iam.partition}:kms:${data.aws_region.current.region}:${data.aws_caller_identity.iam.account_id}"
  dlq_key_statement = var.dead_letter_kms_key_id == null ? [] : [merge(
    {
      Sid    = "DecryptDeadLetters"
      Effect = "Allow"
      Action = ["kms:Decrypt"]
      Resource = (
        local.dlq_key_is_alias ? (local.dlq_key_is_arn ? replace(local.dlq_key_given, "/alias/.*$/", "key/*") : "${local.dlq_key_arn_base}:key/*") :
        local.dlq_key_is_arn ? local.dlq_key_given : "${local.dlq_key_arn_base}:key/${local.dlq_key_given}"
      )
    },
    local.dlq_key_is_alias ? { Condition = { "ForAnyValue:StringEquals" = { "kms:ResourceAliases" = [regex("alias/.*$", local.dlq_key_given)] } } } : {},
  )]

  publisher_policy = {
    Version   = "2012-10-17"
    Statement = [{ Sid = "PutEventsOnBus", Effect = "Allow", Action = ["events:PutEvents"], Resource = aws_cloudwatch_event_bus.this.arn }]
  }

  dead_letter_operator_policies = {
    for route in keys(var.routes) : route => {
      Version = "2012-10-17"
      Statement = concat(
        [
          {
            Sid      = "ReadDeadLetters"
            Effect   = "Allow"
            Action   = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes", "sqs:GetQueueUrl"]
            Resource = aws_sqs_queue.dead_letter[route].arn
          },
          { Sid = "ReplayToBus", Effect = "Allow", Action = ["events:PutEvents"], Resource = aws_cloudwatch_event_bus.this.arn },
        ],
        local.dlq_key_statement,
      )
    }
  }
}

output "publisher_policy_json" {
  description = "IAM policy document (JSON) for a publisher: events:PutEvents on this bus only."
  value       = jsonencode(local.publisher_policy)
}

output "dead_letter_operator_policy_json" {
  description = "IAM policy document (JSON) per route: read/delete on the route's DLQ, events:PutEvents on the bus to replay, kms:Decrypt on a customer managed DLQ key."
  value       = { for route, policy in local.dead_letter_operator_policies : route => jsonencode(policy) }
}
