locals {
  schema_name = var.schema == null ? null : coalesce(var.schema.name, "${var.topic_name}-schema")

  # Only subscriptions with a dead-letter policy get a DLQ topic, its subscription and the service agent's IAM.
  dead_lettered = { for name, s in var.subscriptions : name => s if s.dead_letter_policy.enabled }
}

resource "google_pubsub_schema" "this" {
  count = var.schema == null ? 0 : 1

  project    = var.project_id
  name       = local.schema_name
  type       = "AVRO"
  definition = var.schema.definition
}

# With CMEK, Pub/Sub encrypts as its service agent: without this grant creating the topic (and publishing) fails.
resource "google_kms_crypto_key_iam_member" "pubsub_service_agent" {
  count = var.kms_key_name == null ? 0 : 1

  crypto_key_id = var.kms_key_name
  role          = "roles/cloudkms.cryptoKeyEncrypterDecrypter"
  member        = local.pubsub_service_agent
}

resource "google_pubsub_topic" "this" {
  project                    = var.project_id
  name                       = var.topic_name
  labels                     = var.labels
  kms_key_name               = var.kms_key_name
  message_retention_duration = var.message_retention_duration

  dynamic "schema_settings" {
    for_each = google_pubsub_schema.this
    content {
      schema   = schema_settings.value.id
      encoding = var.schema.encoding
    }
  }

  depends_on = [google_kms_crypto_key_iam_member.pubsub_service_agent]
}

resource "google_pubsub_subscription" "this" {
  for_each = var.subscriptions

  project                      = var.project_id
  name                         = each.key
  topic                        = google_pubsub_topic.this.id
  labels                       = var.labels
  ack_deadline_seconds         = each.value.ack_deadline_seconds
  message_retention_duration   = each.value.message_retention_duration
  filter                       = each.value.filter
  enable_message_ordering      = each.value.enable_message_ordering
  enable_exactly_once_delivery = each.value.enable_exactly_once_delivery

  # The API default deletes a subscription after 31 days without activity; an event consumer must never vanish.
  expiration_policy {
    ttl = ""
  }

  retry_policy {
    minimum_backoff = each.value.retry_policy.minimum_backoff
    maximum_backoff = each.value.retry_policy.maximum_backoff
  }

  dynamic "dead_letter_policy" {
    for_each = each.value.dead_letter_policy.enabled ? [each.value.dead_letter_policy] : []
    content {
      dead_letter_topic     = google_pubsub_topic.dead_letter[each.key].id
      max_delivery_attempts = dead_letter_policy.value.max_delivery_attempts
    }
  }

  dynamic "push_config" {
    for_each = each.value.push == null ? [] : [each.value.push]
    content {
      push_endpoint = push_config.value.endpoint

      dynamic "oidc_token" {
        for_each = push_config.value.oidc_service_account_email == null ? [] : [push_config.value]
        content {
          service_account_email = oidc_token.value.oidc_service_account_email
          audience              = oidc_token.value.audience
        }
      }
    }
  }
}
