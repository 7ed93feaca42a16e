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

variable "region" {
  description = "AWS Region of every resource of this root."
  type        = string
  default     = "eu-west-1"

  validation {
    condition     = can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]$", var.region))
    error_message = "region must be an AWS Region code such as \"eu-west-1\"."
  }
}

# Inputs of modules/aws-eventbridge-routing

variable "name" {
  description = "Name of the custom event bus; also prefixes the rules' dead-letter queues and the archive."
  type        = string
}

variable "tags" {
  description = "Tags applied to every resource that takes them."
  type        = map(string)
  default     = {}
}

variable "kms_key_identifier" {
  description = "KMS key (ARN, key id, alias) encrypting events on the bus and in its archive; null uses an AWS owned key."
  type        = string
  default     = null
}

variable "dead_letter_kms_key_id" {
  description = "KMS key for the dead-letter queues; null uses SQS-managed encryption (SSE-SQS). A customer managed key must allow events.amazonaws.com kms:GenerateDataKey and kms:Decrypt."
  type        = string
  default     = null
}

variable "archive" {
  description = "Archive of every event on the bus, for replay. retention_days = 0 keeps events indefinitely. null disables it."
  type = object({
    retention_days = optional(number, 7)
  })
  default = {}
}

variable "routes" {
  description = "One rule per route, keyed by rule name: its event pattern (JSON, as jsonencode() or from the spec) and up to 5 targets keyed by target id. Each route gets a dead-letter queue for events its targets could not take. Set sqs_queue_url on an SQS target to let this module own that queue's policy (allowing only these rules to send)."
  type = map(object({
    description   = optional(string)
    event_pattern = string
    state         = optional(string, "ENABLED")
    targets = map(object({
      arn              = string
      sqs_queue_url    = optional(string)
      message_group_id = optional(string)
      role_arn         = optional(string)
      input_path       = optional(string)
      retry_policy = optional(object({
        maximum_event_age_in_seconds = optional(number, 86400)
        maximum_retry_attempts       = optional(number, 185)
      }), {})
    }))
  }))
}

variable "dead_letter_alarm_actions" {
  description = "SNS topic ARNs notified when a route's dead-letter queue holds messages; an empty list still creates the alarms."
  type        = list(string)
  default     = []
}
