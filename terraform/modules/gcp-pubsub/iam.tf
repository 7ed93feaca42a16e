# Least-privilege IAM for the identities that use this topic, as bindings on the topic and subscriptions only
# (never on the project), and as an output listing every binding:
#
# - publisher_members: roles/pubsub.publisher on the topic.
# - subscriber_members[<subscription>]: roles/pubsub.subscriber on that subscription (pull, ack, extend deadlines)
#   and, when it has a DLQ, roles/pubsub.publisher on its dead-letter topic: the kit dead-letters a poison message
#   itself, with the reason, without waiting for max_delivery_attempts.
# - dead_letter_operator_members[<subscription>]: roles/pubsub.subscriber on the dead-letter subscription (read,
#   ack), roles/pubsub.publisher on the topic (a replay is published there) and roles/pubsub.viewer on the source
#   subscription (a replay reads its filter first).
#
# Members are IAM principals ("serviceAccount:...", "group:...", "user:...", "principal://..."); allUsers and
# allAuthenticatedUsers are refused.

variable "publisher_members" {
  description = "Principals that publish to the topic: roles/pubsub.publisher on the topic only."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for m in var.publisher_members : can(regex("^(serviceAccount|group|user|domain|principal|principalSet):.+$|^principal(Set)?://.+$", m))])
    error_message = "publisher_members: each member is an IAM principal such as \"serviceAccount:NAME@PROJECT.iam.gserviceaccount.com\"; allUsers and allAuthenticatedUsers are not allowed."
  }
}

variable "subscriber_members" {
  description = "Principals that consume each subscription, by subscription name: roles/pubsub.subscriber on it, and roles/pubsub.publisher on its dead-letter topic."
  type        = map(list(string))
  default     = {}

  validation {
    condition     = alltrue([for m in flatten(values(var.subscriber_members)) : can(regex("^(serviceAccount|group|user|domain|principal|principalSet):.+$|^principal(Set)?://.+$", m))])
    error_message = "subscriber_members: each member is an IAM principal such as \"serviceAccount:NAME@PROJECT.iam.gserviceaccount.com\"; allUsers and allAuthenticatedUsers are not allowed."
  }

  validation {
    condition     = alltrue([for name in keys(var.subscriber_members) : contains(keys(var.subscriptions), name)])
    error_message = "subscriber_members: every key must be a subscription of this module (${join(", ", keys(var.subscriptions))})."
  }
}

variable "dead_letter_operator_members" {
  description = "Principals that inspect and replay dead letters, by subscription name (subscriptions with a DLQ only)."
  type        = map(list(string))
  default     = {}

  validation {
    condition     = alltrue([for m in flatten(values(var.dead_letter_operator_members)) : can(regex("^(serviceAccount|group|user|domain|principal|principalSet):.+$|^principal(Set)?://.+$", m))])
    error_message = "dead_letter_operator_members: each member is an IAM principal such as \"group:oncall@example.com\"; allUsers and allAuthenticatedUsers are not allowed."
  }

  validation {
    condition     = alltrue([for name in keys(var.dead_letter_operator_members) : contains([for n, s in var.subscriptions : n if s.dead_letter_policy.enabled], name)])
    error_message = "dead_letter_operator_members: every key must be a subscription of this module that has a DLQ (dead_letter_policy.enabled)."
  }
}

locals {
  iam_topic_publishers = { for m in var.publisher_members : m => m }
  iam_subscribers = merge([for name, members in var.subscriber_members : {
    for m in members : "${name}/${m}" => { subscription = name, member = m }
  }]...)
  iam_dead_letter_operators = merge([for name, members in var.dead_letter_operator_members : {
    for m in members : "${name}/${m}" => { subscription = name, member = m }
  }]...)
  iam_topic_id             = "projects/${var.project_id}/topics/${var.topic_name}"
  iam_subscription_id      = { for name in keys(var.subscriptions) : name => "projects/${var.project_id}/subscriptions/${name}" }
  iam_subscribers_with_dlq = { for k, b in local.iam_subscribers : k => b if contains(keys(local.dead_lettered), b.subscription) }
}

resource "google_pubsub_topic_iam_member" "publisher" {
  for_each = local.iam_topic_publishers

  project = var.project_id
  topic   = google_pubsub_topic.this.name
  role    = "roles/pubsub.publisher"
  member  = each.value
}

resource "google_pubsub_subscription_iam_member" "subscriber" {
  for_each = local.iam_subscribers

  project      = var.project_id
  subscription = google_pubsub_subscription.this[each.value.subscription].name
  role         = "roles/pubsub.subscriber"
  member       = each.value.member

}

resource "google_pubsub_topic_iam_member" "subscriber_dead_letters" {
  for_each = local.iam_subscribers_with_dlq

  project = var.project_id
  topic   = google_pubsub_topic.dead_letter[each.value.subscription].name
  role    = "roles/pubsub.publisher"
  member  = each.value.member
}

resource "google_pubsub_subscription_iam_member" "dead_letter_reader" {
  for_each = local.iam_dead_letter_operators

  project      = var.project_id
  subscription = google_pubsub_subscription.dead_letter[each.value.subscription].name
  role         = "roles/pubsub.subscriber"
  member       = each.value.member
}

resource "google_pubsub_topic_iam_member" "dead_letter_replayer" {
  for_each = local.iam_dead_letter_operators

  project = var.project_id
  topic   = google_pubsub_topic.this.name
  role    = "roles/pubsub.publisher"
  member  = each.value.member
}

resource "google_pubsub_subscription_iam_member" "dead_letter_source_viewer" {
  for_each = local.iam_dead_letter_operators

  project      = var.project_id
  subscription = google_pubsub_subscription.this[each.value.subscription].name
  role         = "roles/pubsub.viewer"
  member       = each.value.member
}

output "iam_bindings" {
  description = "Every IAM binding the module grants to publishers, subscribers and dead-letter operators: resource (topic or subscription id), role and member."
  value = concat(
    [for b in google_pubsub_topic_iam_member.publisher : { resource = local.iam_topic_id, role = b.role, member = b.member }],
    [for k, b in google_pubsub_subscription_iam_member.subscriber : { resource = local.iam_subscription_id[local.iam_subscribers[k].subscription], role = b.role, member = b.member }],
    [for k, b in google_pubsub_topic_iam_member.subscriber_dead_letters : { resource = "projects/${var.project_id}/topics/${google_pubsub_topic.dead_letter[local.iam_subscribers[k].subscription].name}", role = b.role, member = b.member }],
    [for k, b in google_pubsub_subscription_iam_member.dead_letter_reader : { resource = "projects/${var.project_id}/subscriptions/${google_pubsub_subscription.dead_letter[local.iam_dead_letter_operators[k].subscription].name}", role = b.role, member = b.member }],
    [for b in google_pubsub_topic_iam_member.dead_letter_replayer : { resource = local.iam_topic_id, role = b.role, member = b.member }],
    [for k, b in google_pubsub_subscription_iam_member.dead_letter_source_viewer : { resource = local.iam_subscription_id[local.iam_dead_letter_operators[k].subscription], role = b.role, member = b.member }],
  )
}
