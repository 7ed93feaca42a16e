locals {
  dead_letter_account_id = var.dead_letter_storage.create ? azurerm_storage_account.dead_letter[0].id : var.dead_letter_storage.storage_account_id

  # Granting on the container, not the account, keeps the topic's identity away from other data.
  dead_letter_container_scope = "${local.dead_letter_account_id}/blobServices/default/containers/${var.dead_letter_storage.container_name}"
}

resource "azurerm_storage_account" "dead_letter" {
  #checkov:skip=CKV2_AZURE_1:Dead letters are event envelopes already encrypted at rest with Microsoft-managed keys; a customer-managed key is the caller's choice of an existing account (create = false).
  #checkov:skip=CKV2_AZURE_33:Event Grid writes dead letters through the trusted-services bypass with its managed identity; a private endpoint adds nothing for that path.
  #checkov:skip=CKV_AZURE_206:Dead letters are a diagnostic copy; locally redundant storage is the cost-appropriate default.
  #checkov:skip=CKV_AZURE_59:Public network access stays on only for Azure trusted services: network_rules denies everything else.
  #checkov:skip=CKV_AZURE_33:The account holds no queues; queue logging has nothing to record.
  count = var.dead_letter_storage.create ? 1 : 0

  name                     = var.dead_letter_storage.storage_account_name
  resource_group_name      = var.resource_group_name
  location                 = var.location
  account_tier             = "Standard"
  account_replication_type = "LRS"
  account_kind             = "StorageV2"
  tags                     = var.tags

  min_tls_version                 = "TLS1_2"
  https_traffic_only_enabled      = true
  allow_nested_items_to_be_public = false
  shared_access_key_enabled       = false
  local_user_enabled              = false
  default_to_oauth_authentication = true

  # Event Grid is a trusted Azure service when it writes with a managed identity, so the firewall can deny the rest.
  network_rules {
    default_action = "Deny"
    bypass         = ["AzureServices"]
  }

  blob_properties {
    delete_retention_policy {
      days = 7
    }
    container_delete_retention_policy {
      days = 7
    }
  }
}

resource "azurerm_storage_container" "dead_letter" {
  #checkov:skip=CKV2_AZURE_21:Blob read logging needs a diagnostic-settings sink (Log Analytics) the caller owns; data access here is Entra ID only and shows in its sign-in logs.
  count = var.dead_letter_storage.create ? 1 : 0

  name                  = var.dead_letter_storage.container_name
  storage_account_id    = azurerm_storage_account.dead_letter[0].id
  container_access_type = "private"
}

resource "azurerm_storage_management_policy" "dead_letter" {
  count = var.dead_letter_storage.create ? 1 : 0

  storage_account_id = azurerm_storage_account.dead_letter[0].id

  rule {
    name    = "expire-dead-letters"
    enabled = true

    filters {
      blob_types   = ["blockBlob"]
      prefix_match = ["${var.dead_letter_storage.container_name}/"]
    }

    actions {
      base_blob {
        delete_after_days_since_modification_greater_than = var.dead_letter_storage.retention_days
      }
    }
  }
}

# Without this role Event Grid cannot write dead letters and drops the events instead.
resource "azurerm_role_assignment" "dead_letter_writer" {
  scope                = local.dead_letter_container_scope
  role_definition_name = "Storage Blob Data Contributor"
  principal_id         = local.principal_id
  principal_type       = "ServicePrincipal"

  depends_on = [azurerm_storage_container.dead_letter]
}
