# A FIFO topic makes every queue and DLQ FIFO: SNS FIFO topics deliver only to FIFO queues.

mock_provider "aws" {}

variables {
  name                        = "orders-payments"
  fifo_topic                  = true
  content_based_deduplication = true
  kms_master_key_id           = "alias/orders"
  subscribers = {
    ledger = { filter_policy = "{\"event_type\": [\"PaymentAuthorized\"]}" }
  }
}

run "fifo_topic_gets_fifo_queues" {
  command = plan

  assert {
    condition     = aws_sns_topic.this.name == "orders-payments.fifo" && aws_sns_topic.this.fifo_topic && aws_sns_topic.this.content_based_deduplication
    error_message = "the FIFO topic is named <name>.fifo and deduplicates by content"
  }
  assert {
    condition     = aws_sqs_queue.this["ledger"].name == "orders-payments-ledger.fifo" && aws_sqs_queue.this["ledger"].fifo_queue
    error_message = "the subscriber queue of a FIFO topic is FIFO"
  }
  assert {
    condition     = aws_sqs_queue.dead_letter["ledger"].name == "orders-payments-ledger-dlq.fifo" && aws_sqs_queue.dead_letter["ledger"].fifo_queue
    error_message = "the DLQ of a FIFO queue is FIFO too"
  }
  assert {
    condition     = aws_cloudwatch_metric_alarm.dead_letter_depth["ledger"].dimensions == tomap({ QueueName = "orders-payments-ledger-dlq.fifo" })
    error_message = "the DLQ alarm watches the FIFO DLQ by its full name"
  }
}

run "standard_topic_sets_no_deduplication" {
  command = plan

  variables {
    fifo_topic                  = false
    content_based_deduplication = false
  }

  assert {
    condition     = aws_sns_topic.this.name == "orders-payments" && aws_sns_topic.this.content_based_deduplication != true
    error_message = "a standard topic has no .fifo suffix and no content-based deduplication"
  }
  assert {
    condition     = aws_sqs_queue.dead_letter["ledger"].name == "orders-payments-ledger-dlq" && !aws_sqs_queue.dead_letter["ledger"].fifo_queue
    error_message = "a standard topic gets standard queues"
  }
}
