# Queue policies: the module writes the policies of the dead-letter queues it creates (EventBridge may send, TLS only)
# and never the policy of a target queue it did not create: for those it outputs the statements to merge.

mock_provider "aws" {}

override_resource {
  override_during = plan
  target          = aws_cloudwatch_event_rule.this["big-orders"]
  values          = { arn = "arn:aws:events:eu-west-1:123456789012:rule/shop/big-orders" }
}

override_resource {
  override_during = plan
  target          = aws_cloudwatch_event_rule.this["cancellations"]
  values          = { arn = "arn:aws:events:eu-west-1:123456789012:rule/shop/cancellations" }
}

override_resource {
  override_during = plan
  target          = aws_sqs_queue.dead_letter["big-orders"]
  values = {
    arn = "arn:aws:sqs:eu-west-1:123456789012:shop-big-orders-dlq"
    url = "https://sqs.eu-west-1.amazonaws.com/123456789012/shop-big-orders-dlq"
  }
}

override_resource {
  override_during = plan
  target          = aws_sqs_queue.dead_letter["cancellations"]
  values = {
    arn = "arn:aws:sqs:eu-west-1:123456789012:shop-cancellations-dlq"
    url = "https://sqs.eu-west-1.amazonaws.com/123456789012/shop-cancellations-dlq"
  }
}

variables {
  name = "shop"
  routes = {
    big-orders = {
      event_pattern = "{\"source\":[\"shop.orders\"]}"
      targets = {
        review  = { arn = "arn:aws:sqs:eu-west-1:123456789012:order-review" }
        ledger  = { arn = "arn:aws:sqs:eu-west-1:123456789012:ledger.fifo", message_group_id = "orders" }
        archive = { arn = "arn:aws:lambda:eu-west-1:123456789012:function:archive" }
      }
    }
    cancellations = {
      event_pattern = "{\"source\":[\"shop.orders\"],\"detail-type\":[\"OrderCancelled\"]}"
      targets       = { review = { arn = "arn:aws:sqs:eu-west-1:123456789012:order-review" } }
    }
  }
}

run "dead_letter_queue_policy_allows_its_rule_over_tls_only" {
  command = plan

  assert {
    condition = jsondecode(aws_sqs_queue_policy.dead_letter["big-orders"].policy).Statement == [
      {
        Sid       = "EventBridgeDeadLetters"
        Effect    = "Allow"
        Principal = { Service = "events.amazonaws.com" }
        Action    = "sqs:SendMessage"
        Resource  = "arn:aws:sqs:eu-west-1:123456789012:shop-big-orders-dlq"
        Condition = { ArnEquals = { "aws:SourceArn" = "arn:aws:events:eu-west-1:123456789012:rule/shop/big-orders" } }
      },
      {
        Sid       = "DenyInsecureTransport"
        Effect    = "Deny"
        Principal = "*"
        Action    = "sqs:*"
        Resource  = "arn:aws:sqs:eu-west-1:123456789012:shop-big-orders-dlq"
        Condition = { Bool = { "aws:SecureTransport" = "false" } }
      },
    ]
    error_message = "a route's DLQ accepts only its own rule's dead letters, and nothing without TLS"
  }
  assert {
    condition     = alltrue([for p in values(aws_sqs_queue_policy.dead_letter) : contains([for st in jsondecode(p.policy).Statement : st.Sid if st.Effect == "Deny" && st.Principal == "*" && st.Condition == { Bool = { "aws:SecureTransport" = "false" } }], "DenyInsecureTransport")])
    error_message = "every DLQ policy carries the TLS-only deny"
  }
}

run "target_queue_policies_are_output_never_written" {
  command = plan

  assert {
    condition     = keys(output.target_queue_policies) == ["arn:aws:sqs:eu-west-1:123456789012:ledger.fifo", "arn:aws:sqs:eu-west-1:123456789012:order-review"]
    error_message = "one policy document per SQS target queue (a queue targeted by two rules gets one), none for other targets"
  }
  assert {
    condition = jsondecode(output.target_queue_policies["arn:aws:sqs:eu-west-1:123456789012:order-review"]) == {
      Version = "2012-10-17"
      Statement = [
        {
          Sid       = "EventBridgeRules"
          Effect    = "Allow"
          Principal = { Service = "events.amazonaws.com" }
          Action    = "sqs:SendMessage"
          Resource  = "arn:aws:sqs:eu-west-1:123456789012:order-review"
          Condition = { ArnEquals = { "aws:SourceArn" = ["arn:aws:events:eu-west-1:123456789012:rule/shop/big-orders", "arn:aws:events:eu-west-1:123456789012:rule/shop/cancellations"] } }
        },
        {
          Sid       = "DenyInsecureTransport"
          Effect    = "Deny"
          Principal = "*"
          Action    = "sqs:*"
          Resource  = "arn:aws:sqs:eu-west-1:123456789012:order-review"
          Condition = { Bool = { "aws:SecureTransport" = "false" } }
        },
      ]
    }
    error_message = "the document to merge lets only the rules targeting the queue send, and denies requests without TLS"
  }
}

run "owned_policy_is_forgotten_not_deleted" {
  command = plan

  # Only the DLQs' policies are resources of this module: a target queue's policy belongs to its owner.
  assert {
    condition     = keys(aws_sqs_queue_policy.dead_letter) == ["big-orders", "cancellations"]
    error_message = "the module writes queue policies only for the dead-letter queues it creates"
  }
}

run "rejects_sqs_queue_url" {
  command = plan
  variables {
    routes = { r = { event_pattern = "{}", targets = { t = { arn = "arn:aws:sqs:eu-west-1:123456789012:q", sqs_queue_url = "https://sqs.eu-west-1.amazonaws.com/123456789012/q" } } } }
  }
  expect_failures = [var.routes]
}

run "rejects_empty_bus_key" {
  command = plan
  variables {
    kms_key_identifier = ""
  }
  expect_failures = [var.kms_key_identifier]
}

run "rejects_aws_managed_bus_key" {
  command = plan
  variables {
    kms_key_identifier = "alias/aws/events"
  }
  expect_failures = [var.kms_key_identifier]
}

# "" would leave the DLQs with neither SSE-SQS nor a KMS key: unencrypted dead letters.
run "rejects_empty_dead_letter_key" {
  command = plan
  variables {
    dead_letter_kms_key_id = ""
  }
  expect_failures = [var.dead_letter_kms_key_id]
}

run "rejects_dead_letter_key_that_is_no_key_reference" {
  command = plan
  variables {
    dead_letter_kms_key_id = " "
  }
  expect_failures = [var.dead_letter_kms_key_id]
}

run "rejects_aws_managed_dead_letter_key" {
  command = plan
  variables {
    dead_letter_kms_key_id = "arn:aws:kms:eu-west-1:123456789012:alias/aws/sqs"
  }
  expect_failures = [var.dead_letter_kms_key_id]
}

run "accepts_key_arns" {
  command = plan
  variables {
    kms_key_identifier     = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    dead_letter_kms_key_id = "1234abcd-12ab-34cd-56ef-1234567890ab"
  }
  assert {
    condition     = aws_sqs_queue.dead_letter["big-orders"].kms_master_key_id == "1234abcd-12ab-34cd-56ef-1234567890ab"
    error_message = "a key id is a valid dead-letter key"
  }
}
