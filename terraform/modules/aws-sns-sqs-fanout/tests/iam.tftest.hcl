# The least-privilege policy documents (iam.tf): exact actions on exactly the topic, queue and key each identity
# needs; no wildcard action anywhere and no "*" resource.

mock_provider "aws" {
  override_during = plan

  mock_data "aws_caller_identity" {
    defaults = { account_id = "111111111111" }
  }
  mock_data "aws_partition" {
    defaults = { partition = "aws" }
  }
  mock_data "aws_region" {
    defaults = { region = "eu-west-1" }
  }
}

override_resource {
  target          = aws_sns_topic.this
  override_during = plan
  values          = { arn = "arn:aws:sns:eu-west-1:111111111111:orders" }
}

override_resource {
  target          = aws_kms_key.this[0]
  override_during = plan
  values          = { arn = "arn:aws:kms:eu-west-1:111111111111:key/mock-cmk", key_id = "mock-cmk" }
}

override_resource {
  target          = aws_sqs_queue.this["billing"]
  override_during = plan
  values          = { arn = "arn:aws:sqs:eu-west-1:111111111111:orders-billing" }
}

override_resource {
  target          = aws_sqs_queue.dead_letter["billing"]
  override_during = plan
  values          = { arn = "arn:aws:sqs:eu-west-1:111111111111:orders-billing-dlq" }
}

override_resource {
  target          = aws_sqs_queue.this["audit"]
  override_during = plan
  values          = { arn = "arn:aws:sqs:eu-west-1:111111111111:orders-audit" }
}

variables {
  name = "orders"
  subscribers = {
    billing = {}
    audit   = { create_dlq = false }
  }
}

run "publisher_may_publish_to_the_topic_with_its_key" {
  command = plan

  assert {
    condition = jsondecode(output.publisher_policy_json) == {
      Version = "2012-10-17"
      Statement = [
        { Sid = "PublishToTopic", Effect = "Allow", Action = ["sns:Publish"], Resource = "arn:aws:sns:eu-west-1:111111111111:orders" },
        { Sid = "EncryptWithTopicKey", Effect = "Allow", Action = ["kms:GenerateDataKey", "kms:Decrypt"], Resource = "arn:aws:kms:eu-west-1:111111111111:key/mock-cmk" },
      ]
    }
    error_message = "the publisher gets sns:Publish on the topic and the data-key actions on the topic's key, nothing else"
  }
}

run "each_consumer_reads_its_own_queue_only" {
  command = plan

  assert {
    condition = jsondecode(output.consumer_policy_json["billing"]).Statement == [
      { Sid = "ConsumeOwnQueue", Effect = "Allow", Action = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes", "sqs:GetQueueUrl"], Resource = "arn:aws:sqs:eu-west-1:111111111111:orders-billing" },
      { Sid = "DeadLetterToOwnQueue", Effect = "Allow", Action = ["sqs:SendMessage", "sqs:GetQueueUrl"], Resource = "arn:aws:sqs:eu-west-1:111111111111:orders-billing-dlq" },
      { Sid = "DecryptWithQueueKey", Effect = "Allow", Action = ["kms:Decrypt", "kms:GenerateDataKey"], Resource = "arn:aws:kms:eu-west-1:111111111111:key/mock-cmk" },
    ]
    error_message = "billing consumes its own queue, dead-letters into its own DLQ, and uses the queues' key"
  }
  assert {
    condition = jsondecode(output.consumer_policy_json["audit"]).Statement == [
      { Sid = "ConsumeOwnQueue", Effect = "Allow", Action = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes", "sqs:GetQueueUrl"], Resource = "arn:aws:sqs:eu-west-1:111111111111:orders-audit" },
      { Sid = "DecryptWithQueueKey", Effect = "Allow", Action = ["kms:Decrypt"], Resource = "arn:aws:kms:eu-west-1:111111111111:key/mock-cmk" },
    ]
    error_message = "audit has no DLQ: no send permission anywhere, decrypt only"
  }
}

run "dead_letter_operator_redrives_one_dlq_into_its_source" {
  command = plan

  assert {
    condition     = keys(output.dead_letter_operator_policy_json) == ["billing"]
    error_message = "only subscribers with a DLQ get an operator policy"
  }
  assert {
    condition = jsondecode(output.dead_letter_operator_policy_json["billing"]).Statement == [
      { Sid = "ReadAndRedriveDeadLetters", Effect = "Allow", Action = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes", "sqs:GetQueueUrl", "sqs:StartMessageMoveTask", "sqs:ListMessageMoveTasks", "sqs:CancelMessageMoveTask"], Resource = "arn:aws:sqs:eu-west-1:111111111111:orders-billing-dlq" },
      { Sid = "ReplayToSourceQueue", Effect = "Allow", Action = ["sqs:SendMessage", "sqs:GetQueueAttributes", "sqs:GetQueueUrl"], Resource = "arn:aws:sqs:eu-west-1:111111111111:orders-billing" },
      { Sid = "DecryptAndReencrypt", Effect = "Allow", Action = ["kms:Decrypt", "kms:GenerateDataKey"], Resource = "arn:aws:kms:eu-west-1:111111111111:key/mock-cmk" },
    ]
    error_message = "the operator reads and redrives the DLQ and sends back to the source queue only"
  }
}

run "no_wildcard_action_or_resource_in_any_policy" {
  command = plan

  assert {
    condition = alltrue(flatten([
      for doc in concat([output.publisher_policy_json], values(output.consumer_policy_json), values(output.dead_letter_operator_policy_json)) : [
        for s in jsondecode(doc).Statement : [
          s.Effect == "Allow", !strcontains(s.Resource, "*"), alltrue([for a in s.Action : !strcontains(a, "*")]),
        ]
      ]
    ]))
    error_message = "every statement allows named actions on named resources"
  }
}

run "a_given_key_id_is_named_by_its_arn" {
  command = plan

  variables {
    kms_master_key_id = "1234abcd-12ab-34cd-56ef-1234567890ab"
  }

  assert {
    condition     = jsondecode(output.publisher_policy_json).Statement[1].Resource == "arn:aws:kms:eu-west-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    error_message = "a key id becomes the key's ARN in this account and region"
  }
}

run "a_given_alias_is_matched_by_kms_resource_aliases" {
  command = plan

  variables {
    kms_master_key_id = "alias/orders-cmk"
  }

  assert {
    condition = jsondecode(output.consumer_policy_json["billing"]).Statement[2] == {
      Sid       = "DecryptWithQueueKey", Effect = "Allow", Action = ["kms:Decrypt", "kms:GenerateDataKey"]
      Resource  = "arn:aws:kms:eu-west-1:111111111111:key/*"
      Condition = { "ForAnyValue:StringEquals" = { "kms:ResourceAliases" = ["alias/orders-cmk"] } }
    }
    error_message = "an alias cannot be an IAM resource: the account's keys in the region, only the one with that alias"
  }
}
