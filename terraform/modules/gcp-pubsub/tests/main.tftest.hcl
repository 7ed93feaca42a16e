mock_provider "google" {}

override_data {
  override_during = plan
  target          = data.google_project.this
  values = {
    number = "123456789012"
  }
}

variables {
  project_id = "shop-prod"
  topic_name = "order-events"
  subscriptions = {
    billing = {
      filter = "attributes.type = \"OrderPlaced\""
    }
    email = {
      push = {
        endpoint                   = "https://email.example.com/push"
        oidc_service_account_email = "pusher@shop-prod.iam.gserviceaccount.com"
      }
      dead_letter_policy = { enabled = false }
    }
  }
}

run "dead_letter_topic_subscription_and_iam_only_where_a_dlq_exists" {
  command = plan

  assert {
    condition     = keys(google_pubsub_topic.dead_letter) == ["billing"] && google_pubsub_topic.dead_letter["billing"].name == "billing-dlq"
    error_message = "Only the billing subscription should get a dead-letter topic named billing-dlq."
  }
  assert {
    condition     = google_pubsub_subscription.dead_letter["billing"].name == "billing-dlq" && google_pubsub_subscription.dead_letter["billing"].expiration_policy[0].ttl == ""
    error_message = "The dead-letter topic needs a never-expiring subscription, or dead letters are lost."
  }
  assert {
    condition     = google_pubsub_topic_iam_member.dead_letter_publisher["billing"].role == "roles/pubsub.publisher" && google_pubsub_topic_iam_member.dead_letter_publisher["billing"].member == "serviceAccount:service-123456789012@gcp-sa-pubsub.iam.gserviceaccount.com"
    error_message = "The Pub/Sub service agent must be publisher on the DLQ topic."
  }
  assert {
    condition     = google_pubsub_subscription_iam_member.source_subscriber["billing"].role == "roles/pubsub.subscriber" && google_pubsub_subscription_iam_member.source_subscriber["billing"].subscription == "billing"
    error_message = "The Pub/Sub service agent must be subscriber on the source subscription."
  }
  assert {
    condition     = length(google_pubsub_topic_iam_member.dead_letter_publisher) == 1 && length(google_pubsub_subscription_iam_member.source_subscriber) == 1
    error_message = "No IAM bindings may be created for subscriptions without a DLQ."
  }
  assert {
    condition     = google_pubsub_subscription.this["billing"].dead_letter_policy[0].max_delivery_attempts == 5 && length(google_pubsub_subscription.this["email"].dead_letter_policy) == 0
    error_message = "billing dead-letters after 5 attempts; email has no dead-letter policy."
  }
  assert {
    condition     = google_pubsub_subscription.this["billing"].filter == "attributes.type = \"OrderPlaced\"" && google_pubsub_subscription.this["billing"].expiration_policy[0].ttl == ""
    error_message = "The filter is passed through and subscriptions never expire."
  }
  assert {
    condition     = google_pubsub_subscription.this["email"].push_config[0].push_endpoint == "https://email.example.com/push" && google_pubsub_subscription.this["email"].push_config[0].oidc_token[0].service_account_email == "pusher@shop-prod.iam.gserviceaccount.com"
    error_message = "email is a push subscription with an OIDC token."
  }
  assert {
    condition     = length(google_pubsub_subscription.this["billing"].push_config) == 0
    error_message = "billing is a pull subscription."
  }
  assert {
    condition     = keys(google_monitoring_alert_policy.dead_letters) == ["billing"] && length(google_monitoring_alert_policy.oldest_unacked) == 2
    error_message = "One dead-letter alert per DLQ and one backlog-age alert per subscription."
  }
  assert {
    condition     = strcontains(google_monitoring_alert_policy.oldest_unacked["email"].conditions[0].condition_threshold[0].filter, "pubsub.googleapis.com/subscription/oldest_unacked_message_age") && google_monitoring_alert_policy.oldest_unacked["email"].conditions[0].condition_threshold[0].threshold_value == 600
    error_message = "The backlog alert watches oldest_unacked_message_age against 600 s."
  }
  assert {
    condition     = length(google_pubsub_schema.this) == 0 && length(google_pubsub_topic.this.schema_settings) == 0
    error_message = "No schema unless one is given."
  }
}

run "avro_schema_cmek_and_no_alerts" {
  command = plan

  variables {
    kms_key_name               = "projects/shop-prod/locations/europe-west1/keyRings/events/cryptoKeys/pubsub"
    message_retention_duration = "86400s"
    schema = {
      definition = "{\"type\":\"record\",\"name\":\"OrderPlaced\",\"fields\":[{\"name\":\"order_id\",\"type\":\"string\"}]}"
      encoding   = "BINARY"
    }
    subscriptions = {
      audit = { enable_exactly_once_delivery = true, enable_message_ordering = true, dead_letter_policy = { max_delivery_attempts = 20 } }
    }
    alerts = null
  }

  assert {
    condition     = google_pubsub_schema.this[0].name == "order-events-schema" && google_pubsub_schema.this[0].type == "AVRO"
    error_message = "The Avro schema is created with a derived name."
  }
  assert {
    condition     = google_pubsub_topic.this.schema_settings[0].encoding == "BINARY" && google_pubsub_topic.this.message_retention_duration == "86400s"
    error_message = "The topic uses the schema with BINARY encoding and keeps messages a day."
  }
  assert {
    condition     = google_pubsub_topic.dead_letter["audit"].kms_key_name == var.kms_key_name && google_pubsub_topic.this.kms_key_name == var.kms_key_name
    error_message = "The DLQ topic is encrypted with the same CMEK as the source topic."
  }
  assert {
    condition     = google_pubsub_subscription.this["audit"].enable_exactly_once_delivery && google_pubsub_subscription.this["audit"].dead_letter_policy[0].max_delivery_attempts == 20
    error_message = "Exactly-once and 20 delivery attempts are planned."
  }
  assert {
    condition     = length(google_monitoring_alert_policy.dead_letters) == 0 && length(google_monitoring_alert_policy.oldest_unacked) == 0
    error_message = "alerts = null creates no alert policies."
  }
}

run "rejects_bad_project_id" {
  command = plan
  variables {
    project_id = "Shop_Prod"
  }
  expect_failures = [var.project_id]
}

run "rejects_goog_topic_name" {
  command = plan
  variables {
    topic_name = "google-events"
  }
  expect_failures = [var.topic_name]
}

run "rejects_topic_retention_over_31_days" {
  command = plan
  variables {
    message_retention_duration = "2678401s"
  }
  expect_failures = [var.message_retention_duration]
}

run "rejects_short_kms_key_name" {
  command = plan
  variables {
    kms_key_name = "pubsub-key"
  }
  expect_failures = [var.kms_key_name]
}

run "rejects_schema_that_is_not_avro_json" {
  command = plan
  variables {
    schema = { definition = "record OrderPlaced {}" }
  }
  expect_failures = [var.schema]
}

run "rejects_unknown_schema_encoding" {
  command = plan
  variables {
    schema = { definition = "{\"type\":\"string\"}", encoding = "PROTO" }
  }
  expect_failures = [var.schema]
}

run "rejects_bad_subscription_name" {
  command = plan
  variables {
    subscriptions = { "1st" = {} }
  }
  expect_failures = [var.subscriptions]
}

run "rejects_ack_deadline_over_600" {
  command = plan
  variables {
    subscriptions = { billing = { ack_deadline_seconds = 601 } }
  }
  expect_failures = [var.subscriptions]
}

run "rejects_subscription_retention_under_10_minutes" {
  command = plan
  variables {
    subscriptions = { billing = { message_retention_duration = "599s" } }
  }
  expect_failures = [var.subscriptions]
}

run "rejects_min_backoff_above_max_backoff" {
  command = plan
  variables {
    subscriptions = { billing = { retry_policy = { minimum_backoff = "60s", maximum_backoff = "30s" } } }
  }
  expect_failures = [var.subscriptions]
}

run "rejects_four_delivery_attempts" {
  command = plan
  variables {
    subscriptions = { billing = { dead_letter_policy = { max_delivery_attempts = 4 } } }
  }
  expect_failures = [var.subscriptions]
}

run "rejects_filter_over_256_bytes" {
  command = plan
  variables {
    subscriptions = { billing = { filter = "attributes.k = \"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"" } }
  }
  expect_failures = [var.subscriptions]
}

run "rejects_exactly_once_on_push" {
  command = plan
  variables {
    subscriptions = { email = { enable_exactly_once_delivery = true, push = { endpoint = "https://email.example.com/push", oidc_service_account_email = "pusher@shop-prod.iam.gserviceaccount.com" } } }
  }
  expect_failures = [var.subscriptions]
}

run "rejects_plain_http_push_endpoint" {
  command = plan
  variables {
    subscriptions = { email = { push = { endpoint = "http://email.example.com/push", oidc_service_account_email = "pusher@shop-prod.iam.gserviceaccount.com" } } }
  }
  expect_failures = [var.subscriptions]
}

run "rejects_negative_dead_letter_threshold" {
  command = plan
  variables {
    alerts = { dead_letter_threshold = -1 }
  }
  expect_failures = [var.alerts]
}
