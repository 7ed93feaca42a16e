# One expect_failures run per validation rule (and both ends of each range), plus a run at the accepted limits.

mock_provider "aws" {}

variables {
  name        = "orders-order-placed"
  subscribers = { billing = {} }
}

run "limits_are_accepted" {
  command = plan

  variables {
    name       = "nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn"
    fifo_topic = true
    subscribers = {
      b = {
        max_receive_count                       = 1000
        message_retention_seconds               = 61
        dlq_message_retention_seconds           = 1209600
        visibility_timeout_seconds              = 43200
        receive_wait_time_seconds               = 0
        age_of_oldest_message_threshold_seconds = 60
        filter_policy                           = "{}"
        filter_policy_scope                     = "MessageBody"
      }
    }
    kms_key_deletion_window_in_days = 7
  }

  assert {
    condition     = aws_sqs_queue.dead_letter["b"].name == "nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn-b-dlq.fifo" && length(aws_sqs_queue.dead_letter["b"].name) == 80
    error_message = "an 80-character FIFO DLQ name is the longest SQS accepts and must pass"
  }
}

run "name_with_illegal_characters" {
  command = plan

  variables {
    name = "orders.placed"
  }

  expect_failures = [var.name]
}

run "fifo_name_too_long_for_suffix" {
  command = plan

  variables {
    name              = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
    fifo_topic        = true
    kms_master_key_id = "alias/orders"
  }

  expect_failures = [var.name]
}

run "name_too_long_for_the_key_alias" {
  command = plan

  variables {
    name = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
  }

  expect_failures = [var.name]
}

run "content_based_deduplication_needs_fifo" {
  command = plan

  variables {
    content_based_deduplication = true
  }

  expect_failures = [var.content_based_deduplication]
}

run "aws_managed_key_rejected" {
  command = plan

  variables {
    kms_master_key_id = "alias/aws/sqs"
  }

  expect_failures = [var.kms_master_key_id]
}

run "aws_managed_key_alias_arn_rejected" {
  command = plan

  variables {
    kms_master_key_id = "arn:aws:kms:eu-west-1:111111111111:alias/aws/sns"
  }

  expect_failures = [var.kms_master_key_id]
}

# "" would reach aws_sns_topic/aws_sqs_queue as "no key": an unencrypted topic and queues.
run "empty_kms_key_rejected" {
  command = plan

  variables {
    kms_master_key_id = ""
  }

  expect_failures = [var.kms_master_key_id]
}

run "blank_kms_key_rejected" {
  command = plan

  variables {
    kms_master_key_id = "  "
  }

  expect_failures = [var.kms_master_key_id]
}

run "kms_key_that_is_no_key_reference_rejected" {
  command = plan

  variables {
    kms_master_key_id = "orders-key"
  }

  expect_failures = [var.kms_master_key_id]
}

run "every_kms_key_reference_form_is_accepted" {
  command = plan

  variables {
    kms_master_key_id = "arn:aws:kms:eu-west-1:111111111111:alias/orders"
  }

  assert {
    condition     = aws_sns_topic.this.kms_master_key_id == "arn:aws:kms:eu-west-1:111111111111:alias/orders" && length(aws_kms_key.this) == 0
    error_message = "an alias ARN is a customer managed key reference"
  }
}

run "kms_key_id_is_accepted" {
  command = plan

  variables {
    kms_master_key_id = "1234abcd-12ab-34cd-56ef-1234567890ab"
  }

  assert {
    condition     = aws_sqs_queue.this["billing"].kms_master_key_id == "1234abcd-12ab-34cd-56ef-1234567890ab"
    error_message = "a key id is accepted"
  }
}

run "multi_region_key_id_is_accepted" {
  command = plan

  variables {
    kms_master_key_id = "mrk-1234abcd12ab34cd56ef1234567890ab"
  }

  assert {
    condition     = aws_sqs_queue.dead_letter["billing"].kms_master_key_id == "mrk-1234abcd12ab34cd56ef1234567890ab"
    error_message = "a multi-Region key id is accepted"
  }
}

run "deletion_window_below_7_days" {
  command = plan

  variables {
    kms_key_deletion_window_in_days = 6
  }

  expect_failures = [var.kms_key_deletion_window_in_days]
}

run "deletion_window_above_30_days" {
  command = plan

  variables {
    kms_key_deletion_window_in_days = 31
  }

  expect_failures = [var.kms_key_deletion_window_in_days]
}

run "no_subscribers" {
  command = plan

  variables {
    subscribers = {}
  }

  expect_failures = [var.subscribers]
}

run "subscriber_name_with_space" {
  command = plan

  variables {
    subscribers = { "bill ing" = {} }
  }

  expect_failures = [var.subscribers]
}

run "queue_name_over_80_characters" {
  command = plan

  variables {
    subscribers = { bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb = {} }
  }

  expect_failures = [var.subscribers]
}

run "max_receive_count_zero" {
  command = plan

  variables {
    subscribers = { billing = { max_receive_count = 0 } }
  }

  expect_failures = [var.subscribers]
}

run "max_receive_count_over_1000" {
  command = plan

  variables {
    subscribers = { billing = { max_receive_count = 1001 } }
  }

  expect_failures = [var.subscribers]
}

run "max_receive_count_fractional" {
  command = plan

  variables {
    subscribers = { billing = { max_receive_count = 2.5 } }
  }

  expect_failures = [var.subscribers]
}

run "retention_below_60_seconds" {
  command = plan

  variables {
    subscribers = { billing = { message_retention_seconds = 59, age_of_oldest_message_threshold_seconds = 58 } }
  }

  expect_failures = [var.subscribers]
}

run "retention_over_14_days" {
  command = plan

  variables {
    # Without a DLQ, so that only the retention range (not the DLQ-vs-source rule) can fail.
    subscribers = { billing = { message_retention_seconds = 1209601, create_dlq = false } }
  }

  expect_failures = [var.subscribers]
}

run "dlq_retention_over_14_days" {
  command = plan

  variables {
    subscribers = { billing = { dlq_message_retention_seconds = 1209601 } }
  }

  expect_failures = [var.subscribers]
}

run "dlq_retention_shorter_than_source" {
  command = plan

  variables {
    subscribers = { billing = { message_retention_seconds = 86400, dlq_message_retention_seconds = 3600 } }
  }

  expect_failures = [var.subscribers]
}

run "visibility_timeout_over_12_hours" {
  command = plan

  variables {
    subscribers = { billing = { visibility_timeout_seconds = 43201 } }
  }

  expect_failures = [var.subscribers]
}

run "receive_wait_over_20_seconds" {
  command = plan

  variables {
    subscribers = { billing = { receive_wait_time_seconds = 21 } }
  }

  expect_failures = [var.subscribers]
}

run "filter_policy_not_json" {
  command = plan

  variables {
    subscribers = { billing = { filter_policy = "event_type = OrderPlaced" } }
  }

  expect_failures = [var.subscribers]
}

run "filter_policy_json_array" {
  command = plan

  variables {
    subscribers = { billing = { filter_policy = "[\"OrderPlaced\"]" } }
  }

  expect_failures = [var.subscribers]
}

run "filter_policy_scope_unknown" {
  command = plan

  variables {
    subscribers = { billing = { filter_policy = "{}", filter_policy_scope = "MessageHeaders" } }
  }

  expect_failures = [var.subscribers]
}

run "age_threshold_not_below_retention" {
  command = plan

  variables {
    subscribers = { billing = { message_retention_seconds = 600, age_of_oldest_message_threshold_seconds = 600 } }
  }

  expect_failures = [var.subscribers]
}

run "alarm_action_not_an_arn" {
  command = plan

  variables {
    alarm_actions = ["ops-alerts"]
  }

  expect_failures = [var.alarm_actions]
}
