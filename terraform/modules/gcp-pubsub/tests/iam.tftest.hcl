# Publisher, subscriber and dead-letter operator bindings (iam.tf): predefined Pub/Sub roles on one topic or
# subscription each, never on the project, never for allUsers.

mock_provider "google" {}

override_data {
  override_during = plan
  target          = data.google_project.this
  values          = { number = "123456789012" }
}

variables {
  project_id = "shop-prod"
  topic_name = "order-events"
  subscriptions = {
    billing = {}
    audit   = { dead_letter_policy = { enabled = false } }
  }
  publisher_members            = ["serviceAccount:orders@shop-prod.iam.gserviceaccount.com"]
  subscriber_members           = { billing = ["serviceAccount:billing@shop-prod.iam.gserviceaccount.com"], audit = ["serviceAccount:audit@shop-prod.iam.gserviceaccount.com"] }
  dead_letter_operator_members = { billing = ["group:oncall@example.com"] }
}

run "each_identity_gets_its_roles_on_its_own_resources" {
  command = plan

  assert {
    condition = toset(output.iam_bindings) == toset([
      { resource = "projects/shop-prod/topics/order-events", role = "roles/pubsub.publisher", member = "serviceAccount:orders@shop-prod.iam.gserviceaccount.com" },
      { resource = "projects/shop-prod/subscriptions/billing", role = "roles/pubsub.subscriber", member = "serviceAccount:billing@shop-prod.iam.gserviceaccount.com" },
      { resource = "projects/shop-prod/subscriptions/audit", role = "roles/pubsub.subscriber", member = "serviceAccount:audit@shop-prod.iam.gserviceaccount.com" },
      { resource = "projects/shop-prod/topics/billing-dlq", role = "roles/pubsub.publisher", member = "serviceAccount:billing@shop-prod.iam.gserviceaccount.com" },
      { resource = "projects/shop-prod/subscriptions/billing-dlq", role = "roles/pubsub.subscriber", member = "group:oncall@example.com" },
      { resource = "projects/shop-prod/topics/order-events", role = "roles/pubsub.publisher", member = "group:oncall@example.com" },
      { resource = "projects/shop-prod/subscriptions/billing", role = "roles/pubsub.viewer", member = "group:oncall@example.com" },
    ])
    error_message = "publisher on the topic; each subscriber on its own subscription (and its DLQ topic); the operator on the DLQ subscription, the topic and a view of the source subscription"
  }
  assert {
    condition     = length(output.iam_bindings) == 7
    error_message = "no binding beyond those seven"
  }
  assert {
    condition     = google_pubsub_subscription_iam_member.subscriber["audit/serviceAccount:audit@shop-prod.iam.gserviceaccount.com"].subscription == "audit" && length(google_pubsub_topic_iam_member.subscriber_dead_letters) == 1
    error_message = "audit has no DLQ, so its consumer gets no dead-letter topic binding"
  }
}

run "no_wildcard_members_and_only_pubsub_data_roles" {
  command = plan

  assert {
    condition     = alltrue([for b in output.iam_bindings : !strcontains(b.member, "*") && !contains(["allUsers", "allAuthenticatedUsers"], b.member) && contains(["roles/pubsub.publisher", "roles/pubsub.subscriber", "roles/pubsub.viewer"], b.role) && startswith(b.resource, "projects/shop-prod/")])
    error_message = "bindings are for named principals, with Pub/Sub's publisher, subscriber or viewer role, on this module's resources"
  }
}

run "nobody_is_granted_anything_by_default" {
  command = plan

  variables {
    publisher_members            = []
    subscriber_members           = {}
    dead_letter_operator_members = {}
  }

  assert {
    condition     = output.iam_bindings == []
    error_message = "without members the module grants nothing beyond the service agent's dead-letter bindings"
  }
}

run "all_users_is_refused" {
  command = plan

  variables {
    publisher_members = ["allUsers"]
  }

  expect_failures = [var.publisher_members]
}

run "members_of_an_unknown_subscription_are_refused" {
  command = plan

  variables {
    subscriber_members = { shipping = ["serviceAccount:s@shop-prod.iam.gserviceaccount.com"] }
  }

  expect_failures = [var.subscriber_members]
}

run "an_operator_needs_a_subscription_with_a_dlq" {
  command = plan

  variables {
    dead_letter_operator_members = { audit = ["group:oncall@example.com"] }
  }

  expect_failures = [var.dead_letter_operator_members]
}
