resource "azurerm_storage_account" "this" {
  #checkov:skip=CKV2_AZURE_1:Payloads are encrypted with Microsoft-managed keys plus infrastructure encryption; a customer-managed key needs a Key Vault this module does not own.
  #checkov:skip=CKV2_AZURE_33:Producers and consumers reach the account over its endpoint with Entra ID only (no keys, no SAS); private endpoints belong to the network layout of each deployment.
  #checkov:skip=CKV_AZURE_59:See CKV2_AZURE_33: the public endpoint accepts Entra ID tokens only.
  #checkov:skip=CKV_AZURE_33:The account holds no queues; queue logging has nothing to record.
  #checkov:skip=CKV_AZURE_206:Zone-redundant by default for short-lived payloads; geo-redundancy is a choice through account_replication_type.
  name                     = var.storage_account_name
  resource_group_name      = var.resource_group_name
  location                 = var.location
  account_kind             = "StorageV2"
  account_tier             = "Standard"
  account_replication_type = var.account_replication_type
  tags                     = var.tags

  min_tls_version                   = "TLS1_2"
  https_traffic_only_enabled        = true
  allow_nested_items_to_be_public   = false
  shared_access_key_enabled         = false
  default_to_oauth_authentication   = true
  local_user_enabled                = false
  infrastructure_encryption_enabled = true
  cross_tenant_replication_enabled  = false

  blob_properties {
    versioning_enabled = true

    delete_retention_policy {
      days = 7
    }
    container_delete_retention_policy {
      days = 7
    }
  }
}

resource "azurerm_storage_container" "this" {
  #checkov:skip=CKV2_AZURE_21:Blob read logging needs a diagnostic-settings sink (Log Analytics) the caller owns; data access is Entra ID only and shows in its sign-in logs.
  name                  = var.container_name
  storage_account_id    = azurerm_storage_account.this.id
  container_access_type = "private"
}

resource "azurerm_storage_management_policy" "this" {
  storage_account_id = azurerm_storage_account.this.id

  rule {
    name    = "expire-claim-check-payloads"
    enabled = true

    filters {
      blob_types   = ["blockBlob"]
      prefix_match = ["${var.container_name}/"]
    }

    actions {
      base_blob {
        delete_after_days_since_modification_greater_than = var.payload_expiration_days
      }
      # Versioning keeps overwritten payloads as versions; expire them too, or storage grows without bound.
      version {
        delete_after_days_since_creation = var.payload_expiration_days
      }
    }
  }
}

locals {
  # Shared keys are off, so data-plane roles are the only way in; grant them on the container alone.
  container_scope = "${azurerm_storage_account.this.id}/blobServices/default/containers/${var.container_name}"
}

resource "azurerm_role_assignment" "writer" {
  for_each = toset(var.writer_principal_ids)

  scope                = local.container_scope
  role_definition_name = "Storage Blob Data Contributor"
  principal_id         = each.value

  depends_on = [azurerm_storage_container.this]
}

resource "azurerm_role_assignment" "reader" {
  for_each = toset(var.reader_principal_ids)

  scope                = local.container_scope
  role_definition_name = "Storage Blob Data Reader"
  principal_id         = each.value

  depends_on = [azurerm_storage_container.this]
}
