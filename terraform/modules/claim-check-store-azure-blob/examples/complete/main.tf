# Every feature of the module at once: a geo-zone-redundant account, a named container, payloads kept 21 days
# because a message (with its dead-letter stay and a redrive) may live 14, writers and readers by Entra ID object id.
# terraform init && terraform apply -var="subscription_id=<subscription>" -var='reader_principal_ids=["<object id>"]' -var='writer_principal_ids=["<object id>"]'

terraform {
  required_version = ">= 1.9"

  required_providers {
    azurerm = {
      source  = "hashicorp/azurerm"
      version = "~> 4.55"
    }
  }
}

variable "subscription_id" {
  description = "Azure subscription holding the resource group."
  type        = string
}

variable "writer_principal_ids" {
  description = "Object ids of the producers' managed identities."
  type        = list(string)
}

variable "reader_principal_ids" {
  description = "Object ids of the consumers' managed identities."
  type        = list(string)
}

provider "azurerm" {
  features {}
  subscription_id = var.subscription_id
}

resource "azurerm_resource_group" "events" {
  name     = "rg-shop-events"
  location = "westeurope"
}

module "order_documents" {
  source = "../.."

  storage_account_name          = "shopstagingclaimchecks"
  resource_group_name           = azurerm_resource_group.events.name
  location                      = azurerm_resource_group.events.location
  container_name                = "order-documents"
  account_replication_type      = "GZRS"
  payload_expiration_days       = 21
  max_message_retention_seconds = 1209600 # 14 days: Service Bus and Event Grid dead letters included
  writer_principal_ids          = var.writer_principal_ids
  reader_principal_ids          = var.reader_principal_ids
  tags                          = { team = "orders" }
}

output "blob_endpoint" {
  description = "Endpoint producers and consumers use with Entra ID tokens."
  value       = module.order_documents.blob_endpoint
}

output "container_name" {
  description = "Container the claim checks point into."
  value       = module.order_documents.container_name
}
