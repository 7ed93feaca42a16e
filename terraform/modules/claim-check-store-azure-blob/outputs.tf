output "storage_account_id" {
  description = "Resource id of the storage account."
  value       = azurerm_storage_account.this.id
}

output "container_name" {
  description = "Container holding the payloads."
  value       = azurerm_storage_container.this.name
}

output "blob_endpoint" {
  description = "Blob endpoint producers and consumers use (with Entra ID tokens)."
  value       = azurerm_storage_account.this.primary_blob_endpoint
}
