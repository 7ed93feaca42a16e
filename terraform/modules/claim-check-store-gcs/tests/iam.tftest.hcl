# The iam_bindings output: create-only for producers, read-only for consumers, on the bucket alone.

mock_provider "google" {
  override_during = plan

  mock_data "google_project" {
    defaults = { number = "123456789012" }
  }
}

variables {
  project_id      = "shop-prod"
  bucket          = "shop-claim-checks"
  location        = "EU"
  object_creators = ["serviceAccount:orders@shop-prod.iam.gserviceaccount.com"]
  object_viewers  = ["serviceAccount:billing@shop-prod.iam.gserviceaccount.com"]
}

run "producers_create_consumers_read_nothing_else" {
  command = plan

  assert {
    condition = output.iam_bindings == [
      { resource = "projects/_/buckets/shop-claim-checks", role = "roles/storage.objectCreator", member = "serviceAccount:orders@shop-prod.iam.gserviceaccount.com" },
      { resource = "projects/_/buckets/shop-claim-checks", role = "roles/storage.objectViewer", member = "serviceAccount:billing@shop-prod.iam.gserviceaccount.com" },
    ]
    error_message = "objectCreator for the producer and objectViewer for the consumer, on this bucket only"
  }
  assert {
    condition     = alltrue([for b in output.iam_bindings : !strcontains(b.member, "*") && !contains(["allUsers", "allAuthenticatedUsers"], b.member) && !contains(["roles/storage.admin", "roles/storage.objectAdmin"], b.role)])
    error_message = "no public member and no admin role"
  }
}
