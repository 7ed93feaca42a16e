variable "project_id" {
  description = "Project that owns the topic, its subscriptions and their dead-letter topics."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{4,28}[a-z0-9]$", var.project_id))
    error_message = "project_id must be a Google Cloud project ID: 6-30 lowercase letters, digits or hyphens, starting with a letter."
  }
}

variable "topic_name" {
  description = "Name of the Pub/Sub topic the producers publish to."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z][A-Za-z0-9._~+%-]{2,254}$", var.topic_name)) && !startswith(lower(var.topic_name), "goog")
    error_message = "topic_name must be 3-255 characters, start with a letter, use only letters, digits and . _ ~ + % -, and not start with \"goog\"."
  }
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

  validation {
    condition = var.message_retention_duration == null || (
      can(regex("^[0-9]+s$", var.message_retention_duration)) &&
      try(tonumber(trimsuffix(var.message_retention_duration, "s")) >= 600 && tonumber(trimsuffix(var.message_retention_duration, "s")) <= 2678400, false)
    )
    error_message = "message_retention_duration must be whole seconds with an \"s\" suffix between \"600s\" (10 minutes) and \"2678400s\" (31 days)."
  }
}

variable "kms_key_name" {
  description = "Cloud KMS key (CMEK) for the topic and its dead-letter topics; null uses Google-managed encryption. The module grants the Pub/Sub service agent roles/cloudkms.cryptoKeyEncrypterDecrypter on it (the applying identity needs cloudkms.cryptoKeys.setIamPolicy on the key)."
  type        = string
  default     = null

  validation {
    condition     = var.kms_key_name == null || can(regex("^projects/[^/]+/locations/[^/]+/keyRings/[^/]+/cryptoKeys/[^/]+$", var.kms_key_name))
    error_message = "kms_key_name must be a full key name: projects/PROJECT/locations/LOCATION/keyRings/RING/cryptoKeys/KEY."
  }
}

variable "schema" {
  description = "Optional Pub/Sub schema for the topic: definition is the content of the kit's Avro schema file (.avsc JSON); encoding is JSON or BINARY."
  type = object({
    name       = optional(string)
    definition = string
    encoding   = optional(string, "JSON")
  })
  default = null

  validation {
    condition     = var.schema == null || can(jsondecode(var.schema.definition).type)
    error_message = "schema.definition must be an Avro schema in JSON (the content of an .avsc file) with a \"type\" field."
  }

  validation {
    condition     = var.schema == null || contains(["JSON", "BINARY"], try(var.schema.encoding, ""))
    error_message = "schema.encoding must be \"JSON\" or \"BINARY\"."
  }
}

variable "subscriptions" {
  description = "Subscriptions on the topic, keyed by subscription name. A subscription with push set is a push subscription, otherwise pull. Each gets a dead-letter topic and a subscription on it unless dead_letter_policy.enabled is false. alarm_thresholds (the spec's `alerts`, rendered by `edakit render`): lag_messages, the undelivered messages (backlog) and lag_seconds, the oldest unacked message's age, each over for_seconds (whole minutes); dlq_messages, messages dead-lettered in 5 minutes (0: the first). Unset lag_seconds and dlq_messages take alerts.oldest_unacked_age_seconds and alerts.dead_letter_threshold."
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
    alarm_thresholds = optional(object({
      lag_messages = optional(number, 1000)
      lag_seconds  = optional(number)
      dlq_messages = optional(number)
      for_seconds  = optional(number, 300)
    }), {})
  }))
  default = {}

  validation {
    condition = alltrue([for t in [for s in values(var.subscriptions) : s.alarm_thresholds] : (
      t.lag_messages >= 0 && floor(t.lag_messages) == t.lag_messages && (t.lag_seconds == null ? true : t.lag_seconds > 0)
      && (t.dlq_messages == null ? true : t.dlq_messages >= 0) && t.for_seconds >= 0 && t.for_seconds <= 86400 && t.for_seconds % 60 == 0
    )])
    error_message = "alarm_thresholds: lag_messages must be a whole number >= 0, lag_seconds > 0, dlq_messages >= 0, and for_seconds whole minutes from 0 to 86400."
  }

  validation {
    condition     = alltrue([for name, _ in var.subscriptions : can(regex("^[A-Za-z][A-Za-z0-9._~+%-]{2,250}$", name)) && !startswith(lower(name), "goog")])
    error_message = "Each subscription name (map key) must be 3-251 characters, start with a letter, use only letters, digits and . _ ~ + % -, and not start with \"goog\" (4 characters are kept for the \"-dlq\" suffix)."
  }

  validation {
    condition     = alltrue([for s in values(var.subscriptions) : s.ack_deadline_seconds >= 10 && s.ack_deadline_seconds <= 600])
    error_message = "ack_deadline_seconds must be between 10 and 600."
  }

  validation {
    condition = alltrue([for s in values(var.subscriptions) : can(regex("^[0-9]+s$", s.message_retention_duration)) && try(
      tonumber(trimsuffix(s.message_retention_duration, "s")) >= 600 && tonumber(trimsuffix(s.message_retention_duration, "s")) <= 2678400, false
    )])
    error_message = "Subscription message_retention_duration must be whole seconds with an \"s\" suffix between \"600s\" and \"2678400s\" (31 days)."
  }

  validation {
    condition = alltrue([for s in values(var.subscriptions) : alltrue([
      for d in [s.retry_policy.minimum_backoff, s.retry_policy.maximum_backoff] :
      can(regex("^[0-9]+(\\.[0-9]{1,9})?s$", d)) && try(tonumber(trimsuffix(d, "s")) <= 600, false)
      ]) && try(tonumber(trimsuffix(s.retry_policy.minimum_backoff, "s")) <= tonumber(trimsuffix(s.retry_policy.maximum_backoff, "s")), false)
    ])
    error_message = "retry_policy backoffs must be durations like \"10s\" between \"0s\" and \"600s\", with minimum_backoff <= maximum_backoff."
  }

  validation {
    condition     = alltrue([for s in values(var.subscriptions) : s.dead_letter_policy.max_delivery_attempts >= 5 && s.dead_letter_policy.max_delivery_attempts <= 100])
    error_message = "dead_letter_policy.max_delivery_attempts must be between 5 and 100 (the Pub/Sub limits)."
  }

  validation {
    condition     = alltrue([for s in values(var.subscriptions) : length(s.filter == null ? "" : s.filter) <= 256])
    error_message = "A subscription filter must be at most 256 bytes."
  }

  validation {
    condition     = alltrue([for s in values(var.subscriptions) : !(s.enable_exactly_once_delivery && s.push != null)])
    error_message = "enable_exactly_once_delivery works only on pull subscriptions: remove push or set enable_exactly_once_delivery = false."
  }

  validation {
    condition     = alltrue([for s in values(var.subscriptions) : s.push == null || startswith(try(s.push.endpoint, ""), "https://")])
    error_message = "push.endpoint must be an https:// URL."
  }

  validation {
    condition     = alltrue([for s in values(var.subscriptions) : try(s.push.oidc_service_account_email, null) == null || can(regex("^[^@\\s]+@[^@\\s]+$", s.push.oidc_service_account_email))])
    error_message = "push.oidc_service_account_email must be a service account email (NAME@PROJECT.iam.gserviceaccount.com); an empty string is not \"no token\"."
  }

  validation {
    # Without a token the endpoint cannot tell Pub/Sub's deliveries from anyone else's POST.
    condition     = var.allow_push_without_oidc_token || alltrue([for s in values(var.subscriptions) : s.push == null || try(s.push.oidc_service_account_email, null) != null])
    error_message = "Push subscriptions must send an OIDC token so the endpoint can verify that a delivery comes from Pub/Sub: set push.oidc_service_account_email for ${join(", ", [for name, s in var.subscriptions : name if s.push != null && try(s.push.oidc_service_account_email, null) == null])}, or set allow_push_without_oidc_token = true to accept unauthenticated pushes."
  }
}

variable "allow_push_without_oidc_token" {
  description = "Opt-out: allow push subscriptions without push.oidc_service_account_email, whose endpoint then cannot authenticate deliveries (anyone who knows the URL can forge one). Off by default."
  type        = bool
  default     = false
  nullable    = false
}

variable "alerts" {
  description = "Cloud Monitoring alert policies per subscription: backlog above its alarm_thresholds.lag_messages, oldest unacked message older than lag_seconds (default oldest_unacked_age_seconds), dead-lettered messages above dlq_messages (default dead_letter_threshold) per 5 minutes. notification_channels is deprecated: use alarm_actions (both are notified). null creates none."
  type = object({
    notification_channels      = optional(list(string), [])
    dead_letter_threshold      = optional(number, 0)
    oldest_unacked_age_seconds = optional(number, 600)
  })
  default = {}

  validation {
    condition     = var.alerts == null || try(var.alerts.dead_letter_threshold >= 0 && var.alerts.oldest_unacked_age_seconds > 0, false)
    error_message = "alerts.dead_letter_threshold must be >= 0 and alerts.oldest_unacked_age_seconds > 0."
  }
}

variable "alarm_actions" {
  description = "Cloud Monitoring notification channels (projects/PROJECT/notificationChannels/ID) notified by every alert policy of the module (the same input as the AWS modules' alarm_actions)."
  type        = list(string)
  default     = []
  nullable    = false

  validation {
    condition     = alltrue([for channel in var.alarm_actions : can(regex("^projects/[^/]+/notificationChannels/[^/]+$", channel))])
    error_message = "alarm_actions must be notification channel names (projects/<project>/notificationChannels/<id>); invalid: ${join(", ", [for channel in var.alarm_actions : channel if !can(regex("^projects/[^/]+/notificationChannels/[^/]+$", channel))])}."
  }
}

variable "runbook_url" {
  description = "Where the kit's alert runbooks (alerts/README.md) are published for the people paged; every alert policy's documentation links `<runbook_url>#<section>` (consumerlaghigh, consumerlagagehigh, deadletterqueuenotempty). The default is the file's path in the kit repository."
  type        = string
  default     = "alerts/README.md"
  nullable    = false

  validation {
    condition     = length(var.runbook_url) > 0 && length(var.runbook_url) <= 512 && !strcontains(var.runbook_url, "#") && !can(regex("\\s", var.runbook_url))
    error_message = "runbook_url must be a URL or path of at most 512 characters without spaces and without a #fragment (each policy adds its section's anchor)."
  }
}

variable "create_dashboard" {
  description = "Create a Cloud Monitoring dashboard of the topic: its publish rate, and per subscription its backlog, oldest unacked age and dead-lettered messages with the alert thresholds drawn in."
  type        = bool
  default     = true
  nullable    = false
}
