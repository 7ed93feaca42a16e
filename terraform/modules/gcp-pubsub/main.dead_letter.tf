data "google_project" "this" {
  count = local.needs_service_agent ? 1 : 0

  project_id = var.project_id
}

locals {
  # Pub/Sub forwards dead letters and encrypts with CMEK as this Google-managed identity, not as the caller.
  needs_service_agent  = length(local.dead_lettered) > 0 || var.kms_key_name != null
  pubsub_service_agent = local.needs_service_agent ? "serviceAccount:service-${data.google_project.this[0].number}@gcp-sa-pubsub.iam.gserviceaccount.com" : null
}

resource "google_pubsub_topic" "dead_letter" {
  for_each = local.dead_lettered

  project      = var.project_id
  name         = "${each.key}-dlq"
  labels       = var.labels
  kms_key_name = var.kms_key_name

  depends_on = [google_kms_crypto_key_iam_member.pubsub_service_agent]
}

# Messages published to a topic without subscriptions are dropped, so every DLQ topic gets one to hold them.
resource "google_pubsub_subscription" "dead_letter" {
  for_each = local.dead_lettered

  project                    = var.project_id
  name                       = "${each.key}-dlq"
  topic                      = google_pubsub_topic.dead_letter[each.key].id
  labels                     = var.labels
  ack_deadline_seconds       = 600
  message_retention_duration = each.value.message_retention_duration

  # A dead-letter subscription is idle by design: without this it would expire after 31 days.
  expiration_policy {
    ttl = ""
  }
}

# Without these two bindings dead-lettering silently does nothing.
resource "google_pubsub_topic_iam_member" "dead_letter_publisher" {
  for_each = local.dead_lettered

  project = var.project_id
  topic   = google_pubsub_topic.dead_letter[each.key].name
  role    = "roles/pubsub.publisher"
  member  = local.pubsub_service_agent
}

resource "google_pubsub_subscription_iam_member" "source_subscriber" {
  for_each = local.dead_lettered

  project      = var.project_id
  subscription = google_pubsub_subscription.this[each.key].name
  role         = "roles/pubsub.subscriber"
  member       = local.pubsub_service_agent
}
