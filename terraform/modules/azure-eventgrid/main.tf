locals {
  system_assigned           = var.identity.type == "SystemAssigned"
  user_assigned_identity_id = try(var.identity.user_assigned_identity.id, null)

  # The identity Event Grid uses to write dead letters and to deliver to Azure destinations.
  principal_id = local.system_assigned ? azurerm_eventgrid_topic.this.identity[0].principal_id : try(var.identity.user_assigned_identity.principal_id, null)
}

resource "azurerm_eventgrid_topic" "this" {
  #checkov:skip=CKV_AZURE_193:Public network access is off by default; when a caller turns it on, a validation requires inbound_ip_rules (or the explicit allow_public_network_access_without_ip_rules), and publishers still need Entra ID (local auth off).
  name                = var.name
  resource_group_name = var.resource_group_name
  location            = var.location
  input_schema        = var.input_schema
  local_auth_enabled  = var.local_auth_enabled
  tags                = var.tags

  public_network_access_enabled = var.public_network_access_enabled

  identity {
    type         = var.identity.type
    identity_ids = local.system_assigned ? null : [local.user_assigned_identity_id]
  }

  dynamic "inbound_ip_rule" {
    for_each = var.inbound_ip_rules
    content {
      ip_mask = inbound_ip_rule.value
      action  = "Allow"
    }
  }
}
