# Every feature of the module at once: a CloudEvents topic reachable publicly from listed ranges only, a
# user-assigned identity, a module-created dead-letter account with 60-day retention, one subscription of each
# destination kind (Entra ID webhook, secret-header webhook, Service Bus queue, storage queue), event type, subject
# and advanced filters, retry policies, and alerts routed to an action group.
# TF_VAR_webhook_delivery_secrets='{"crm"="<secret>"}' terraform init && terraform apply -var="subscription_id=<subscription>"

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

variable "webhook_delivery_secrets" {
  description = "Secret header values by subscription name, from a secret store."
  type        = map(string)
  sensitive   = true
}

provider "azurerm" {
  features {}
  subscription_id = var.subscription_id
}

resource "azurerm_resource_group" "events" {
  name     = "rg-orders-staging"
  location = "westeurope"
}

resource "azurerm_user_assigned_identity" "eventgrid" {
  name                = "id-orders-eventgrid"
  resource_group_name = azurerm_resource_group.events.name
  location            = azurerm_resource_group.events.location
}

resource "azurerm_monitor_action_group" "oncall" {
  name                = "ag-orders-oncall"
  resource_group_name = azurerm_resource_group.events.name
  short_name          = "orders"

  email_receiver {
    name          = "orders-oncall"
    email_address = "orders-oncall@example.com"
  }
}

module "order_placed" {
  source = "../.."

  name                          = "orders-staging-order-placed"
  resource_group_name           = azurerm_resource_group.events.name
  location                      = azurerm_resource_group.events.location
  input_schema                  = "CloudEventSchemaV1_0"
  public_network_access_enabled = true
  inbound_ip_rules              = ["203.0.113.0/24"]

  identity = {
    type                   = "UserAssigned"
    user_assigned_identity = { id = azurerm_user_assigned_identity.eventgrid.id, principal_id = azurerm_user_assigned_identity.eventgrid.principal_id }
  }

  dead_letter_storage = {
    storage_account_name = "ordersdlqstaging"
    container_name       = "order-placed-dead-letters"
    retention_days       = 60
  }

  event_subscriptions = {
    email = {
      destination = {
        type        = "webhook"
        webhook_url = "https://email.orders.example.com/api/events"
        # Event Grid sends an Entra ID token for the email service's application.
        active_directory_tenant_id     = "00000000-0000-0000-0000-000000000000"
        active_directory_app_id_or_uri = "api://orders-email-webhook"
        max_events_per_batch           = 10
      }
      included_event_types = ["OrderPlaced"]
    }
    crm = {
      destination = {
        type               = "webhook"
        webhook_url        = "https://crm.example.com/hooks/orders"
        secret_header_name = "X-Orders-Secret"
      }
      subject_filter = { subject_begins_with = "orders/eu/" }
      labels         = ["partner"]
    }
    billing = {
      destination          = { type = "service_bus_queue", resource_id = "/subscriptions/${var.subscription_id}/resourceGroups/rg-billing/providers/Microsoft.ServiceBus/namespaces/billing/queues/orders" }
      included_event_types = ["OrderPlaced"]
      advanced_filters = [
        { operator = "number_greater_than", key = "data.total_amount", value = "0" },
        { operator = "string_in", key = "data.currency", values = ["EUR", "USD"] },
      ]
      retry_policy = { max_delivery_attempts = 10, event_time_to_live = 60 }
    }
    audit = {
      destination = { type = "storage_queue", resource_id = "/subscriptions/${var.subscription_id}/resourceGroups/rg-audit/providers/Microsoft.Storage/storageAccounts/ordersaudit", queue_name = "order-events" }
    }
  }
  webhook_delivery_secrets = var.webhook_delivery_secrets

  alarm_actions = [azurerm_monitor_action_group.oncall.id]
  alerts = {
    severity                   = 1
    delivery_failure_threshold = 5
  }
  tags = { team = "orders" }
}

output "topic_endpoint" {
  description = "Endpoint publishers post CloudEvents to (with an Entra ID token)."
  value       = module.order_placed.topic_endpoint
}

output "dead_letter_container_name" {
  description = "Blob container holding dead letters."
  value       = module.order_placed.dead_letter_container_name
}
