# TLS only: every policy the module writes (subscriber queues, DLQs, topic) denies requests without aws:SecureTransport,
# and statements the caller merges into the topic policy keep that deny.

mock_provider "aws" {
  override_during = plan
}

override_resource {
  target          = aws_sns_topic.this
  override_during = plan
  values          = { arn = "arn:aws:sns:eu-west-1:111111111111:orders-order-placed" }
}

override_resource {
  target          = aws_sqs_queue.this["billing"]
  override_during = plan
  values = {
    arn = "arn:aws:sqs:eu-west-1:111111111111:orders-order-placed-billing"
    url = "https://sqs.eu-west-1.amazonaws.com/111111111111/orders-order-placed-billing"
  }
}

override_resource {
  target          = aws_sqs_queue.dead_letter["billing"]
  override_during = plan
  values = {
    arn = "arn:aws:sqs:eu-west-1:111111111111:orders-order-placed-billing-dlq"
    url = "https://sqs.eu-west-1.amazonaws.com/111111111111/orders-order-placed-billing-dlq"
  }
}

override_resource {
  target          = aws_sqs_queue.this["audit"]
  override_during = plan
  values = {
    arn = "arn:aws:sqs:eu-west-1:111111111111:orders-order-placed-audit"
    url = "https://sqs.eu-west-1.amazonaws.com/111111111111/orders-order-placed-audit"
  }
}

variables {
  name = "orders-order-placed"
  subscribers = {
    billing = {}
    audit   = { create_dlq = false }
  }
}

run "queue_policy_denies_plain_http" {
  command = plan

  assert {
    condition = contains(jsondecode(aws_sqs_queue_policy.this["billing"].policy).Statement, {
      Sid       = "DenyInsecureTransport"
      Effect    = "Deny"
      Principal = "*"
      Action    = "sqs:*"
      Resource  = "arn:aws:sqs:eu-west-1:111111111111:orders-order-placed-billing"
      Condition = { Bool = { "aws:SecureTransport" = "false" } }
    })
    error_message = "the subscriber queue's policy must deny every sqs action without TLS"
  }
  assert {
    condition     = alltrue([for p in values(aws_sqs_queue_policy.this) : length([for st in jsondecode(p.policy).Statement : st if st.Effect == "Deny" && st.Condition == { Bool = { "aws:SecureTransport" = "false" } }]) == 1])
    error_message = "every subscriber queue (with or without a DLQ) carries the TLS-only deny"
  }
}

run "dlq_policy_denies_plain_http" {
  command = plan

  assert {
    condition = jsondecode(aws_sqs_queue_policy.dead_letter["billing"].policy).Statement == [{
      Sid       = "DenyInsecureTransport"
      Effect    = "Deny"
      Principal = "*"
      Action    = "sqs:*"
      Resource  = "arn:aws:sqs:eu-west-1:111111111111:orders-order-placed-billing-dlq"
      Condition = { Bool = { "aws:SecureTransport" = "false" } }
    }]
    error_message = "the DLQ gets a policy of its own that denies every sqs action without TLS"
  }
  assert {
    condition     = aws_sqs_queue_policy.dead_letter["billing"].queue_url == "https://sqs.eu-west-1.amazonaws.com/111111111111/orders-order-placed-billing-dlq" && keys(aws_sqs_queue_policy.dead_letter) == ["billing"]
    error_message = "the DLQ policy is on the DLQ, and only subscribers with a DLQ have one"
  }
}

run "topic_policy_denies_plain_http" {
  command = plan

  assert {
    condition = jsondecode(aws_sns_topic_policy.this.policy).Statement == [{
      Sid       = "DenyInsecureTransport"
      Effect    = "Deny"
      Principal = "*"
      Action    = ["sns:Publish", "sns:Subscribe"]
      Resource  = "arn:aws:sns:eu-west-1:111111111111:orders-order-placed"
      Condition = { Bool = { "aws:SecureTransport" = "false" } }
    }]
    error_message = "the topic policy must deny publishing and subscribing without TLS"
  }
  assert {
    condition     = aws_sns_topic_policy.this.arn == "arn:aws:sns:eu-west-1:111111111111:orders-order-placed"
    error_message = "the policy belongs to the module's topic"
  }
}

run "caller_statements_are_merged_before_the_deny" {
  command = plan

  variables {
    source_topic_policy_documents = [
      jsonencode({
        Version = "2012-10-17"
        Statement = [{
          Sid       = "S3Publishes"
          Effect    = "Allow"
          Principal = { Service = "s3.amazonaws.com" }
          Action    = "sns:Publish"
          Resource  = "*"
          Condition = { ArnLike = { "aws:SourceArn" = "arn:aws:s3:::orders-uploads" } }
        }]
      }),
      # A single statement as an object, as IAM also accepts.
      jsonencode({ Version = "2012-10-17", Statement = { Sid = "AuditReads", Effect = "Allow", Principal = { AWS = "arn:aws:iam::222222222222:root" }, Action = "sns:GetTopicAttributes", Resource = "*" } }),
    ]
  }

  assert {
    condition     = [for st in jsondecode(aws_sns_topic_policy.this.policy).Statement : st.Sid] == ["S3Publishes", "AuditReads", "DenyInsecureTransport"]
    error_message = "the caller's statements come first and the module's TLS deny is always kept"
  }
  assert {
    condition     = jsondecode(aws_sns_topic_policy.this.policy).Statement[0].Principal == { Service = "s3.amazonaws.com" }
    error_message = "merged statements are kept unchanged"
  }
}

run "source_document_without_statements" {
  command = plan

  variables {
    source_topic_policy_documents = ["{\"Version\": \"2012-10-17\"}"]
  }

  expect_failures = [var.source_topic_policy_documents]
}

run "source_document_not_json" {
  command = plan

  variables {
    source_topic_policy_documents = ["Allow everyone"]
  }

  expect_failures = [var.source_topic_policy_documents]
}

run "source_document_reusing_the_deny_sid" {
  command = plan

  variables {
    source_topic_policy_documents = [jsonencode({ Statement = [{ Sid = "DenyInsecureTransport", Effect = "Allow", Principal = "*", Action = "sns:Publish", Resource = "*" }] })]
  }

  expect_failures = [var.source_topic_policy_documents]
}
