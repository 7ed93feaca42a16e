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

# Inputs of modules/gcp-pubsub

variable "project_id" {
  description = "Project that owns the topic, its subscriptions and their dead-letter topics."
  type        = string
}

variable "topic_name" {
  description = "Name of the Pub/Sub topic the producers publish to."
  type        = string
}

variable "labels" {
  description = "Labels applied to every topic and subscription."
  type        = map(string)
  default     = {}
}

variable "message_retention_duration" {
  description = "How long the topic keeps messages for seek/replay, e.g. \"86400s\" (10 minutes to 31 days); null keeps none."
  type        = string
  default     = null
}

variable "kms_key_name" {
  description = "Cloud KMS key (CMEK) for the topic and its dead-letter topics; null uses Google-managed encryption. The Pub/Sub service agent needs roles/cloudkms.cryptoKeyEncrypterDecrypter on it."
  type        = string
  default     = null
}

variable "schema" {
  description = "Optional Pub/Sub schema for the topic: definition is the content of the kit's Avro schema file (.avsc JSON); encoding is JSON or BINARY."
  type = object({
    name       = optional(string)
    definition = string
    encoding   = optional(string, "JSON")
  })
  default = null
}

variable "subscriptions" {
  description = "Subscriptions on the topic, keyed by subscription name. A subscription with push set is a push subscription, otherwise pull. Each gets a dead-letter topic and a subscription on it unless dead_letter_policy.enabled is false."
  type = map(object({
    ack_deadline_seconds         = optional(number, 20)
    message_retention_duration   = optional(string, "604800s")
    filter                       = optional(string)
    enable_message_ordering      = optional(bool, false)
    enable_exactly_once_delivery = optional(bool, false)
    retry_policy = optional(object({
      minimum_backoff = optional(string, "10s")
      maximum_backoff = optional(string, "600s")
    }), {})
    dead_letter_policy = optional(object({
      enabled               = optional(bool, true)
      max_delivery_attempts = optional(number, 5)
    }), {})
    push = optional(object({
      endpoint                   = string
      oidc_service_account_email = optional(string)
      audience                   = optional(string)
    }))
  }))
  default = {}
}

variable "alerts" {
  description = "Cloud Monitoring alert policies per subscription: dead-lettered messages above dead_letter_threshold (per 5 minutes), and oldest unacked message older than oldest_unacked_age_seconds. null creates none."
  type = object({
    notification_channels      = optional(list(string), [])
    dead_letter_threshold      = optional(number, 0)
    oldest_unacked_age_seconds = optional(number, 600)
  })
  default = {}
}
