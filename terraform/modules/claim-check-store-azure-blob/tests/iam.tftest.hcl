# The role_assignments output: data-plane roles on the payload container only.

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
  reader_principal_ids = ["22222222-2222-2222-2222-222222222222"]
}

run "writers_contribute_readers_read_on_the_container" {
  command = plan

  assert {
    condition = output.role_assignments == {
      "11111111-1111-1111-1111-111111111111" = { scope = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-events/providers/Microsoft.Storage/storageAccounts/shopclaimchecks/blobServices/default/containers/claim-checks", role = "Storage Blob Data Contributor" }
      "22222222-2222-2222-2222-222222222222" = { scope = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-events/providers/Microsoft.Storage/storageAccounts/shopclaimchecks/blobServices/default/containers/claim-checks", role = "Storage Blob Data Reader" }
    }
    error_message = "the producer writes and the consumer reads the payload container, nothing wider"
  }
}
