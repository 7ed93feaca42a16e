variable "name" {
  description = "Name of the SNS topic, without the `.fifo` suffix (added when `fifo_topic` is true). Queue names derive from it: `<name>-<subscriber>` and `<name>-<subscriber>-dlq`."
  type        = string
  nullable    = false

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]+$", var.name)) && length(var.name) <= (var.fifo_topic ? 251 : 256)
    error_message = "name \"${var.name}\" must be 1-256 characters (1-251 for a FIFO topic, which gets a \".fifo\" suffix) of letters, digits, hyphens and underscores."
  }

  validation {
    # KMS alias names are limited to 256 characters including the "alias/" prefix.
    condition     = var.kms_master_key_id != null || length(var.name) <= 250
    error_message = "name is ${length(var.name)} characters, but the module-created KMS key is aliased \"alias/<name>\", which allows at most 250: shorten name or pass kms_master_key_id."
  }
}

variable "fifo_topic" {
  description = "Create a FIFO topic; every subscriber queue and DLQ is then FIFO too (SNS FIFO topics deliver only to FIFO queues)."
  type        = bool
  default     = false
  nullable    = false
}

variable "content_based_deduplication" {
  description = "FIFO only: SNS derives the deduplication id from a SHA-256 of the message body, so publishers need not send one."
  type        = bool
  default     = false
  nullable    = false

  validation {
    condition     = var.fifo_topic || !var.content_based_deduplication
    error_message = "content_based_deduplication applies only to FIFO topics: set fifo_topic = true or content_based_deduplication = false."
  }
}

variable "kms_master_key_id" {
  description = "KMS key (id, ARN, alias or alias ARN) that encrypts the topic and all queues. Null: the module creates a customer managed key whose policy lets SNS and SQS use it. There is no unencrypted mode: an empty string is refused, not read as \"off\"."
  type        = string
  default     = null

  validation {
    # SNS and SQS read "" as "no key" and plan unencrypted resources, so only a well-formed key reference passes.
    condition     = var.kms_master_key_id == null || can(regex("^(arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:(key/[A-Za-z0-9-]+|alias/[A-Za-z0-9/_-]+)|alias/[A-Za-z0-9/_-]+|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|mrk-[0-9a-fA-F]{32})$", coalesce(var.kms_master_key_id, "-")))
    error_message = "kms_master_key_id \"${coalesce(var.kms_master_key_id, "-")}\" is not a KMS key reference: give a key id, key ARN (arn:aws:kms:REGION:ACCOUNT:key/ID), alias (alias/NAME) or alias ARN, or leave it null to let the module create a key. An empty string would plan an unencrypted topic and queues."
  }

  validation {
    condition     = var.kms_master_key_id == null || !can(regex("(^|:)alias/aws/", coalesce(var.kms_master_key_id, "-")))
    error_message = "kms_master_key_id must be a customer managed key: SNS cannot use an AWS managed key (alias/aws/...) to deliver to encrypted SQS queues because its key policy cannot be changed. Leave it null to let the module create one."
  }
}

variable "kms_key_deletion_window_in_days" {
  description = "Waiting period before a module-created KMS key is deleted."
  type        = number
  default     = 30
  nullable    = false

  validation {
    condition     = var.kms_key_deletion_window_in_days >= 7 && var.kms_key_deletion_window_in_days <= 30 && floor(var.kms_key_deletion_window_in_days) == var.kms_key_deletion_window_in_days
    error_message = "kms_key_deletion_window_in_days must be a whole number of days from 7 to 30 (the range AWS KMS accepts)."
  }
}

variable "subscribers" {
  description = <<-EOT
    One SQS queue (with its own DLQ, redrive policy, queue policy and alarms) per entry; the key names the subscriber.
    filter_policy: SNS filter policy JSON, applied to message attributes or, with filter_policy_scope = "MessageBody", to the body.
    create_dlq = false drops the subscriber's DLQ, redrive policies and DLQ alarm: failed messages are then retried until retention expires.
    max_receive_count: receives before SQS moves a message to the DLQ. age_of_oldest_message_threshold_seconds: alarm threshold.
    alarm_thresholds (the spec's `alerts`, rendered by `edakit render`): lag_messages, the visible messages the queue may hold
    (backlog alarm); dlq_messages, the messages its DLQ may hold (0: alarm on the first); for_seconds, how long the
    backlog and age conditions must hold before their alarms fire (whole minutes, 60-86400).
  EOT
  type = map(object({
    filter_policy                           = optional(string)
    filter_policy_scope                     = optional(string, "MessageAttributes")
    raw_message_delivery                    = optional(bool, false)
    visibility_timeout_seconds              = optional(number, 30)
    message_retention_seconds               = optional(number, 345600)
    receive_wait_time_seconds               = optional(number, 20)
    create_dlq                              = optional(bool, true)
    max_receive_count                       = optional(number, 5)
    dlq_message_retention_seconds           = optional(number, 1209600)
    age_of_oldest_message_threshold_seconds = optional(number, 600)
    alarm_thresholds = optional(object({
      lag_messages = optional(number, 1000)
      dlq_messages = optional(number, 0)
      for_seconds  = optional(number, 300)
    }), {})
  }))
  nullable = false

  validation {
    condition     = length(var.subscribers) > 0
    error_message = "subscribers must have at least one entry: a fan-out topic without subscribers drops every message."
  }

  validation {
    condition     = alltrue([for key in keys(var.subscribers) : can(regex("^[A-Za-z0-9_-]+$", key))])
    error_message = "subscriber names must use only letters, digits, hyphens and underscores (they become part of queue names); invalid: ${join(", ", [for key in keys(var.subscribers) : key if !can(regex("^[A-Za-z0-9_-]+$", key))])}."
  }

  validation {
    condition     = alltrue([for key in keys(var.subscribers) : length("${var.name}-${key}-dlq") + (var.fifo_topic ? 5 : 0) <= 80])
    error_message = "SQS queue names are limited to 80 characters; these subscribers give a DLQ name \"<name>-<subscriber>-dlq${var.fifo_topic ? ".fifo" : ""}\" that is too long, shorten name or the subscriber key: ${join(", ", [for key in keys(var.subscribers) : key if length("${var.name}-${key}-dlq") + (var.fifo_topic ? 5 : 0) > 80])}."
  }

  validation {
    condition     = alltrue([for s in values(var.subscribers) : s.max_receive_count >= 1 && s.max_receive_count <= 1000 && floor(s.max_receive_count) == s.max_receive_count])
    error_message = "max_receive_count must be a whole number from 1 to 1000 (the SQS redrive policy range); invalid for: ${join(", ", [for k, s in var.subscribers : k if !(s.max_receive_count >= 1 && s.max_receive_count <= 1000 && floor(s.max_receive_count) == s.max_receive_count)])}."
  }

  validation {
    condition     = alltrue([for s in values(var.subscribers) : s.message_retention_seconds >= 60 && s.message_retention_seconds <= 1209600])
    error_message = "message_retention_seconds must be from 60 (1 minute) to 1209600 (14 days); invalid for: ${join(", ", [for k, s in var.subscribers : k if !(s.message_retention_seconds >= 60 && s.message_retention_seconds <= 1209600)])}."
  }

  validation {
    condition     = alltrue([for s in values(var.subscribers) : s.dlq_message_retention_seconds >= 60 && s.dlq_message_retention_seconds <= 1209600])
    error_message = "dlq_message_retention_seconds must be from 60 (1 minute) to 1209600 (14 days); invalid for: ${join(", ", [for k, s in var.subscribers : k if !(s.dlq_message_retention_seconds >= 60 && s.dlq_message_retention_seconds <= 1209600)])}."
  }

  validation {
    # A standard DLQ keeps the original enqueue timestamp, so a shorter DLQ retention deletes messages early.
    condition     = alltrue([for s in values(var.subscribers) : !s.create_dlq || s.dlq_message_retention_seconds >= s.message_retention_seconds])
    error_message = "dlq_message_retention_seconds must be at least message_retention_seconds, or dead-lettered messages expire before anyone can inspect them; raise it for: ${join(", ", [for k, s in var.subscribers : k if s.create_dlq && s.dlq_message_retention_seconds < s.message_retention_seconds])}."
  }

  validation {
    condition     = alltrue([for s in values(var.subscribers) : s.visibility_timeout_seconds >= 0 && s.visibility_timeout_seconds <= 43200])
    error_message = "visibility_timeout_seconds must be from 0 to 43200 (12 hours); invalid for: ${join(", ", [for k, s in var.subscribers : k if !(s.visibility_timeout_seconds >= 0 && s.visibility_timeout_seconds <= 43200)])}."
  }

  validation {
    condition     = alltrue([for s in values(var.subscribers) : s.receive_wait_time_seconds >= 0 && s.receive_wait_time_seconds <= 20])
    error_message = "receive_wait_time_seconds (long polling) must be from 0 to 20; invalid for: ${join(", ", [for k, s in var.subscribers : k if !(s.receive_wait_time_seconds >= 0 && s.receive_wait_time_seconds <= 20)])}."
  }

  validation {
    condition     = alltrue([for s in values(var.subscribers) : s.filter_policy == null || can(keys(jsondecode(s.filter_policy)))])
    error_message = "filter_policy must be a JSON object such as {\"event_type\": [\"OrderPlaced\"]}; not valid for: ${join(", ", [for k, s in var.subscribers : k if !(s.filter_policy == null || can(keys(jsondecode(s.filter_policy))))])}."
  }

  validation {
    condition     = alltrue([for s in values(var.subscribers) : contains(["MessageAttributes", "MessageBody"], s.filter_policy_scope)])
    error_message = "filter_policy_scope must be \"MessageAttributes\" or \"MessageBody\"; invalid for: ${join(", ", [for k, s in var.subscribers : k if !contains(["MessageAttributes", "MessageBody"], s.filter_policy_scope)])}."
  }

  validation {
    condition     = alltrue([for s in values(var.subscribers) : s.alarm_thresholds.lag_messages >= 0 && s.alarm_thresholds.dlq_messages >= 0 && floor(s.alarm_thresholds.lag_messages) == s.alarm_thresholds.lag_messages && floor(s.alarm_thresholds.dlq_messages) == s.alarm_thresholds.dlq_messages])
    error_message = "alarm_thresholds.lag_messages and alarm_thresholds.dlq_messages must be whole numbers >= 0; invalid for: ${join(", ", [for k, s in var.subscribers : k if !(s.alarm_thresholds.lag_messages >= 0 && s.alarm_thresholds.dlq_messages >= 0 && floor(s.alarm_thresholds.lag_messages) == s.alarm_thresholds.lag_messages && floor(s.alarm_thresholds.dlq_messages) == s.alarm_thresholds.dlq_messages)])}."
  }

  validation {
    # CloudWatch evaluates 60 s periods, and at most a day of them for periods under an hour.
    condition     = alltrue([for s in values(var.subscribers) : s.alarm_thresholds.for_seconds >= 60 && s.alarm_thresholds.for_seconds <= 86400 && s.alarm_thresholds.for_seconds % 60 == 0])
    error_message = "alarm_thresholds.for_seconds must be whole minutes from 60 to 86400 (CloudWatch evaluates 60 s periods, at most a day of them); invalid for: ${join(", ", [for k, s in var.subscribers : k if !(s.alarm_thresholds.for_seconds >= 60 && s.alarm_thresholds.for_seconds <= 86400 && s.alarm_thresholds.for_seconds % 60 == 0)])}."
  }

  validation {
    # A threshold beyond retention never fires: SQS deletes the message first.
    condition     = alltrue([for s in values(var.subscribers) : s.age_of_oldest_message_threshold_seconds >= 60 && s.age_of_oldest_message_threshold_seconds < s.message_retention_seconds])
    error_message = "age_of_oldest_message_threshold_seconds must be at least 60 and below message_retention_seconds (an older message is already deleted); invalid for: ${join(", ", [for k, s in var.subscribers : k if !(s.age_of_oldest_message_threshold_seconds >= 60 && s.age_of_oldest_message_threshold_seconds < s.message_retention_seconds)])}."
  }
}

variable "source_topic_policy_documents" {
  description = "IAM policy documents (JSON, e.g. data.aws_iam_policy_document.x.json) whose statements are merged into the topic policy, e.g. to let S3 or another account publish. The module owns the topic's only policy, so give extra statements here instead of a second aws_sns_topic_policy, which would overwrite this one. The module always adds its DenyInsecureTransport statement."
  type        = list(string)
  default     = []
  nullable    = false

  validation {
    condition     = alltrue([for doc in var.source_topic_policy_documents : can(length(flatten([jsondecode(doc).Statement])) > 0)])
    error_message = "source_topic_policy_documents must be IAM policy documents in JSON with a Statement (e.g. data.aws_iam_policy_document.publishers.json)."
  }

  validation {
    condition     = !contains(flatten([for doc in var.source_topic_policy_documents : [for st in try(flatten([jsondecode(doc).Statement]), []) : try(st.Sid, "")]]), "DenyInsecureTransport")
    error_message = "source_topic_policy_documents must not use the Sid \"DenyInsecureTransport\": the module adds that statement itself."
  }
}

variable "alarm_actions" {
  description = "ARNs (usually SNS topics) notified when a queue's backlog, its oldest message's age or its DLQ's depth passes the subscriber's alarm threshold, when the topic fails to deliver, and again when each recovers."
  type        = list(string)
  default     = []
  nullable    = false

  validation {
    condition     = alltrue([for arn in var.alarm_actions : startswith(arn, "arn:")])
    error_message = "alarm_actions must be ARNs (\"arn:aws:sns:...\"); invalid: ${join(", ", [for arn in var.alarm_actions : arn if !startswith(arn, "arn:")])}."
  }
}

variable "runbook_url" {
  description = "Where the kit's alert runbooks (alerts/README.md) are published for the people paged; every alarm's description ends with `Runbook: <runbook_url>#<section>` (consumerlaghigh, consumerlagagehigh, deadletterqueuenotempty, deliveryfailing). The default is the file's path in the kit repository."
  type        = string
  default     = "alerts/README.md"
  nullable    = false

  validation {
    condition     = length(var.runbook_url) > 0 && length(var.runbook_url) <= 512 && !strcontains(var.runbook_url, "#") && !can(regex("\\s", var.runbook_url))
    error_message = "runbook_url must be a URL or path of at most 512 characters without spaces and without a #fragment (each alarm adds its section's anchor)."
  }
}

variable "create_dashboard" {
  description = "Create a CloudWatch dashboard named after the topic: the topic's publishes and failed deliveries, and per subscriber its backlog, oldest message age and DLQ depth with the alarm thresholds drawn in."
  type        = bool
  default     = true
  nullable    = false
}

variable "tags" {
  description = "Tags for every resource the module creates."
  type        = map(string)
  default     = {}
  nullable    = false
}
