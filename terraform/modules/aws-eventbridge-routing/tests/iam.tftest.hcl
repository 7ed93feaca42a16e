# Publisher and dead-letter operator policy documents (iam.tf): named actions on this bus and one DLQ each.

mock_provider "aws" {
  mock_data "aws_caller_identity" {
    defaults = { account_id = "123456789012" }
  }
  mock_data "aws_partition" {
    defaults = { partition = "aws" }
  }
  mock_data "aws_region" {
    defaults = { region = "eu-west-1" }
  }
}

override_resource {
  override_during = plan
  target          = aws_cloudwatch_event_bus.this
  values          = { arn = "arn:aws:events:eu-west-1:123456789012:event-bus/shop" }
}

override_resource {
  override_during = plan
  target          = aws_sqs_queue.dead_letter["big-orders"]
  values          = { arn = "arn:aws:sqs:eu-west-1:123456789012:shop-big-orders-dlq" }
}

variables {
  name = "shop"
  routes = {
    big-orders = {
      event_pattern = "{\"source\":[\"shop.orders\"]}"
      targets       = { review = { arn = "arn:aws:sqs:eu-west-1:123456789012:order-review" } }
    }
  }
}

run "publisher_puts_events_on_this_bus_only" {
  command = plan

  assert {
    condition = jsondecode(output.publisher_policy_json) == {
      Version   = "2012-10-17"
      Statement = [{ Sid = "PutEventsOnBus", Effect = "Allow", Action = ["events:PutEvents"], Resource = "arn:aws:events:eu-west-1:123456789012:event-bus/shop" }]
    }
    error_message = "a publisher may put events on this bus and do nothing else"
  }
}

run "dead_letter_operator_reads_the_routes_dlq_and_replays_to_the_bus" {
  command = plan

  assert {
    condition = jsondecode(output.dead_letter_operator_policy_json["big-orders"]).Statement == [
      { Sid = "ReadDeadLetters", Effect = "Allow", Action = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes", "sqs:GetQueueUrl"], Resource = "arn:aws:sqs:eu-west-1:123456789012:shop-big-orders-dlq" },
      { Sid = "ReplayToBus", Effect = "Allow", Action = ["events:PutEvents"], Resource = "arn:aws:events:eu-west-1:123456789012:event-bus/shop" },
    ]
    error_message = "SSE-SQS DLQs need no KMS statement; the operator reads one DLQ and puts events on the bus"
  }
  assert {
    condition = alltrue(flatten([
      for doc in concat([output.publisher_policy_json], values(output.dead_letter_operator_policy_json)) : [
        for s in jsondecode(doc).Statement : [!strcontains(s.Resource, "*"), alltrue([for a in s.Action : !strcontains(a, "*")])]
      ]
    ]))
    error_message = "no wildcard action or resource"
  }
}

run "a_customer_managed_dlq_key_is_decrypted_by_its_arn" {
  command = plan

  variables {
    dead_letter_kms_key_id = "1234abcd-12ab-34cd-56ef-1234567890ab"
  }

  assert {
    condition     = jsondecode(output.dead_letter_operator_policy_json["big-orders"]).Statement[2] == { Sid = "DecryptDeadLetters", Effect = "Allow", Action = ["kms:Decrypt"], Resource = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab" }
    error_message = "a key id becomes the key's ARN in this account and region"
  }
}
