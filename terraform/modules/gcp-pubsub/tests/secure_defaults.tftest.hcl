# Secure by default: push subscriptions authenticate with an OIDC token unless allow_push_without_oidc_token, and with
# CMEK the Pub/Sub service agent is granted the key before any topic is created.

mock_provider "google" {
  override_during = plan

  mock_data "google_project" {
    defaults = { number = "123456789012" }
  }
}

variables {
  project_id = "shop-prod"
  topic_name = "order-events"
  subscriptions = {
    email = {
      push               = { endpoint = "https://email.example.com/push", oidc_service_account_email = "pusher@shop-prod.iam.gserviceaccount.com", audience = "https://email.example.com" }
      dead_letter_policy = { enabled = false }
    }
  }
}

run "push_with_oidc_token_is_accepted" {
  command = plan

  assert {
    condition     = google_pubsub_subscription.this["email"].push_config[0].oidc_token[0].service_account_email == "pusher@shop-prod.iam.gserviceaccount.com" && google_pubsub_subscription.this["email"].push_config[0].oidc_token[0].audience == "https://email.example.com"
    error_message = "the push subscription sends an OIDC token for the given service account and audience"
  }
}

run "rejects_push_without_oidc_token" {
  command = plan
  variables {
    subscriptions = { email = { push = { endpoint = "https://email.example.com/push" } } }
  }
  expect_failures = [var.subscriptions]
}

run "rejects_empty_oidc_service_account" {
  command = plan
  variables {
    subscriptions = { email = { push = { endpoint = "https://email.example.com/push", oidc_service_account_email = "" } } }
  }
  expect_failures = [var.subscriptions]
}

run "push_without_oidc_token_when_explicitly_allowed" {
  command = plan
  variables {
    allow_push_without_oidc_token = true
    subscriptions                 = { email = { push = { endpoint = "https://email.example.com/push" } } }
  }

  assert {
    condition     = google_pubsub_subscription.this["email"].push_config[0].push_endpoint == "https://email.example.com/push" && length(google_pubsub_subscription.this["email"].push_config[0].oidc_token) == 0
    error_message = "with the opt-out, a push subscription may go without a token"
  }
}

run "cmek_grants_the_service_agent_the_key" {
  command = plan
  variables {
    kms_key_name = "projects/shop-keys/locations/europe-west1/keyRings/events/cryptoKeys/pubsub"
  }

  assert {
    condition = (
      google_kms_crypto_key_iam_member.pubsub_service_agent[0].crypto_key_id == "projects/shop-keys/locations/europe-west1/keyRings/events/cryptoKeys/pubsub"
      && google_kms_crypto_key_iam_member.pubsub_service_agent[0].role == "roles/cloudkms.cryptoKeyEncrypterDecrypter"
      && google_kms_crypto_key_iam_member.pubsub_service_agent[0].member == "serviceAccount:service-123456789012@gcp-sa-pubsub.iam.gserviceaccount.com"
    )
    error_message = "the Pub/Sub service agent of the topic's project may encrypt and decrypt with the key"
  }
  assert {
    condition     = output.pubsub_service_agent == "serviceAccount:service-123456789012@gcp-sa-pubsub.iam.gserviceaccount.com"
    error_message = "the service agent is reported with CMEK even without DLQs"
  }
}

run "no_key_no_grant" {
  command = plan

  assert {
    condition     = length(google_kms_crypto_key_iam_member.pubsub_service_agent) == 0 && output.pubsub_service_agent == null
    error_message = "Google-managed encryption needs no KMS grant (and without DLQs there is no service agent to report)"
  }
}

run "rejects_empty_kms_key_name" {
  command = plan
  variables {
    kms_key_name = ""
  }
  expect_failures = [var.kms_key_name]
}
