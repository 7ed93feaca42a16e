# Least-privilege role assignments for the identities that use this topic (Microsoft Entra ID object ids), each
# with a data-plane role on exactly one resource, and an output listing every assignment:
#
# - publisher_principal_ids: "EventGrid Data Sender" on the topic (the topic keeps local auth off, so an identity
#   with this role is the only way to publish).
# - subscriber_principal_ids[<event subscription>] for storage-queue destinations: "Storage Queue Data Message
#   Processor" on that one queue (peek, receive, delete). Webhook subscribers need no Azure role: Event Grid calls
#   them with its own Entra ID token (EventGridWebhook's EntraIdToken checks it).
# - dead_letter_operator_principal_ids: "Storage Blob Data Contributor" on the dead-letter container only (read the
#   dead letters, delete what was replayed) and "EventGrid Data Sender" on the topic (a replay is published there).

variable "publisher_principal_ids" {
  description = "Object ids of the identities that publish to the topic: EventGrid Data Sender on the topic."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for id in var.publisher_principal_ids : can(regex("^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$", id))])
    error_message = "publisher_principal_ids: each entry is an Entra ID object id (a GUID)."
  }
}

variable "subscriber_principal_ids" {
  description = "Object ids of the identities that consume a storage-queue event subscription, by subscription name: Storage Queue Data Message Processor on its queue."
  type        = map(list(string))
  default     = {}

  validation {
    condition     = alltrue([for id in flatten(values(var.subscriber_principal_ids)) : can(regex("^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$", id))])
    error_message = "subscriber_principal_ids: each entry is an Entra ID object id (a GUID)."
  }

  validation {
    condition     = alltrue([for name in keys(var.subscriber_principal_ids) : contains([for n, s in var.event_subscriptions : n if s.destination.type == "storage_queue"], name)])
    error_message = "subscriber_principal_ids: every key must be an event subscription with a storage_queue destination (webhook subscribers need no role; Service Bus and Event Hubs consumers get theirs on their own namespace)."
  }
}

variable "dead_letter_operator_principal_ids" {
  description = "Object ids of the identities that read and replay dead letters: Storage Blob Data Contributor on the dead-letter container and EventGrid Data Sender on the topic."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for id in var.dead_letter_operator_principal_ids : can(regex("^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$", id))])
    error_message = "dead_letter_operator_principal_ids: each entry is an Entra ID object id (a GUID)."
  }
}

locals {
  iam_assignments = merge(
    { for id in var.publisher_principal_ids : "publisher/${id}" => { scope = azurerm_eventgrid_topic.this.id, role = "EventGrid Data Sender", principal_id = id } },
    merge([for name, ids in var.subscriber_principal_ids : {
      for id in ids : "subscriber/${name}/${id}" => {
        scope        = "${var.event_subscriptions[name].destination.resource_id}/queueServices/default/queues/${var.event_subscriptions[name].destination.queue_name}"
        role         = "Storage Queue Data Message Processor"
        principal_id = id
      }
    }]...),
    { for id in var.dead_letter_operator_principal_ids : "dead-letter-reader/${id}" => { scope = local.dead_letter_container_scope, role = "Storage Blob Data Contributor", principal_id = id } },
    { for id in var.dead_letter_operator_principal_ids : "dead-letter-replayer/${id}" => { scope = azurerm_eventgrid_topic.this.id, role = "EventGrid Data Sender", principal_id = id } },
  )
}

resource "azurerm_role_assignment" "least_privilege" {
  for_each = local.iam_assignments

  scope                = each.value.scope
  role_definition_name = each.value.role
  principal_id         = each.value.principal_id
}

output "role_assignments" {
  description = "Every role assignment the module makes for publishers, subscribers and dead-letter operators, by key (publisher/<id>, subscriber/<subscription>/<id>, dead-letter-reader/<id>, dead-letter-replayer/<id>): scope, role and principal_id."
  value       = { for key, a in azurerm_role_assignment.least_privilege : key => { scope = a.scope, role = a.role_definition_name, principal_id = a.principal_id } }
}
