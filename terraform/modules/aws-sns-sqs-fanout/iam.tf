# Least-privilege IAM policy documents for the identities that use this fan-out, ready to attach
# (aws_iam_role_policy, aws_iam_policy): named actions only, each on the one topic, queue or key it needs.
#
# - publisher: sns:Publish on the topic, and the KMS actions SNS performs with the publisher's credentials on the
#   topic's key (kms:GenerateDataKey, kms:Decrypt).
# - consumer (one per subscriber): receive, delete and change the visibility of messages on its own queue (plus
#   GetQueueUrl/GetQueueAttributes, which the kit's adapter calls to find it), kms:Decrypt to read them; with a DLQ
#   also sqs:SendMessage on its own DLQ and kms:GenerateDataKey, because the kit dead-letters a poison message itself
#   (with the reason) instead of waiting for maxReceiveCount.
# - dead-letter operator (one per subscriber with a DLQ): read and delete on the DLQ, the SQS redrive actions
#   (StartMessageMoveTask, ListMessageMoveTasks, CancelMessageMoveTask), and sqs:SendMessage on the source queue,
#   where a redrive or `edakit dlq replay` puts messages back.
#
# A key given as an alias cannot be named in an IAM policy (KMS evaluates key ARNs): the statement then covers the
# keys of that account and region whose alias it is (kms:ResourceAliases), still only that key.

locals {
  # The action lists, shared with the kit's test that records which API calls its adapter makes
  # (tests/runtime/security/test_least_privilege.py): an adapter change that needs more fails there.
  iam_actions = jsondecode(file("${path.module}/iam_actions.json"))

  kms_given    = coalesce(var.kms_master_key_id, "-")
  kms_is_alias = can(regex("(^|:)alias/", local.kms_given))
  kms_is_arn   = startswith(local.kms_given, "arn:")
  kms_arn_base = "arn:${data.aws_partition.current.partition}:kms:${data.aws_region.current.region}:${data.aws_caller_identity.current.account_id}"
  # The key as IAM names it: the module's key ARN, a given key ARN, or the ARN of a given key id.
  kms_iam_resource = (
    local.create_kms_key ? aws_kms_key.this[0].arn :
    local.kms_is_alias ? (local.kms_is_arn ? replace(local.kms_given, "/alias/.*$/", "key/*") : "${local.kms_arn_base}:key/*") :
    local.kms_is_arn ? local.kms_given : "${local.kms_arn_base}:key/${local.kms_given}"
  )
  kms_condition = local.kms_is_alias && !local.create_kms_key ? {
    Condition = { "ForAnyValue:StringEquals" = { "kms:ResourceAliases" = [regex("alias/.*$", local.kms_given)] } }
  } : {}

  publisher_policy = {
    Version = "2012-10-17"
    Statement = [
      { Sid = "PublishToTopic", Effect = "Allow", Action = local.iam_actions.publisher, Resource = aws_sns_topic.this.arn },
      merge({ Sid = "EncryptWithTopicKey", Effect = "Allow", Action = local.iam_actions.publisher_kms, Resource = local.kms_iam_resource }, local.kms_condition),
    ]
  }

  consumer_policies = {
    for key in keys(var.subscribers) : key => {
      Version = "2012-10-17"
      Statement = concat(
        [{
          Sid      = "ConsumeOwnQueue"
          Effect   = "Allow"
          Action   = local.iam_actions.consumer_queue
          Resource = aws_sqs_queue.this[key].arn
        }],
        contains(keys(local.dlq_subscribers), key) ? [{
          Sid      = "DeadLetterToOwnQueue"
          Effect   = "Allow"
          Action   = local.iam_actions.consumer_dead_letter_queue
          Resource = aws_sqs_queue.dead_letter[key].arn
        }] : [],
        [merge({
          Sid      = "DecryptWithQueueKey"
          Effect   = "Allow"
          Action   = contains(keys(local.dlq_subscribers), key) ? local.iam_actions.consumer_kms_with_dead_letter_queue : local.iam_actions.consumer_kms
          Resource = local.kms_iam_resource
        }, local.kms_condition)],
      )
    }
  }

  dead_letter_operator_policies = {
    for key in keys(local.dlq_subscribers) : key => {
      Version = "2012-10-17"
      Statement = [
        {
          Sid      = "ReadAndRedriveDeadLetters"
          Effect   = "Allow"
          Action   = local.iam_actions.dead_letter_operator_dead_letter_queue
          Resource = aws_sqs_queue.dead_letter[key].arn
        },
        {
          Sid      = "ReplayToSourceQueue"
          Effect   = "Allow"
          Action   = local.iam_actions.dead_letter_operator_source_queue
          Resource = aws_sqs_queue.this[key].arn
        },
        merge({ Sid = "DecryptAndReencrypt", Effect = "Allow", Action = local.iam_actions.dead_letter_operator_kms, Resource = local.kms_iam_resource }, local.kms_condition),
      ]
    }
  }
}

output "publisher_policy_json" {
  description = "IAM policy document (JSON) for a publisher: sns:Publish on the topic and kms:GenerateDataKey/kms:Decrypt on its key."
  value       = jsonencode(local.publisher_policy)
}

output "consumer_policy_json" {
  description = "IAM policy document (JSON) per subscriber: receive/delete/change visibility on its own queue only, kms:Decrypt, and sending to its own DLQ (the kit dead-letters poison messages itself)."
  value       = { for key, policy in local.consumer_policies : key => jsonencode(policy) }
}

output "dead_letter_operator_policy_json" {
  description = "IAM policy document (JSON) per subscriber with a DLQ: read/delete and the SQS redrive actions on the DLQ, sqs:SendMessage on the source queue."
  value       = { for key, policy in local.dead_letter_operator_policies : key => jsonencode(policy) }
}
