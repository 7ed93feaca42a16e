variable "name" {
  description = "Name of the Event Grid custom topic."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9-]{3,50}$", var.name))
    error_message = "name must be 3-50 characters of letters, digits and hyphens."
  }
}

variable "resource_group_name" {
  description = "Resource group for the topic (and the dead-letter storage when created here)."
  type        = string
}

variable "location" {
  description = "Azure region, e.g. westeurope."
  type        = string
}

variable "tags" {
  description = "Tags applied to every resource that takes them."
  type        = map(string)
  default     = {}
}

variable "input_schema" {
  description = "Schema publishers use: CloudEventSchemaV1_0 (CloudEvents 1.0) or EventGridSchema."
  type        = string
  default     = "CloudEventSchemaV1_0"

  validation {
    condition     = contains(["CloudEventSchemaV1_0", "EventGridSchema"], var.input_schema)
    error_message = "input_schema must be \"CloudEventSchemaV1_0\" or \"EventGridSchema\"."
  }
}

variable "local_auth_enabled" {
  description = "Allow access keys and SAS tokens for publishing. Off by default: publishers use Microsoft Entra ID (role EventGrid Data Sender)."
  type        = bool
  default     = false
}

variable "public_network_access_enabled" {
  description = "Whether publishers reach the topic over its public endpoint. Off by default (publish through a private endpoint); when on, inbound_ip_rules must list the publishers' ranges unless allow_public_network_access_without_ip_rules is set."
  type        = bool
  default     = false

  validation {
    condition     = !var.public_network_access_enabled || length(var.inbound_ip_rules) > 0 || var.allow_public_network_access_without_ip_rules
    error_message = "public_network_access_enabled = true with no inbound_ip_rules opens the topic's endpoint to the whole internet: list the publishers' CIDR ranges in inbound_ip_rules, or set allow_public_network_access_without_ip_rules = true to accept that."
  }
}

variable "allow_public_network_access_without_ip_rules" {
  description = "Opt-out: accept a public topic endpoint reachable from any address (public_network_access_enabled = true with empty inbound_ip_rules). Publishers still need Entra ID and the EventGrid Data Sender role."
  type        = bool
  default     = false
}

variable "inbound_ip_rules" {
  description = "CIDR ranges allowed to publish when public network access is on."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for cidr in var.inbound_ip_rules : can(cidrhost(cidr, 0))])
    error_message = "Each inbound_ip_rules entry must be a CIDR range such as 203.0.113.0/24."
  }
}

variable "identity" {
  description = "Managed identity of the topic, used for dead-lettering and identity-based delivery. SystemAssigned, or UserAssigned with the identity's resource id and principal id."
  type = object({
    type                   = optional(string, "SystemAssigned")
    user_assigned_identity = optional(object({ id = string, principal_id = string }))
  })
  default = {}

  validation {
    condition     = contains(["SystemAssigned", "UserAssigned"], var.identity.type) && (var.identity.type == "SystemAssigned") == (var.identity.user_assigned_identity == null) && (var.identity.user_assigned_identity == null || try(trimspace(var.identity.user_assigned_identity.id) != "" && trimspace(var.identity.user_assigned_identity.principal_id) != "", false))
    error_message = "identity.type must be \"SystemAssigned\" (no user_assigned_identity) or \"UserAssigned\" with user_assigned_identity = { id, principal_id }, neither of them empty."
  }
}

variable "dead_letter_storage" {
  description = "Blob container receiving dead letters (Blob storage is Event Grid's only dead-letter target). create = true makes a hardened storage account named storage_account_name; otherwise storage_account_id names an existing one. The topic's identity gets Storage Blob Data Contributor on the container."
  type = object({
    create               = optional(bool, true)
    storage_account_name = optional(string)
    storage_account_id   = optional(string)
    container_name       = optional(string, "dead-letters")
    retention_days       = optional(number, 30)
  })

  validation {
    condition     = var.dead_letter_storage.create ? can(regex("^[a-z0-9]{3,24}$", var.dead_letter_storage.storage_account_name)) : can(regex("^/subscriptions/[^/]+/resourceGroups/[^/]+/providers/Microsoft.Storage/storageAccounts/[a-z0-9]{3,24}$", var.dead_letter_storage.storage_account_id))
    error_message = "With create = true set storage_account_name (3-24 lowercase letters and digits); with create = false set storage_account_id to the storage account's resource id."
  }

  validation {
    condition     = can(regex("^[a-z0-9](?:[a-z0-9]|-[a-z0-9]){2,62}$", var.dead_letter_storage.container_name))
    error_message = "dead_letter_storage.container_name must be 3-63 lowercase letters, digits and single hyphens, starting and ending with a letter or digit."
  }

  validation {
    condition     = var.dead_letter_storage.retention_days >= 1 && var.dead_letter_storage.retention_days <= 36500
    error_message = "dead_letter_storage.retention_days (days before dead letters are deleted) must be between 1 and 36500."
  }
}

variable "event_subscriptions" {
  description = "Event subscriptions on the topic, keyed by name. destination.type is webhook (webhook_url), storage_queue (resource_id = storage account id, queue_name), service_bus_queue, service_bus_topic or event_hub (resource_id). A webhook authenticates Event Grid with a Microsoft Entra ID token (active_directory_tenant_id and active_directory_app_id_or_uri of the webhook's application) and/or a secret header (secret_header_name; the value in webhook_delivery_secrets); allow_unauthenticated_webhook = true is the opt-out. advanced_filters use Event Grid operators in snake_case (string_in, number_greater_than, bool_equals, is_not_null, number_in_range ...). alarm_thresholds.dlq_messages (the spec's `alerts.dlq_messages`, rendered by `edakit render`): events the subscription may dead-letter in 5 minutes before its alert fires (0: the first)."
  type = map(object({
    destination = object({
      type                              = string
      webhook_url                       = optional(string)
      resource_id                       = optional(string)
      queue_name                        = optional(string)
      max_events_per_batch              = optional(number)
      preferred_batch_size_in_kilobytes = optional(number)
      active_directory_tenant_id        = optional(string)
      active_directory_app_id_or_uri    = optional(string)
      secret_header_name                = optional(string)
      allow_unauthenticated_webhook     = optional(bool, false)
    })
    included_event_types = optional(list(string))
    subject_filter = optional(object({
      subject_begins_with = optional(string)
      subject_ends_with   = optional(string)
      case_sensitive      = optional(bool, false)
    }))
    advanced_filters = optional(list(object({
      operator = string
      key      = string
      value    = optional(string)
      values   = optional(list(string))
      ranges   = optional(list(list(number)))
    })), [])
    advanced_filtering_on_arrays_enabled = optional(bool, false)
    alarm_thresholds = optional(object({
      dlq_messages = optional(number, 0)
    }), {})
    retry_policy = optional(object({
      max_delivery_attempts = optional(number, 30)
      event_time_to_live    = optional(number, 1440)
    }), {})
    labels = optional(list(string), [])
  }))
  default = {}

  validation {
    condition     = alltrue([for name, _ in var.event_subscriptions : can(regex("^[A-Za-z0-9-]{3,64}$", name))])
    error_message = "Each event subscription name (map key) must be 3-64 letters, digits or hyphens."
  }

  validation {
    condition     = alltrue([for s in values(var.event_subscriptions) : contains(["webhook", "storage_queue", "service_bus_queue", "service_bus_topic", "event_hub"], s.destination.type)])
    error_message = "destination.type must be one of webhook, storage_queue, service_bus_queue, service_bus_topic, event_hub."
  }

  validation {
    condition = alltrue([for s in values(var.event_subscriptions) : (
      s.destination.type == "webhook" ? startswith(coalesce(s.destination.webhook_url, "-"), "https://") && s.destination.resource_id == null :
      s.destination.type == "storage_queue" ? s.destination.resource_id != null && s.destination.queue_name != null :
      s.destination.resource_id != null && s.destination.webhook_url == null
    )])
    error_message = "Each subscription needs exactly its destination: webhook needs an https:// webhook_url; storage_queue needs resource_id (storage account id) and queue_name; service_bus_queue, service_bus_topic and event_hub need resource_id."
  }

  validation {
    condition = alltrue([for name, s in var.event_subscriptions : s.destination.type != "webhook" || (
      (s.destination.active_directory_tenant_id != null && s.destination.active_directory_app_id_or_uri != null) ||
      (s.destination.secret_header_name != null && contains(nonsensitive(keys(var.webhook_delivery_secrets)), name)) ||
      s.destination.allow_unauthenticated_webhook
    )])
    error_message = "Each webhook subscription needs a way for the webhook to authenticate Event Grid: active_directory_tenant_id and active_directory_app_id_or_uri (a Microsoft Entra ID token), and/or secret_header_name with its value in webhook_delivery_secrets[<subscription name>]. To deliver unauthenticated, set allow_unauthenticated_webhook = true."
  }

  validation {
    condition = alltrue([for s in values(var.event_subscriptions) : (
      (s.destination.active_directory_tenant_id == null) == (s.destination.active_directory_app_id_or_uri == null) &&
      (s.destination.active_directory_app_id_or_uri == null || try(trimspace(s.destination.active_directory_app_id_or_uri) != "", false)) &&
      (s.destination.active_directory_tenant_id == null || can(regex("^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$", s.destination.active_directory_tenant_id))) &&
      (s.destination.secret_header_name == null || (can(regex("^[A-Za-z0-9-]{1,64}$", s.destination.secret_header_name)) && !startswith(lower(coalesce(s.destination.secret_header_name, "-")), "aeg-") && (lower(coalesce(s.destination.secret_header_name, "-")) != "authorization" || s.destination.active_directory_tenant_id == null))) &&
      (s.destination.type == "webhook" || (s.destination.active_directory_tenant_id == null && s.destination.secret_header_name == null && !s.destination.allow_unauthenticated_webhook))
    )])
    error_message = "Webhook authentication settings: active_directory_tenant_id (a GUID) and active_directory_app_id_or_uri (not empty) go together; secret_header_name is 1-64 letters, digits and hyphens, not aeg-* (Event Grid's own headers) and not Authorization when Entra ID sends the bearer token there; only webhook destinations take these settings and allow_unauthenticated_webhook."
  }

  validation {
    condition     = alltrue([for name in nonsensitive(keys(var.webhook_delivery_secrets)) : try(var.event_subscriptions[name].destination.secret_header_name != null, false)])
    error_message = "Each webhook_delivery_secrets key must name an event subscription that sets destination.secret_header_name."
  }

  validation {
    condition     = alltrue([for s in values(var.event_subscriptions) : s.alarm_thresholds.dlq_messages >= 0 && floor(s.alarm_thresholds.dlq_messages) == s.alarm_thresholds.dlq_messages])
    error_message = "alarm_thresholds.dlq_messages must be a whole number >= 0; invalid for: ${join(", ", [for k, s in var.event_subscriptions : k if !(s.alarm_thresholds.dlq_messages >= 0 && floor(s.alarm_thresholds.dlq_messages) == s.alarm_thresholds.dlq_messages)])}."
  }

  validation {
    condition     = alltrue([for s in values(var.event_subscriptions) : s.retry_policy.max_delivery_attempts >= 1 && s.retry_policy.max_delivery_attempts <= 30])
    error_message = "retry_policy.max_delivery_attempts must be between 1 and 30."
  }

  validation {
    condition     = alltrue([for s in values(var.event_subscriptions) : s.retry_policy.event_time_to_live >= 1 && s.retry_policy.event_time_to_live <= 1440])
    error_message = "retry_policy.event_time_to_live must be between 1 and 1440 minutes (24 hours)."
  }

  validation {
    condition = alltrue(flatten([for s in values(var.event_subscriptions) : [for f in s.advanced_filters : contains([
      "bool_equals", "is_not_null", "is_null_or_undefined",
      "number_greater_than", "number_greater_than_or_equals", "number_less_than", "number_less_than_or_equals",
      "number_in", "number_not_in", "number_in_range", "number_not_in_range",
      "string_begins_with", "string_not_begins_with", "string_ends_with", "string_not_ends_with",
      "string_contains", "string_not_contains", "string_in", "string_not_in",
    ], f.operator)]]))
    error_message = "advanced_filters[].operator must be an Event Grid operator in snake_case: bool_equals, is_not_null, is_null_or_undefined, number_greater_than(_or_equals), number_less_than(_or_equals), number_in, number_not_in, number_in_range, number_not_in_range, string_(not_)begins_with, string_(not_)ends_with, string_(not_)contains, string_in, string_not_in."
  }

  validation {
    condition = alltrue(flatten([for s in values(var.event_subscriptions) : [for f in s.advanced_filters : (
      contains(["is_not_null", "is_null_or_undefined"], f.operator) ? f.value == null && f.values == null && f.ranges == null :
      f.operator == "bool_equals" ? contains(["true", "false"], coalesce(f.value, "-")) :
      contains(["number_greater_than", "number_greater_than_or_equals", "number_less_than", "number_less_than_or_equals"], f.operator) ? can(tonumber(f.value)) :
      contains(["number_in_range", "number_not_in_range"], f.operator) ? length((f.ranges == null ? [] : f.ranges)) > 0 && alltrue([for r in(f.ranges == null ? [] : f.ranges) : length(r) == 2]) :
      startswith(f.operator, "number_") ? length((f.values == null ? [] : f.values)) > 0 && alltrue([for v in(f.values == null ? [] : f.values) : can(tonumber(v))]) :
      length((f.values == null ? [] : f.values)) > 0
    )]]))
    error_message = "Each advanced filter needs the operand its operator takes: value \"true\"/\"false\" for bool_equals; a numeric value for number_greater_than/less_than(_or_equals); numeric values for number_in/not_in; ranges [[low, high], ...] for number_(not_)in_range; values for string_* operators; nothing for is_not_null/is_null_or_undefined."
  }

  validation {
    condition     = alltrue([for s in values(var.event_subscriptions) : length(s.advanced_filters) <= 25 && sum(concat([0], [for f in s.advanced_filters : (f.values != null ? length(f.values) : f.ranges != null ? length(f.ranges) : f.value != null ? 1 : 0)])) <= 25])
    error_message = "An event subscription allows at most 25 advanced filters and 25 filter values across them."
  }
}

variable "webhook_delivery_secrets" {
  description = "Secret header values of webhook subscriptions with destination.secret_header_name, keyed by subscription name; sent by Event Grid as a secret delivery property. Pass them from a secret store (e.g. TF_VAR_webhook_delivery_secrets), never from a committed var file."
  type        = map(string)
  default     = {}
  sensitive   = true

  validation {
    condition     = alltrue([for v in values(var.webhook_delivery_secrets) : length(v) >= 16 && length(v) <= 4096])
    error_message = "Each webhook_delivery_secrets value must be 16-4096 characters (Event Grid takes header values of up to 4 KB)."
  }
}

variable "alerts" {
  description = "Azure Monitor metric alerts: per event subscription any dead-lettered event (above its alarm_thresholds.dlq_messages in 5 minutes), and on the topic, split per event subscription, dropped or failed deliveries above delivery_failure_threshold in 5 minutes. action_group_ids is deprecated: use alarm_actions (both are notified). null creates none."
  type = object({
    action_group_ids           = optional(list(string), [])
    severity                   = optional(number, 2)
    delivery_failure_threshold = optional(number, 0)
  })
  default = {}

  validation {
    condition     = var.alerts == null || try(var.alerts.severity >= 0 && var.alerts.severity <= 4 && var.alerts.delivery_failure_threshold >= 0, false)
    error_message = "alerts.severity must be 0-4 and alerts.delivery_failure_threshold >= 0."
  }
}

variable "alarm_actions" {
  description = "Azure Monitor action group ids notified by every alert of the module (the same input as the AWS modules' alarm_actions)."
  type        = list(string)
  default     = []
  nullable    = false

  validation {
    condition     = alltrue([for id in var.alarm_actions : can(regex("(?i)^/subscriptions/[^/]+/resourceGroups/[^/]+/providers/Microsoft\\.Insights/actionGroups/[^/]+$", id))])
    error_message = "alarm_actions must be action group resource ids (/subscriptions/<id>/resourceGroups/<group>/providers/Microsoft.Insights/actionGroups/<name>); invalid: ${join(", ", [for id in var.alarm_actions : id if !can(regex("(?i)^/subscriptions/[^/]+/resourceGroups/[^/]+/providers/Microsoft\\.Insights/actionGroups/[^/]+$", id))])}."
  }
}

variable "runbook_url" {
  description = "Where the kit's alert runbooks (alerts/README.md) are published for the people paged; every alert's description ends with `Runbook: <runbook_url>#<section>` (deadletterqueuenotempty, deliveryfailing). The default is the file's path in the kit repository."
  type        = string
  default     = "alerts/README.md"
  nullable    = false

  validation {
    condition     = length(var.runbook_url) > 0 && length(var.runbook_url) <= 512 && !strcontains(var.runbook_url, "#") && !can(regex("\\s", var.runbook_url))
    error_message = "runbook_url must be a URL or path of at most 512 characters without spaces and without a #fragment (each alert adds its section's anchor)."
  }
}
