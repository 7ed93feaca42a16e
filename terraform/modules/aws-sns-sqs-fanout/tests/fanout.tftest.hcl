# Plan-time checks of the standard fan-out: names, redrive wiring, policies, subscriptions, alarms, encryption.
# ARNs and URLs are computed by AWS, so they are overridden during plan to make the JSON documents assertable.

mock_provider "aws" {
  override_during = plan

  mock_data "aws_caller_identity" {
    defaults = { account_id = "111111111111" }
  }
  mock_data "aws_partition" {
    defaults = { partition = "aws" }
  }
}

override_resource {
  target          = aws_sns_topic.this
  override_during = plan
  values          = { arn = "arn:aws:sns:eu-west-1:111111111111:orders-order-placed" }
}

override_resource {
  target          = aws_kms_key.this[0]
  override_during = plan
  values          = { arn = "arn:aws:kms:eu-west-1:111111111111:key/mock-cmk", key_id = "mock-cmk" }
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
  target          = aws_sqs_queue.this["email"]
  override_during = plan
  values = {
    arn = "arn:aws:sqs:eu-west-1:111111111111:orders-order-placed-email"
    url = "https://sqs.eu-west-1.amazonaws.com/111111111111/orders-order-placed-email"
  }
}

override_resource {
  target          = aws_sqs_queue.dead_letter["email"]
  override_during = plan
  values = {
    arn = "arn:aws:sqs:eu-west-1:111111111111:orders-order-placed-email-dlq"
    url = "https://sqs.eu-west-1.amazonaws.com/111111111111/orders-order-placed-email-dlq"
  }
}

variables {
  name = "orders-order-placed"
  subscribers = {
    billing = {
      filter_policy        = "{\"event_type\": [\"OrderPlaced\"], \"total\": [{\"numeric\": [\">\", 0]}]}"
      raw_message_delivery = true
      max_receive_count    = 3
    }
    email = {
      filter_policy                           = "{\"customer\": {\"marketing_opt_in\": [true]}}"
      filter_policy_scope                     = "MessageBody"
      message_retention_seconds               = 86400
      dlq_message_retention_seconds           = 86400
      visibility_timeout_seconds              = 120
      age_of_oldest_message_threshold_seconds = 300
    }
    audit = {}
  }
  alarm_actions = ["arn:aws:sns:eu-west-1:111111111111:ops-alerts"]
  tags          = { team = "orders" }
}

run "names_follow_the_convention" {
  command = plan

  assert {
    condition     = aws_sns_topic.this.name == "orders-order-placed" && !aws_sns_topic.this.fifo_topic
    error_message = "a standard topic keeps its name without a .fifo suffix"
  }
  assert {
    condition     = { for k, q in aws_sqs_queue.this : k => q.name } == { audit = "orders-order-placed-audit", billing = "orders-order-placed-billing", email = "orders-order-placed-email" }
    error_message = "subscriber queues are named <name>-<subscriber>"
  }
  assert {
    condition     = { for k, q in aws_sqs_queue.dead_letter : k => q.name } == { audit = "orders-order-placed-audit-dlq", billing = "orders-order-placed-billing-dlq", email = "orders-order-placed-email-dlq" }
    error_message = "DLQs are named <name>-<subscriber>-dlq"
  }
  assert {
    condition     = alltrue([for q in concat(values(aws_sqs_queue.this), values(aws_sqs_queue.dead_letter)) : !q.fifo_queue && q.tags == tomap({ team = "orders" })])
    error_message = "queues of a standard topic are standard and carry the module tags"
  }
}

run "queue_settings_come_from_the_subscriber" {
  command = plan

  assert {
    condition     = aws_sqs_queue.this["email"].visibility_timeout_seconds == 120 && aws_sqs_queue.this["email"].message_retention_seconds == 86400 && aws_sqs_queue.dead_letter["email"].message_retention_seconds == 86400
    error_message = "email's own visibility timeout and retention must be planned"
  }
  assert {
    condition     = aws_sqs_queue.this["audit"].visibility_timeout_seconds == 30 && aws_sqs_queue.this["audit"].message_retention_seconds == 345600 && aws_sqs_queue.this["audit"].receive_wait_time_seconds == 20 && aws_sqs_queue.dead_letter["audit"].message_retention_seconds == 1209600
    error_message = "audit sets nothing, so it gets the defaults: 30 s visibility, 4 days retention, long polling, 14-day DLQ"
  }
}

run "redrive_policy_sends_to_the_subscribers_own_dlq" {
  command = plan

  assert {
    condition     = jsondecode(aws_sqs_queue_redrive_policy.this["billing"].redrive_policy) == { deadLetterTargetArn = "arn:aws:sqs:eu-west-1:111111111111:orders-order-placed-billing-dlq", maxReceiveCount = 3 }
    error_message = "billing must dead-letter to its own DLQ after 3 receives"
  }
  assert {
    condition     = aws_sqs_queue_redrive_policy.this["billing"].queue_url == "https://sqs.eu-west-1.amazonaws.com/111111111111/orders-order-placed-billing"
    error_message = "the redrive policy belongs on the source queue"
  }
  assert {
    condition     = jsondecode(aws_sqs_queue_redrive_policy.this["email"].redrive_policy).maxReceiveCount == 5
    error_message = "max_receive_count defaults to 5"
  }
}

run "dlq_accepts_only_its_source_queue" {
  command = plan

  assert {
    condition     = jsondecode(aws_sqs_queue_redrive_allow_policy.this["billing"].redrive_allow_policy) == { redrivePermission = "byQueue", sourceQueueArns = ["arn:aws:sqs:eu-west-1:111111111111:orders-order-placed-billing"] }
    error_message = "billing's DLQ must allow redrive only from billing's queue"
  }
  assert {
    condition     = aws_sqs_queue_redrive_allow_policy.this["billing"].queue_url == "https://sqs.eu-west-1.amazonaws.com/111111111111/orders-order-placed-billing-dlq"
    error_message = "the redrive allow policy belongs on the DLQ"
  }
}

run "only_this_topic_may_send_to_the_queue" {
  command = plan

  assert {
    condition = [for st in jsondecode(aws_sqs_queue_policy.this["billing"].policy).Statement : st if st.Effect == "Allow"] == [{
      Sid       = "TopicSendsMessages"
      Effect    = "Allow"
      Principal = { Service = "sns.amazonaws.com" }
      Action    = "sqs:SendMessage"
      Resource  = "arn:aws:sqs:eu-west-1:111111111111:orders-order-placed-billing"
      Condition = { ArnEquals = { "aws:SourceArn" = "arn:aws:sns:eu-west-1:111111111111:orders-order-placed" } }
    }]
    error_message = "the queue policy must let SNS send only on behalf of this topic (its only Allow; tls_only.tftest.hcl checks the Deny)"
  }
  assert {
    condition     = length(aws_sqs_queue_policy.this) == 3 && !contains(keys(aws_sqs_queue_policy.this), "billing-dlq")
    error_message = "one queue policy per subscriber queue"
  }
}

run "subscriptions_carry_filters_and_delivery_mode" {
  command = plan

  assert {
    condition     = aws_sns_topic_subscription.this["billing"].protocol == "sqs" && aws_sns_topic_subscription.this["billing"].endpoint == "arn:aws:sqs:eu-west-1:111111111111:orders-order-placed-billing" && aws_sns_topic_subscription.this["billing"].topic_arn == "arn:aws:sns:eu-west-1:111111111111:orders-order-placed"
    error_message = "billing subscribes its own queue to the topic"
  }
  assert {
    condition     = jsondecode(aws_sns_topic_subscription.this["billing"].filter_policy) == { event_type = ["OrderPlaced"], total = [{ numeric = [">", 0] }] }
    error_message = "billing's filter policy must be planned unchanged"
  }
  assert {
    condition     = aws_sns_topic_subscription.this["billing"].filter_policy_scope == "MessageAttributes" && aws_sns_topic_subscription.this["billing"].raw_message_delivery
    error_message = "billing filters on message attributes (the default scope) and gets raw delivery"
  }
  assert {
    condition     = aws_sns_topic_subscription.this["email"].filter_policy_scope == "MessageBody" && !aws_sns_topic_subscription.this["email"].raw_message_delivery
    error_message = "email filters on the message body and keeps the SNS envelope"
  }
  assert {
    condition     = aws_sns_topic_subscription.this["audit"].filter_policy == null && aws_sns_topic_subscription.this["audit"].filter_policy_scope == null
    error_message = "audit receives everything: no filter policy and no scope (the AWS provider rejects a scope without a policy)"
  }
}

run "alarms_watch_dlq_depth_and_oldest_message" {
  command = plan

  assert {
    condition = (
      aws_cloudwatch_metric_alarm.dead_letter_depth["billing"].namespace == "AWS/SQS"
      && aws_cloudwatch_metric_alarm.dead_letter_depth["billing"].metric_name == "ApproximateNumberOfMessagesVisible"
      && aws_cloudwatch_metric_alarm.dead_letter_depth["billing"].dimensions == tomap({ QueueName = "orders-order-placed-billing-dlq" })
      && aws_cloudwatch_metric_alarm.dead_letter_depth["billing"].comparison_operator == "GreaterThanThreshold"
      && aws_cloudwatch_metric_alarm.dead_letter_depth["billing"].threshold == 0
      && aws_cloudwatch_metric_alarm.dead_letter_depth["billing"].period == 60
      && aws_cloudwatch_metric_alarm.dead_letter_depth["billing"].evaluation_periods == 1
    )
    error_message = "the DLQ alarm fires as soon as billing's DLQ holds a message"
  }
  assert {
    condition = (
      aws_cloudwatch_metric_alarm.oldest_message_age["email"].metric_name == "ApproximateAgeOfOldestMessage"
      && aws_cloudwatch_metric_alarm.oldest_message_age["email"].dimensions == tomap({ QueueName = "orders-order-placed-email" })
      && aws_cloudwatch_metric_alarm.oldest_message_age["email"].threshold == 300
      && aws_cloudwatch_metric_alarm.oldest_message_age["audit"].threshold == 600
    )
    error_message = "the age alarm watches the source queue with the subscriber's threshold (default 600 s)"
  }
  assert {
    condition     = alltrue([for a in concat(values(aws_cloudwatch_metric_alarm.dead_letter_depth), values(aws_cloudwatch_metric_alarm.oldest_message_age)) : a.alarm_actions == toset(["arn:aws:sns:eu-west-1:111111111111:ops-alerts"]) && a.treat_missing_data == "notBreaching"])
    error_message = "every alarm notifies alarm_actions and treats an idle queue as healthy"
  }
  assert {
    condition     = output.alarm_names["billing"] == { dead_letter_depth = "orders-order-placed-billing-dlq-not-empty", oldest_message_age = "orders-order-placed-billing-oldest-message-age", backlog = "orders-order-placed-billing-backlog", dlq_depth = "orders-order-placed-billing-dlq-not-empty" }
    error_message = "alarm_names lists the three alarms per subscriber (and the deprecated dlq_depth alias)"
  }
}

run "module_creates_a_key_sns_and_sqs_can_use" {
  command = plan

  assert {
    condition     = length(aws_kms_key.this) == 1 && aws_kms_key.this[0].enable_key_rotation && aws_kms_alias.this[0].name == "alias/orders-order-placed"
    error_message = "without kms_master_key_id the module creates a rotated CMK with an alias"
  }
  assert {
    condition = jsondecode(aws_kms_key.this[0].policy).Statement[0] == {
      Sid       = "AccountAdministersKey"
      Effect    = "Allow"
      Principal = { AWS = "arn:aws:iam::111111111111:root" }
      Action    = "kms:*"
      Resource  = "*"
    }
    error_message = "the key policy must keep the account in control of the key"
  }
  assert {
    condition = (
      toset(jsondecode(aws_kms_key.this[0].policy).Statement[1].Principal.Service) == toset(["sns.amazonaws.com", "sqs.amazonaws.com"])
      && toset(jsondecode(aws_kms_key.this[0].policy).Statement[1].Action) == toset(["kms:GenerateDataKey*", "kms:Decrypt"])
      && jsondecode(aws_kms_key.this[0].policy).Statement[1].Condition == { StringEquals = { "aws:SourceAccount" = "111111111111" } }
    )
    error_message = "SNS and SQS may use the key, only on behalf of this account"
  }
  assert {
    condition     = aws_sns_topic.this.kms_master_key_id == "arn:aws:kms:eu-west-1:111111111111:key/mock-cmk" && alltrue([for q in concat(values(aws_sqs_queue.this), values(aws_sqs_queue.dead_letter)) : q.kms_master_key_id == "arn:aws:kms:eu-west-1:111111111111:key/mock-cmk"])
    error_message = "the topic and every queue use the module's key"
  }
}

run "given_key_replaces_the_module_key" {
  command = plan

  variables {
    kms_master_key_id = "arn:aws:kms:eu-west-1:111111111111:key/shared"
  }

  assert {
    condition     = length(aws_kms_key.this) == 0 && length(aws_kms_alias.this) == 0
    error_message = "a given key means no module-created key"
  }
  assert {
    condition     = aws_sns_topic.this.kms_master_key_id == "arn:aws:kms:eu-west-1:111111111111:key/shared" && alltrue([for q in concat(values(aws_sqs_queue.this), values(aws_sqs_queue.dead_letter)) : q.kms_master_key_id == "arn:aws:kms:eu-west-1:111111111111:key/shared"])
    error_message = "the topic and every queue use the given key"
  }
  assert {
    condition     = output.kms_key_arn == "arn:aws:kms:eu-west-1:111111111111:key/shared"
    error_message = "kms_key_arn reports the given key"
  }
}

run "outputs_map_subscribers_to_queues" {
  command = plan

  assert {
    condition     = output.topic_arn == "arn:aws:sns:eu-west-1:111111111111:orders-order-placed"
    error_message = "topic_arn is the topic's ARN"
  }
  assert {
    condition     = output.queue_urls["billing"] == "https://sqs.eu-west-1.amazonaws.com/111111111111/orders-order-placed-billing" && output.dead_letter_queue_arns["email"] == "arn:aws:sqs:eu-west-1:111111111111:orders-order-placed-email-dlq"
    error_message = "queue and DLQ outputs are keyed by subscriber"
  }
  assert {
    condition     = keys(output.queue_arns) == ["audit", "billing", "email"] && keys(output.dead_letter_queue_urls) == ["audit", "billing", "email"]
    error_message = "every subscriber appears in the outputs"
  }
  assert {
    condition     = output.dead_letter_alarm_names == { audit = "orders-order-placed-audit-dlq-not-empty", billing = "orders-order-placed-billing-dlq-not-empty", email = "orders-order-placed-email-dlq-not-empty" }
    error_message = "dead_letter_alarm_names names each subscriber's DLQ alarm"
  }
  assert {
    condition     = keys(output.dlq_arns) == keys(output.dead_letter_queue_arns) && keys(output.dlq_urls) == keys(output.dead_letter_queue_urls) && alltrue([for key in ["billing", "email"] : output.dlq_arns[key] == output.dead_letter_queue_arns[key] && output.dlq_urls[key] == output.dead_letter_queue_urls[key]]) && alltrue([for key, names in output.alarm_names : names.dlq_depth == names.dead_letter_depth])
    error_message = "the deprecated outputs dlq_arns, dlq_urls and alarm_names[*].dlq_depth stay equal to their new names for one release"
  }
}

run "subscriber_without_dlq" {
  command = plan

  variables {
    subscribers = {
      billing = {}
      audit   = { create_dlq = false, message_retention_seconds = 1209600, dlq_message_retention_seconds = 60 }
    }
  }

  assert {
    condition     = keys(aws_sqs_queue.dead_letter) == ["billing"] && keys(aws_sqs_queue_redrive_policy.this) == ["billing"] && keys(aws_sqs_queue_redrive_allow_policy.this) == ["billing"] && keys(aws_cloudwatch_metric_alarm.dead_letter_depth) == ["billing"]
    error_message = "create_dlq = false leaves out audit's DLQ, its redrive policies and its DLQ alarm (and skips the DLQ retention rule)"
  }
  assert {
    condition     = keys(aws_sqs_queue.this) == ["audit", "billing"] && keys(aws_cloudwatch_metric_alarm.oldest_message_age) == ["audit", "billing"]
    error_message = "audit still gets its queue and its age alarm"
  }
  assert {
    condition     = output.alarm_names["audit"].dead_letter_depth == null && output.alarm_names["billing"].dead_letter_depth == "orders-order-placed-billing-dlq-not-empty" && keys(output.dead_letter_alarm_names) == ["billing"] && keys(output.dead_letter_queue_urls) == ["billing"]
    error_message = "alarm_names reports no DLQ alarm for audit"
  }
}
