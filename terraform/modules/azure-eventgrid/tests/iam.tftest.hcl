# Role assignments for publishers, storage-queue subscribers and dead-letter operators (iam.tf): data-plane roles,
# each on one topic, queue or container, never on a resource group or subscription.

mock_provider "azurerm" {}

override_resource {
  override_during = plan
  target          = azurerm_eventgrid_topic.this
  values = {
    id       = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-events/providers/Microsoft.EventGrid/topics/order-events"
    identity = { principal_id = "11111111-1111-1111-1111-111111111111", tenant_id = "22222222-2222-2222-2222-222222222222" }
  }
}

override_resource {
  override_during = plan
  target          = azurerm_storage_account.dead_letter
  values = {
    id = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-events/providers/Microsoft.Storage/storageAccounts/shopdeadletters"
  }
}

variables {
  name                = "order-events"
  resource_group_name = "rg-events"
  location            = "westeurope"
  dead_letter_storage = { storage_account_name = "shopdeadletters" }
  event_subscriptions = {
    audit = {
      destination = { type = "storage_queue", resource_id = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-audit/providers/Microsoft.Storage/storageAccounts/audit", queue_name = "order-events" }
    }
    email = {
      destination = { type = "webhook", webhook_url = "https://email.example.com/events", active_directory_tenant_id = "22222222-2222-2222-2222-222222222222", active_directory_app_id_or_uri = "api://email-webhook" }
    }
  }
  publisher_principal_ids            = ["aaaaaaaa-0000-0000-0000-000000000001"]
  subscriber_principal_ids           = { audit = ["bbbbbbbb-0000-0000-0000-000000000002"] }
  dead_letter_operator_principal_ids = ["cccccccc-0000-0000-0000-000000000003"]
}

run "each_identity_gets_one_data_role_on_one_resource" {
  command = plan

  assert {
    condition = output.role_assignments == {
      "publisher/aaaaaaaa-0000-0000-0000-000000000001"            = { scope = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-events/providers/Microsoft.EventGrid/topics/order-events", role = "EventGrid Data Sender", principal_id = "aaaaaaaa-0000-0000-0000-000000000001" }
      "subscriber/audit/bbbbbbbb-0000-0000-0000-000000000002"     = { scope = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-audit/providers/Microsoft.Storage/storageAccounts/audit/queueServices/default/queues/order-events", role = "Storage Queue Data Message Processor", principal_id = "bbbbbbbb-0000-0000-0000-000000000002" }
      "dead-letter-reader/cccccccc-0000-0000-0000-000000000003"   = { scope = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-events/providers/Microsoft.Storage/storageAccounts/shopdeadletters/blobServices/default/containers/dead-letters", role = "Storage Blob Data Contributor", principal_id = "cccccccc-0000-0000-0000-000000000003" }
      "dead-letter-replayer/cccccccc-0000-0000-0000-000000000003" = { scope = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-events/providers/Microsoft.EventGrid/topics/order-events", role = "EventGrid Data Sender", principal_id = "cccccccc-0000-0000-0000-000000000003" }
    }
    error_message = "publisher sends to the topic, the audit consumer processes its own queue, the operator reads the dead-letter container and replays to the topic"
  }
}

run "no_broad_scope_and_no_control_plane_role" {
  command = plan

  assert {
    condition     = alltrue([for a in values(output.role_assignments) : length(split("/", a.scope)) > 5 && !strcontains(a.scope, "*") && !contains(["Owner", "Contributor", "Reader"], a.role)])
    error_message = "assignments are scoped below the resource group, on named resources, with data-plane roles only"
  }
}

run "a_webhook_subscriber_gets_no_role" {
  command = plan

  variables {
    subscriber_principal_ids = { email = ["bbbbbbbb-0000-0000-0000-000000000002"] }
  }

  expect_failures = [var.subscriber_principal_ids]
}

run "a_principal_must_be_an_object_id" {
  command = plan

  variables {
    publisher_principal_ids = ["orders-service"]
  }

  expect_failures = [var.publisher_principal_ids]
}
