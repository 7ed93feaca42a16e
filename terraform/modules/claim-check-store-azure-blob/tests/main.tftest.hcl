mock_provider "azurerm" {
  override_during = plan

  mock_resource "azurerm_storage_account" {
    defaults = { id = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-events/providers/Microsoft.Storage/storageAccounts/shopclaimchecks" }
  }
}

variables {
  storage_account_name = "shopclaimchecks"
  resource_group_name  = "rg-events"
  location             = "westeurope"
  writer_principal_ids = ["11111111-1111-1111-1111-111111111111"]
  reader_principal_ids = ["22222222-2222-2222-2222-222222222222", "33333333-3333-3333-3333-333333333333"]
}

run "hardened_account_private_container_expiring_payloads" {
  command = plan

  assert {
    condition     = azurerm_storage_account.this.min_tls_version == "TLS1_2" && azurerm_storage_account.this.https_traffic_only_enabled && !azurerm_storage_account.this.allow_nested_items_to_be_public
    error_message = "TLS 1.2, HTTPS only, no public blob access."
  }
  assert {
    condition     = !azurerm_storage_account.this.shared_access_key_enabled && azurerm_storage_account.this.default_to_oauth_authentication
    error_message = "Shared keys are off: Entra ID only."
  }
  assert {
    condition     = azurerm_storage_container.this.container_access_type == "private" && azurerm_storage_container.this.name == "claim-checks"
    error_message = "The payload container is private."
  }
  assert {
    condition     = azurerm_storage_management_policy.this.rule[0].actions[0].base_blob[0].delete_after_days_since_modification_greater_than == 30 && toset(azurerm_storage_management_policy.this.rule[0].filters[0].prefix_match) == toset(["claim-checks/"])
    error_message = "Payloads in the container expire after 30 days."
  }
  assert {
    condition     = azurerm_storage_management_policy.this.rule[0].actions[0].version[0].delete_after_days_since_creation == 30
    error_message = "Previous versions expire too."
  }
  assert {
    condition     = length(azurerm_role_assignment.writer) == 1 && azurerm_role_assignment.writer["11111111-1111-1111-1111-111111111111"].role_definition_name == "Storage Blob Data Contributor"
    error_message = "Producers can write."
  }
  assert {
    condition     = length(azurerm_role_assignment.reader) == 2 && azurerm_role_assignment.reader["22222222-2222-2222-2222-222222222222"].scope == "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-events/providers/Microsoft.Storage/storageAccounts/shopclaimchecks/blobServices/default/containers/claim-checks"
    error_message = "Consumers can read the container, and only it."
  }
}

run "rejects_bad_account_name" {
  command = plan
  variables {
    storage_account_name = "shop-claim-checks"
  }
  expect_failures = [var.storage_account_name]
}

run "rejects_bad_container_name" {
  command = plan
  variables {
    container_name = "claim--checks"
  }
  expect_failures = [var.container_name]
}

run "rejects_unknown_replication" {
  command = plan
  variables {
    account_replication_type = "GEO"
  }
  expect_failures = [var.account_replication_type]
}

run "rejects_fractional_expiration" {
  command = plan
  variables {
    payload_expiration_days = 2.5
  }
  expect_failures = [var.payload_expiration_days]
}

run "rejects_payloads_that_expire_before_their_messages" {
  command = plan
  variables {
    payload_expiration_days       = 1
    max_message_retention_seconds = 345600
  }
  expect_failures = [var.max_message_retention_seconds]
}
