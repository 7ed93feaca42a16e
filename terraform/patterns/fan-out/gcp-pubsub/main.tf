# Credentials come from the usual google sources (GOOGLE_APPLICATION_CREDENTIALS, gcloud, workload identity).
provider "google" {
  project = var.project_id
}

module "pubsub" {
  source = "../../../modules/gcp-pubsub"

  project_id                    = var.project_id
  topic_name                    = var.topic_name
  labels                        = merge(var.labels, { environment = var.environment, pattern = "fan-out", managed-by = "eda-kit" })
  message_retention_duration    = var.message_retention_duration
  kms_key_name                  = var.kms_key_name
  schema                        = var.schema
  subscriptions                 = var.subscriptions
  allow_push_without_oidc_token = var.allow_push_without_oidc_token
  alerts                        = var.alerts
  alarm_actions                 = var.alarm_actions
}

# Rendered var files carry environment-specific names; applying staging's file with environment=prod is a mistake.
check "names_match_environment" {
  assert {
    condition     = strcontains(var.topic_name, var.environment)
    error_message = "topic name \"${var.topic_name}\" does not mention environment \"${var.environment}\": is this the var file rendered for ${var.environment}?"
  }
}
