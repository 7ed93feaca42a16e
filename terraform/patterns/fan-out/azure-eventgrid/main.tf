# Subscription and credentials come from the usual azurerm sources (ARM_SUBSCRIPTION_ID, az login, managed identity).
provider "azurerm" {
  features {}
}

module "eventgrid" {
  source = "../../../modules/azure-eventgrid"

  name                          = var.name
  resource_group_name           = var.resource_group_name
  location                      = var.location
  input_schema                  = var.input_schema
  local_auth_enabled            = var.local_auth_enabled
  public_network_access_enabled = var.public_network_access_enabled
  inbound_ip_rules              = var.inbound_ip_rules
  identity                      = var.identity
  dead_letter_storage           = var.dead_letter_storage
  event_subscriptions           = var.event_subscriptions
  webhook_delivery_secrets      = var.webhook_delivery_secrets

  allow_public_network_access_without_ip_rules = var.allow_public_network_access_without_ip_rules
  alerts                                       = var.alerts
  alarm_actions                                = var.alarm_actions
  tags                                         = merge(var.tags, { environment = var.environment, pattern = "fan-out", managed-by = "eda-kit" })
}

# Rendered var files carry environment-specific names; applying staging's file with environment=prod is a mistake.
check "names_match_environment" {
  assert {
    condition     = strcontains(var.name, var.environment)
    error_message = "topic name \"${var.name}\" does not mention environment \"${var.environment}\": is this the var file rendered for ${var.environment}?"
  }
}
