# Every module input is declared here with the same name and type, so one rendered
# kafka-topics.auto.tfvars.json works for this root and for the module alone.
# Defaults live only in the module: null here (or an omitted attribute) means "the module's default".

variable "environment" {
  description = "Deployment environment (e.g. staging, prod); topic names rendered for it should mention it."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,31}$", var.environment))
    error_message = "environment must be 1-32 lowercase letters, digits or hyphens, starting with a letter (e.g. \"staging\")."
  }
}

variable "bootstrap_servers" {
  description = "Brokers the provider connects to, as host:port. Credentials come from KAFKA_SASL_USERNAME / KAFKA_SASL_PASSWORD / KAFKA_SASL_MECHANISM, never from a var file."
  type        = list(string)

  validation {
    condition     = length(var.bootstrap_servers) > 0 && alltrue([for server in var.bootstrap_servers : can(regex("^[^:/\\s]+:[0-9]{1,5}$", server))])
    error_message = "bootstrap_servers must list at least one broker as host:port, e.g. [\"kafka-1.internal:9092\"]."
  }
}

variable "default_partitions" {
  description = "See the module."
  type        = number
  default     = null
}

variable "default_replication_factor" {
  description = "See the module."
  type        = number
  default     = null
}

variable "default_retention_hours" {
  description = "See the module."
  type        = number
  default     = null
}

variable "default_min_insync_replicas" {
  description = "See the module."
  type        = number
  default     = null
}

variable "topics" {
  description = "Topics by full name (see the module)."
  type = map(object({
    partitions          = optional(number)
    replication_factor  = optional(number)
    retention_hours     = optional(number)
    min_insync_replicas = optional(number)
    cleanup_policy      = optional(string)
    config              = optional(map(string))
    producers           = optional(list(string))
  }))
}

variable "consumer_groups" {
  description = "Consumer groups by id (see the module)."
  type = map(object({
    topics              = list(string)
    principals          = optional(list(string))
    retry_topic_count   = optional(number)
    dlq_retention_hours = optional(number)
  }))
  default = null
}
