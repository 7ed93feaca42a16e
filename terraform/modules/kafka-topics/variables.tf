variable "default_partitions" {
  description = "Partitions of a topic that does not set its own."
  type        = number
  default     = 3
  nullable    = false

  validation {
    condition     = var.default_partitions >= 1 && floor(var.default_partitions) == var.default_partitions
    error_message = "default_partitions must be a whole number of at least 1."
  }
}

variable "default_replication_factor" {
  description = "Replication factor of a topic that does not set its own."
  type        = number
  default     = 3
  nullable    = false

  validation {
    condition     = var.default_replication_factor >= 1 && floor(var.default_replication_factor) == var.default_replication_factor
    error_message = "default_replication_factor must be a whole number of at least 1."
  }
}

variable "default_retention_hours" {
  description = "Retention (rendered as `retention.ms`) of a topic that does not set its own."
  type        = number
  default     = 168
  nullable    = false

  validation {
    condition     = var.default_retention_hours >= 1 && floor(var.default_retention_hours) == var.default_retention_hours
    error_message = "default_retention_hours must be a whole number of at least 1."
  }
}

variable "default_min_insync_replicas" {
  description = "`min.insync.replicas` of a topic that does not set its own: with acks=all, writes fail when fewer replicas are in sync."
  type        = number
  default     = 2
  nullable    = false

  validation {
    condition     = var.default_min_insync_replicas >= 1 && floor(var.default_min_insync_replicas) == var.default_min_insync_replicas
    error_message = "default_min_insync_replicas must be a whole number of at least 1."
  }
}

variable "topics" {
  description = <<-EOT
    Topics keyed by their Kafka name. Unset partitions, replication_factor, retention_hours and min_insync_replicas fall back to the default_* variables.
    config: further topic configs; retention.ms, min.insync.replicas and cleanup.policy are set only through the typed fields.
    producers: principals (e.g. "User:orders") granted Write and Describe on the topic and IdempotentWrite on the cluster.
  EOT
  type = map(object({
    partitions          = optional(number)
    replication_factor  = optional(number)
    retention_hours     = optional(number)
    min_insync_replicas = optional(number)
    cleanup_policy      = optional(string, "delete")
    config              = optional(map(string), {})
    producers           = optional(list(string), [])
  }))
  nullable = false

  validation {
    condition     = length(var.topics) > 0
    error_message = "topics must have at least one entry."
  }

  validation {
    # Kafka's own rule (Topic.validate): legal characters, at most 249 of them, and not "." or "..".
    condition     = alltrue([for name in keys(var.topics) : can(regex("^[A-Za-z0-9._-]{1,249}$", name)) && !contains([".", ".."], name)])
    error_message = "topic names must be 1-249 characters of letters, digits, '.', '_' and '-', and not \".\" or \"..\"; invalid: ${join(", ", [for name in keys(var.topics) : name if !(can(regex("^[A-Za-z0-9._-]{1,249}$", name)) && !contains([".", ".."], name))])}."
  }

  validation {
    condition     = alltrue([for t in values(var.topics) : t.partitions == null || try(t.partitions >= 1 && floor(t.partitions) == t.partitions, false)])
    error_message = "partitions must be a whole number of at least 1; invalid for: ${join(", ", [for name, t in var.topics : name if !(t.partitions == null || try(t.partitions >= 1 && floor(t.partitions) == t.partitions, false))])}."
  }

  validation {
    condition     = alltrue([for t in values(var.topics) : t.replication_factor == null || try(t.replication_factor >= 1 && floor(t.replication_factor) == t.replication_factor, false)])
    error_message = "replication_factor must be a whole number of at least 1; invalid for: ${join(", ", [for name, t in var.topics : name if !(t.replication_factor == null || try(t.replication_factor >= 1 && floor(t.replication_factor) == t.replication_factor, false))])}."
  }

  validation {
    condition     = alltrue([for t in values(var.topics) : t.retention_hours == null || try(t.retention_hours >= 1 && floor(t.retention_hours) == t.retention_hours, false)])
    error_message = "retention_hours must be a whole number of at least 1; invalid for: ${join(", ", [for name, t in var.topics : name if !(t.retention_hours == null || try(t.retention_hours >= 1 && floor(t.retention_hours) == t.retention_hours, false))])}."
  }

  validation {
    # More in-sync replicas than replicas makes every acks=all write fail.
    condition     = alltrue([for t in values(var.topics) : try(coalesce(t.min_insync_replicas, var.default_min_insync_replicas) >= 1 && coalesce(t.min_insync_replicas, var.default_min_insync_replicas) <= coalesce(t.replication_factor, var.default_replication_factor), false)])
    error_message = "min_insync_replicas must be from 1 to the topic's replication_factor (defaults: default_min_insync_replicas, default_replication_factor), or producers with acks=all can never write; invalid for: ${join(", ", [for name, t in var.topics : name if !try(coalesce(t.min_insync_replicas, var.default_min_insync_replicas) >= 1 && coalesce(t.min_insync_replicas, var.default_min_insync_replicas) <= coalesce(t.replication_factor, var.default_replication_factor), false)])}."
  }

  validation {
    condition     = alltrue([for t in values(var.topics) : contains(["delete", "compact", "compact,delete"], t.cleanup_policy)])
    error_message = "cleanup_policy must be \"delete\", \"compact\" or \"compact,delete\"; invalid for: ${join(", ", [for name, t in var.topics : name if !contains(["delete", "compact", "compact,delete"], t.cleanup_policy)])}."
  }

  validation {
    condition     = alltrue([for t in values(var.topics) : length(setintersection(keys(t.config), ["retention.ms", "min.insync.replicas", "cleanup.policy"])) == 0])
    error_message = "config must not set retention.ms, min.insync.replicas or cleanup.policy: use retention_hours, min_insync_replicas and cleanup_policy; found in: ${join(", ", [for name, t in var.topics : name if length(setintersection(keys(t.config), ["retention.ms", "min.insync.replicas", "cleanup.policy"])) > 0])}."
  }

  validation {
    condition     = var.allow_wildcard_principals || alltrue(flatten([for t in values(var.topics) : [for p in t.producers : !can(regex("^[A-Za-z]+:\\*$", p))]]))
    error_message = "producers must name a principal, not the wildcard \"User:*\" (every authenticated client could write); set allow_wildcard_principals = true to grant it anyway; topics: ${join(", ", [for name, t in var.topics : name if anytrue([for p in t.producers : can(regex("^[A-Za-z]+:\\*$", p))])])}."
  }

  validation {
    condition     = alltrue(flatten([for t in values(var.topics) : [for p in t.producers : can(regex("^[A-Za-z]+:.+$", p))]]))
    error_message = "producers must be Kafka principals of the form \"<type>:<name>\", e.g. \"User:orders\"; invalid: ${join(", ", flatten([for t in values(var.topics) : [for p in t.producers : p if !can(regex("^[A-Za-z]+:.+$", p))]]))}."
  }
}

variable "consumer_groups" {
  description = <<-EOT
    Consumer groups keyed by group id. Per (topic, group) the module creates retry topics `<topic>.<group>.retry.<n>` (n = 1..retry_topic_count) and one DLQ topic `<topic>.<group>.dlq`.
    principals get Read on the group, Read on the topics and their retry topics, and Write on the retry and DLQ topics.
    dlq_retention_hours: defaults to the source topic's retention.
  EOT
  type = map(object({
    topics              = list(string)
    principals          = optional(list(string), [])
    retry_topic_count   = optional(number, 3)
    dlq_retention_hours = optional(number)
  }))
  default  = {}
  nullable = false

  validation {
    # Group ids become part of retry/DLQ topic names, so they obey topic-name rules.
    condition     = alltrue([for group in keys(var.consumer_groups) : can(regex("^[A-Za-z0-9._-]+$", group))])
    error_message = "consumer group ids must use only letters, digits, '.', '_' and '-' (they become part of retry and DLQ topic names); invalid: ${join(", ", [for group in keys(var.consumer_groups) : group if !can(regex("^[A-Za-z0-9._-]+$", group))])}."
  }

  validation {
    condition     = alltrue([for g in values(var.consumer_groups) : length(g.topics) > 0 && alltrue([for topic in g.topics : contains(keys(var.topics), topic)])])
    error_message = "each consumer group must list at least one topic, and only topics defined in var.topics; check: ${join(", ", [for group, g in var.consumer_groups : group if !(length(g.topics) > 0 && alltrue([for topic in g.topics : contains(keys(var.topics), topic)]))])}."
  }

  validation {
    condition     = alltrue([for g in values(var.consumer_groups) : g.retry_topic_count >= 0 && floor(g.retry_topic_count) == g.retry_topic_count])
    error_message = "retry_topic_count must be a whole number of at least 0; invalid for: ${join(", ", [for group, g in var.consumer_groups : group if !(g.retry_topic_count >= 0 && floor(g.retry_topic_count) == g.retry_topic_count)])}."
  }

  validation {
    # The longest derived name is the last retry topic, or the DLQ when there are none.
    condition     = alltrue(flatten([for group, g in var.consumer_groups : [for topic in g.topics : length(g.retry_topic_count >= 1 ? "${topic}.${group}.retry.${floor(g.retry_topic_count)}" : "${topic}.${group}.dlq") <= 249]]))
    error_message = "retry and DLQ topic names (\"<topic>.<group>.retry.<n>\", \"<topic>.<group>.dlq\") must fit Kafka's 249-character limit; shorten the topic or group id for group(s): ${join(", ", [for group, g in var.consumer_groups : group if !alltrue([for topic in g.topics : length(g.retry_topic_count >= 1 ? "${topic}.${group}.retry.${floor(g.retry_topic_count)}" : "${topic}.${group}.dlq") <= 249])])}."
  }

  validation {
    condition     = var.allow_wildcard_principals || alltrue(flatten([for g in values(var.consumer_groups) : [for p in g.principals : !can(regex("^[A-Za-z]+:\\*$", p))]]))
    error_message = "principals must name a principal, not the wildcard \"User:*\" (every authenticated client could read the group's topics); set allow_wildcard_principals = true to grant it anyway; groups: ${join(", ", [for group, g in var.consumer_groups : group if anytrue([for p in g.principals : can(regex("^[A-Za-z]+:\\*$", p))])])}."
  }

  validation {
    condition     = alltrue(flatten([for g in values(var.consumer_groups) : [for p in g.principals : can(regex("^[A-Za-z]+:.+$", p))]]))
    error_message = "principals must be Kafka principals of the form \"<type>:<name>\", e.g. \"User:billing\"; invalid: ${join(", ", flatten([for g in values(var.consumer_groups) : [for p in g.principals : p if !can(regex("^[A-Za-z]+:.+$", p))]]))}."
  }

  validation {
    # A DLQ that expires before its source loses exactly the messages someone needs to inspect.
    condition     = alltrue(flatten([for g in values(var.consumer_groups) : [for topic in g.topics : g.dlq_retention_hours == null || try(g.dlq_retention_hours >= coalesce(var.topics[topic].retention_hours, var.default_retention_hours), true)]]))
    error_message = "dlq_retention_hours must be at least the retention_hours of every topic the group reads (leave it unset to use the topic's); too short for: ${join(", ", [for group, g in var.consumer_groups : group if !alltrue([for topic in g.topics : g.dlq_retention_hours == null || try(g.dlq_retention_hours >= coalesce(var.topics[topic].retention_hours, var.default_retention_hours), true)])])}."
  }
}

variable "allow_wildcard_principals" {
  description = "Opt-out: allow the wildcard principal (\"User:*\") in producers and consumer group principals, which grants every authenticated client access."
  type        = bool
  default     = false
  nullable    = false
}
