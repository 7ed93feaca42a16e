# Every module input is declared here with the same name, type and default, so one rendered
# <module>.auto.tfvars.json works for this root and for the module alone. Validation stays in the module.

variable "environment" {
  description = "Deployment environment (e.g. staging, prod); tags or labels every resource."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,31}$", var.environment))
    error_message = "environment must be 1-32 lowercase letters, digits or hyphens, starting with a letter (e.g. \"staging\")."
  }
}

# Inputs of modules/azure-eventgrid

variable "name" {
  description = "Name of the Event Grid custom topic."
  type        = string
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
}

variable "local_auth_enabled" {
  description = "Allow access keys and SAS tokens for publishing. Off by default: publishers use Microsoft Entra ID (role EventGrid Data Sender)."
  type        = bool
  default     = false
}

variable "public_network_access_enabled" {
  description = "Whether publishers reach the topic over its public endpoint; narrow it with inbound_ip_rules."
  type        = bool
  default     = true
}

variable "inbound_ip_rules" {
  description = "CIDR ranges allowed to publish when public network access is on; empty allows all."
  type        = list(string)
  default     = []
}

variable "identity" {
  description = "Managed identity of the topic, used for dead-lettering and identity-based delivery. SystemAssigned, or UserAssigned with the identity's resource id and principal id."
  type = object({
    type                   = optional(string, "SystemAssigned")
    user_assigned_identity = optional(object({ id = string, principal_id = string }))
  })
  default = {}
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
}

variable "event_subscriptions" {
  description = "Event subscriptions on the topic, keyed by name. destination.type is webhook (webhook_url), storage_queue (resource_id = storage account id, queue_name), service_bus_queue, service_bus_topic or event_hub (resource_id). advanced_filters use Event Grid operators in snake_case (string_in, number_greater_than, bool_equals, is_not_null, number_in_range ...)."
  type = map(object({
    destination = object({
      type                              = string
      webhook_url                       = optional(string)
      resource_id                       = optional(string)
      queue_name                        = optional(string)
      max_events_per_batch              = optional(number)
      preferred_batch_size_in_kilobytes = optional(number)
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
    retry_policy = optional(object({
      max_delivery_attempts = optional(number, 30)
      event_time_to_live    = optional(number, 1440)
    }), {})
    labels = optional(list(string), [])
  }))
  default = {}
}

variable "alerts" {
  description = "Azure Monitor metric alerts on the topic, split per event subscription: any dead-lettered event, and dropped or failed deliveries above delivery_failure_threshold in 5 minutes. null creates none."
  type = object({
    action_group_ids           = optional(list(string), [])
    severity                   = optional(number, 2)
    delivery_failure_threshold = optional(number, 0)
  })
  default = {}
}
