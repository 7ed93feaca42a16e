# Every module input is declared here with the same name and type, so one rendered
# aws-sns-sqs-fanout.auto.tfvars.json works for this root and for the module alone.
# Defaults live only in the module: null here (or an omitted attribute) means "the module's default".

variable "environment" {
  description = "Deployment environment (e.g. staging, prod); tags every resource through the provider's default_tags."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,31}$", var.environment))
    error_message = "environment must be 1-32 lowercase letters, digits or hyphens, starting with a letter (e.g. \"staging\")."
  }
}

variable "region" {
  description = "AWS Region for the topic, queues, alarms and key."
  type        = string
  default     = "eu-west-1"

  validation {
    condition     = can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]$", var.region))
    error_message = "region must be an AWS Region code such as \"eu-west-1\"."
  }
}

variable "name" {
  description = "SNS topic name without `.fifo` (see the module)."
  type        = string
}

variable "fifo_topic" {
  description = "See the module."
  type        = bool
  default     = null
}

variable "content_based_deduplication" {
  description = "See the module."
  type        = bool
  default     = null
}

variable "kms_master_key_id" {
  description = "See the module; null creates a customer managed key."
  type        = string
  default     = null
}

variable "kms_key_deletion_window_in_days" {
  description = "See the module."
  type        = number
  default     = null
}

variable "subscribers" {
  description = "Subscriber queues by name (see the module)."
  type = map(object({
    filter_policy                           = optional(string)
    filter_policy_scope                     = optional(string)
    raw_message_delivery                    = optional(bool)
    visibility_timeout_seconds              = optional(number)
    message_retention_seconds               = optional(number)
    receive_wait_time_seconds               = optional(number)
    create_dlq                              = optional(bool)
    max_receive_count                       = optional(number)
    dlq_message_retention_seconds           = optional(number)
    age_of_oldest_message_threshold_seconds = optional(number)
  }))
}

variable "alarm_actions" {
  description = "See the module."
  type        = list(string)
  default     = null
}

variable "tags" {
  description = "See the module; environment, pattern and managed-by tags are added by the provider."
  type        = map(string)
  default     = null
}

# Inputs of modules/claim-check-store-aws-s3 (tags is shared with the topic and queues)

variable "bucket" {
  description = "Bucket of the claim-check payloads; null names it <name>-claim-checks."
  type        = string
  default     = null
}

variable "payload_expiration_days" {
  description = "See the module: days after which payloads are deleted."
  type        = number
  default     = 30
}

variable "max_message_retention_seconds" {
  description = "See the module: the longest a message with a claim check lives in a queue or DLQ (the rendered file derives it from the spec; 14 days, the SQS maximum, by default)."
  type        = number
  default     = 1209600
}

variable "kms_key_arn" {
  description = "See the module; null creates a dedicated key for the payloads."
  type        = string
  default     = null
}

variable "access_log_bucket" {
  description = "See the module; null disables access logging."
  type        = string
  default     = null
}
