locals {
  # Azure destinations are reached with the topic's identity; each needs a data-plane sender role on its target.
  delivery_roles = {
    storage_queue     = "Storage Queue Data Message Sender"
    service_bus_queue = "Azure Service Bus Data Sender"
    service_bus_topic = "Azure Service Bus Data Sender"
    event_hub         = "Azure Event Hubs Data Sender"
  }
  identity_delivered = { for name, s in var.event_subscriptions : name => s if s.destination.type != "webhook" }
}

resource "azurerm_role_assignment" "delivery_sender" {
  for_each = local.identity_delivered

  scope                = each.value.destination.type == "storage_queue" ? "${each.value.destination.resource_id}/queueServices/default/queues/${each.value.destination.queue_name}" : each.value.destination.resource_id
  role_definition_name = local.delivery_roles[each.value.destination.type]
  principal_id         = local.principal_id
  principal_type       = "ServicePrincipal"
}

resource "azurerm_eventgrid_event_subscription" "this" {
  for_each = var.event_subscriptions

  name                  = each.key
  scope                 = azurerm_eventgrid_topic.this.id
  event_delivery_schema = var.input_schema
  included_event_types  = each.value.included_event_types
  labels                = each.value.labels

  advanced_filtering_on_arrays_enabled = each.value.advanced_filtering_on_arrays_enabled

  service_bus_queue_endpoint_id = each.value.destination.type == "service_bus_queue" ? each.value.destination.resource_id : null
  service_bus_topic_endpoint_id = each.value.destination.type == "service_bus_topic" ? each.value.destination.resource_id : null
  eventhub_endpoint_id          = each.value.destination.type == "event_hub" ? each.value.destination.resource_id : null

  dynamic "webhook_endpoint" {
    for_each = each.value.destination.type == "webhook" ? [each.value.destination] : []
    content {
      url                               = webhook_endpoint.value.webhook_url
      max_events_per_batch              = webhook_endpoint.value.max_events_per_batch
      preferred_batch_size_in_kilobytes = webhook_endpoint.value.preferred_batch_size_in_kilobytes
      # Event Grid asks Entra ID for a token to this application and sends it as Authorization: Bearer.
      active_directory_tenant_id     = webhook_endpoint.value.active_directory_tenant_id
      active_directory_app_id_or_uri = webhook_endpoint.value.active_directory_app_id_or_uri
    }
  }

  # The webhook's shared secret, sent as a header on every delivery and validation request; secret = true keeps
  # it out of the subscription's readable properties.
  dynamic "delivery_property" {
    for_each = each.value.destination.type == "webhook" && each.value.destination.secret_header_name != null ? [each.value.destination.secret_header_name] : []
    content {
      header_name = delivery_property.value
      type        = "Static"
      value       = var.webhook_delivery_secrets[each.key]
      secret      = true
    }
  }

  dynamic "storage_queue_endpoint" {
    for_each = each.value.destination.type == "storage_queue" ? [each.value.destination] : []
    content {
      storage_account_id = storage_queue_endpoint.value.resource_id
      queue_name         = storage_queue_endpoint.value.queue_name
    }
  }

  dynamic "delivery_identity" {
    for_each = each.value.destination.type == "webhook" ? [] : [var.identity]
    content {
      type                   = delivery_identity.value.type
      user_assigned_identity = local.user_assigned_identity_id
    }
  }

  dynamic "subject_filter" {
    for_each = each.value.subject_filter == null ? [] : [each.value.subject_filter]
    content {
      subject_begins_with = subject_filter.value.subject_begins_with
      subject_ends_with   = subject_filter.value.subject_ends_with
      case_sensitive      = subject_filter.value.case_sensitive
    }
  }

  dynamic "advanced_filter" {
    for_each = length(each.value.advanced_filters) > 0 ? [each.value.advanced_filters] : []
    content {
      dynamic "bool_equals" {
        for_each = [for f in each.value.advanced_filters : f if f.operator == "bool_equals"]
        content {
          key   = bool_equals.value.key
          value = tobool(bool_equals.value.value)
        }
      }
      dynamic "number_greater_than" {
        for_each = [for f in each.value.advanced_filters : f if f.operator == "number_greater_than"]
        content {
          key   = number_greater_than.value.key
          value = tonumber(number_greater_than.value.value)
        }
      }
      dynamic "number_greater_than_or_equals" {
        for_each = [for f in each.value.advanced_filters : f if f.operator == "number_greater_than_or_equals"]
        content {
          key   = number_greater_than_or_equals.value.key
          value = tonumber(number_greater_than_or_equals.value.value)
        }
      }
      dynamic "number_less_than" {
        for_each = [for f in each.value.advanced_filters : f if f.operator == "number_less_than"]
        content {
          key   = number_less_than.value.key
          value = tonumber(number_less_than.value.value)
        }
      }
      dynamic "number_less_than_or_equals" {
        for_each = [for f in each.value.advanced_filters : f if f.operator == "number_less_than_or_equals"]
        content {
          key   = number_less_than_or_equals.value.key
          value = tonumber(number_less_than_or_equals.value.value)
        }
      }
      dynamic "number_in" {
        for_each = [for f in each.value.advanced_filters : f if f.operator == "number_in"]
        content {
          key    = number_in.value.key
          values = [for v in number_in.value.values : tonumber(v)]
        }
      }
      dynamic "number_not_in" {
        for_each = [for f in each.value.advanced_filters : f if f.operator == "number_not_in"]
        content {
          key    = number_not_in.value.key
          values = [for v in number_not_in.value.values : tonumber(v)]
        }
      }
      dynamic "number_in_range" {
        for_each = [for f in each.value.advanced_filters : f if f.operator == "number_in_range"]
        content {
          key    = number_in_range.value.key
          values = number_in_range.value.ranges
        }
      }
      dynamic "number_not_in_range" {
        for_each = [for f in each.value.advanced_filters : f if f.operator == "number_not_in_range"]
        content {
          key    = number_not_in_range.value.key
          values = number_not_in_range.value.ranges
        }
      }
      dynamic "string_begins_with" {
        for_each = [for f in each.value.advanced_filters : f if f.operator == "string_begins_with"]
        content {
          key    = string_begins_with.value.key
          values = string_begins_with.value.values
        }
      }
      dynamic "string_not_begins_with" {
        for_each = [for f in each.value.advanced_filters : f if f.operator == "string_not_begins_with"]
        content {
          key    = string_not_begins_with.value.key
          values = string_not_begins_with.value.values
        }
      }
      dynamic "string_ends_with" {
        for_each = [for f in each.value.advanced_filters : f if f.operator == "string_ends_with"]
        content {
          key    = string_ends_with.value.key
          values = string_ends_with.value.values
        }
      }
      dynamic "string_not_ends_with" {
        for_each = [for f in each.value.advanced_filters : f if f.operator == "string_not_ends_with"]
        content {
          key    = string_not_ends_with.value.key
          values = string_not_ends_with.value.values
        }
      }
      dynamic "string_contains" {
        for_each = [for f in each.value.advanced_filters : f if f.operator == "string_contains"]
        content {
          key    = string_contains.value.key
          values = string_contains.value.values
        }
      }
      dynamic "string_not_contains" {
        for_each = [for f in each.value.advanced_filters : f if f.operator == "string_not_contains"]
        content {
          key    = string_not_contains.value.key
          values = string_not_contains.value.values
        }
      }
      dynamic "string_in" {
        for_each = [for f in each.value.advanced_filters : f if f.operator == "string_in"]
        content {
          key    = string_in.value.key
          values = string_in.value.values
        }
      }
      dynamic "string_not_in" {
        for_each = [for f in each.value.advanced_filters : f if f.operator == "string_not_in"]
        content {
          key    = string_not_in.value.key
          values = string_not_in.value.values
        }
      }
      dynamic "is_not_null" {
        for_each = [for f in each.value.advanced_filters : f if f.operator == "is_not_null"]
        content {
          key = is_not_null.value.key
        }
      }
      dynamic "is_null_or_undefined" {
        for_each = [for f in each.value.advanced_filters : f if f.operator == "is_null_or_undefined"]
        content {
          key = is_null_or_undefined.value.key
        }
      }
    }
  }

  retry_policy {
    max_delivery_attempts = each.value.retry_policy.max_delivery_attempts
    event_time_to_live    = each.value.retry_policy.event_time_to_live
  }

  dead_letter_identity {
    type                   = var.identity.type
    user_assigned_identity = local.user_assigned_identity_id
  }

  storage_blob_dead_letter_destination {
    storage_account_id          = local.dead_letter_account_id
    storage_blob_container_name = var.dead_letter_storage.container_name
  }

  # Event Grid checks its access when the subscription is created; the roles must exist first.
  depends_on = [azurerm_role_assignment.dead_letter_writer, azurerm_role_assignment.delivery_sender]
}
