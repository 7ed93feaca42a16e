variable "name" {
  description = "Name of the custom event bus; also prefixes the rules' dead-letter queues and the archive."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9._-]{1,40}$", var.name)) && var.name != "default" && !startswith(var.name, "aws.")
    error_message = "name must be 1-40 characters of letters, digits, . _ -, and not \"default\" or start with \"aws.\" (reserved by EventBridge)."
  }
}

variable "tags" {
  description = "Tags applied to every resource that takes them."
  type        = map(string)
  default     = {}
}

variable "kms_key_identifier" {
  description = "Customer managed KMS key (key id, key ARN, alias or alias ARN) encrypting events on the bus and in its archive; null uses an AWS owned key. An empty string is refused, not read as null."
  type        = string
  default     = null

  validation {
    condition     = var.kms_key_identifier == null || (can(regex("^(arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:(key/[A-Za-z0-9-]+|alias/[A-Za-z0-9/_-]+)|alias/[A-Za-z0-9/_-]+|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|mrk-[0-9a-fA-F]{32})$", coalesce(var.kms_key_identifier, "-"))) && !can(regex("(^|:)alias/aws/", coalesce(var.kms_key_identifier, "-"))))
    error_message = "kms_key_identifier \"${coalesce(var.kms_key_identifier, "-")}\" must be a customer managed KMS key: key id, key ARN (arn:aws:kms:REGION:ACCOUNT:key/ID), alias (alias/NAME, not alias/aws/...) or alias ARN; leave it null for an AWS owned key."
  }
}

variable "dead_letter_kms_key_id" {
  description = "KMS key for the dead-letter queues; null uses SQS-managed encryption (SSE-SQS). A customer managed key must allow events.amazonaws.com kms:GenerateDataKey and kms:Decrypt. An empty string is refused: it would leave the queues unencrypted."
  type        = string
  default     = null

  validation {
    # "" is not null, so SSE-SQS would be off while SQS reads the empty key as none: unencrypted dead letters.
    condition     = var.dead_letter_kms_key_id == null || (can(regex("^(arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:(key/[A-Za-z0-9-]+|alias/[A-Za-z0-9/_-]+)|alias/[A-Za-z0-9/_-]+|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|mrk-[0-9a-fA-F]{32})$", coalesce(var.dead_letter_kms_key_id, "-"))) && !can(regex("(^|:)alias/aws/", coalesce(var.dead_letter_kms_key_id, "-"))))
    error_message = "dead_letter_kms_key_id \"${coalesce(var.dead_letter_kms_key_id, "-")}\" must be a customer managed KMS key that EventBridge may use: key id, key ARN, alias (alias/NAME, not an AWS managed alias/aws/... whose policy cannot grant events.amazonaws.com) or alias ARN; leave it null for SSE-SQS."
  }
}

variable "archive" {
  description = "Archive of every event on the bus, for replay. retention_days = 0 keeps events indefinitely. null disables it."
  type = object({
    retention_days = optional(number, 7)
  })
  default = {}

  validation {
    condition     = var.archive == null || try(var.archive.retention_days >= 0 && floor(var.archive.retention_days) == var.archive.retention_days, false)
    error_message = "archive.retention_days must be a whole number of days, 0 (keep indefinitely) or more."
  }
}

variable "routes" {
  description = "One rule per route, keyed by rule name: its event pattern (JSON, as jsonencode() or from the spec) and up to 5 targets keyed by target id. alarm_thresholds.dlq_messages (the spec's `alerts.dlq_messages`, rendered by `edakit render`): the events the route's dead-letter queue may hold before its alarm fires (0: the first). Each route gets a dead-letter queue for events its targets could not take. The module does not write SQS target queues' policies: merge output target_queue_policies into them (sqs_queue_url, which used to hand a queue's policy to this module, is refused)."
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
    alarm_thresholds = optional(object({
      dlq_messages = optional(number, 0)
    }), {})
  }))

  validation {
    condition     = length(var.routes) > 0 && alltrue([for name, _ in var.routes : can(regex("^[A-Za-z0-9._-]{1,64}$", name))])
    error_message = "routes needs at least one route; each route name (map key) is the rule name: 1-64 letters, digits, . _ -."
  }

  validation {
    condition     = alltrue([for r in values(var.routes) : r.alarm_thresholds.dlq_messages >= 0 && floor(r.alarm_thresholds.dlq_messages) == r.alarm_thresholds.dlq_messages])
    error_message = "A route's alarm_thresholds.dlq_messages must be a whole number >= 0; invalid for: ${join(", ", [for k, r in var.routes : k if !(r.alarm_thresholds.dlq_messages >= 0 && floor(r.alarm_thresholds.dlq_messages) == r.alarm_thresholds.dlq_messages)])}."
  }

  validation {
    condition     = alltrue([for route, _ in var.routes : length("${var.name}-${route}-dlq") <= 80])
    error_message = "A route's dead-letter queue is named NAME-ROUTE-dlq and SQS allows 80 characters: shorten the bus name or the route name."
  }

  validation {
    condition     = alltrue([for r in values(var.routes) : can(keys(jsondecode(r.event_pattern)))])
    error_message = "Each route's event_pattern must be a JSON object, e.g. jsonencode({ source = [\"shop.orders\"], \"detail-type\" = [\"OrderPlaced\"] })."
  }

  validation {
    condition     = alltrue([for r in values(var.routes) : contains(["ENABLED", "DISABLED"], r.state)])
    error_message = "A route's state must be \"ENABLED\" or \"DISABLED\"."
  }

  validation {
    condition     = alltrue([for r in values(var.routes) : length(r.targets) >= 1 && length(r.targets) <= 5 && alltrue([for id, _ in r.targets : can(regex("^[A-Za-z0-9._-]{1,64}$", id))])])
    error_message = "Each route needs 1-5 targets (the EventBridge limit per rule), keyed by target id of 1-64 letters, digits, . _ -."
  }

  validation {
    condition     = alltrue(flatten([for r in values(var.routes) : [for t in values(r.targets) : can(regex("^arn:aws[a-z-]*:[a-z0-9-]+:", t.arn))]]))
    error_message = "Each target arn must be an ARN (arn:aws:SERVICE:...)."
  }

  validation {
    condition = alltrue(flatten([for r in values(var.routes) : [for t in values(r.targets) :
      t.retry_policy.maximum_event_age_in_seconds >= 60 && t.retry_policy.maximum_event_age_in_seconds <= 86400 &&
      t.retry_policy.maximum_retry_attempts >= 0 && t.retry_policy.maximum_retry_attempts <= 185
    ]]))
    error_message = "retry_policy.maximum_event_age_in_seconds must be 60-86400 and retry_policy.maximum_retry_attempts 0-185."
  }

  validation {
    # Kept in the type so that old callers fail loudly instead of having the attribute silently dropped.
    condition     = alltrue(flatten([for r in values(var.routes) : [for t in values(r.targets) : t.sqs_queue_url == null]]))
    error_message = "sqs_queue_url is no longer accepted: the module never writes the policy of a queue it did not create (that would replace the owner's statements). Remove it and merge output target_queue_policies[<queue arn>] into the queue's own aws_sqs_queue_policy (see the module README)."
  }

  validation {
    condition     = alltrue(flatten([for r in values(var.routes) : [for t in values(r.targets) : (endswith(t.arn, ".fifo") && startswith(t.arn, "arn:aws:sqs:")) == (t.message_group_id != null)]]))
    error_message = "FIFO queue targets (arn ending in .fifo) need message_group_id, and only they take one."
  }
}

variable "alarm_actions" {
  description = "ARNs (usually SNS topics) notified when a route's dead-letter queue holds more than its alarm threshold or events could not even be dead-lettered, and again when each recovers; an empty list still creates the alarms."
  type        = list(string)
  default     = []
  nullable    = false

  validation {
    condition     = alltrue([for arn in var.alarm_actions : startswith(arn, "arn:")])
    error_message = "alarm_actions must be ARNs (\"arn:aws:sns:...\"); invalid: ${join(", ", [for arn in var.alarm_actions : arn if !startswith(arn, "arn:")])}."
  }
}

variable "dead_letter_alarm_actions" {
  description = "Deprecated: use alarm_actions. When set, it replaces alarm_actions (this release only)."
  type        = list(string)
  default     = null

  validation {
    condition     = var.dead_letter_alarm_actions == null ? true : alltrue([for arn in var.dead_letter_alarm_actions : startswith(arn, "arn:")])
    error_message = "dead_letter_alarm_actions (deprecated: use alarm_actions) must be ARNs (\"arn:aws:sns:...\")."
  }
}

variable "runbook_url" {
  description = "Where the kit's alert runbooks (alerts/README.md) are published for the people paged; every alarm's description ends with `Runbook: <runbook_url>#<section>` (deadletterqueuenotempty, deliveryfailing). The default is the file's path in the kit repository."
  type        = string
  default     = "alerts/README.md"
  nullable    = false

  validation {
    condition     = length(var.runbook_url) > 0 && length(var.runbook_url) <= 512 && !strcontains(var.runbook_url, "#") && !can(regex("\\s", var.runbook_url))
    error_message = "runbook_url must be a URL or path of at most 512 characters without spaces and without a #fragment (each alarm adds its section's anchor)."
  }
}

variable "create_dashboard" {
  description = "Create a CloudWatch dashboard named after the bus: per route its matched events, invocations, failures and dead letters, and its dead-letter queue's depth with the alarm threshold drawn in."
  type        = bool
  default     = true
  nullable    = false
}
