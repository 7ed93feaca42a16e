# Dead-letter operators, and every principal's exact permissions as an output.
#
# Producers and consumer group principals get their ACLs in main.tf. A dead-letter operator of a group (what
# `edakit dlq` runs as) reads `<topic>.<group>.dlq` as the group `<group>.dlq`, writes to it (an operation that
# removes some dead letters appends the kept ones again before committing), and replays into the group's own first
# retry topic `<topic>.<group>.retry.1` (to the source topic only with --to, which needs a producer's ACLs).
# Every ACL names one literal topic, group or the cluster; the wildcard principal is refused as for consumers.

variable "dead_letter_operators" {
  description = "Principals that inspect and replay a consumer group's dead letters, by group id: Read on the group `<group>.dlq`, Read and Write on its DLQ topics, Write on its first retry topics, IdempotentWrite on the cluster."
  type        = map(list(string))
  default     = {}
  nullable    = false

  validation {
    condition     = alltrue([for group in keys(var.dead_letter_operators) : contains(keys(var.consumer_groups), group)])
    error_message = "dead_letter_operators: every key must be a consumer group of this module; unknown: ${join(", ", [for group in keys(var.dead_letter_operators) : group if !contains(keys(var.consumer_groups), group)])}."
  }

  validation {
    condition     = alltrue([for p in flatten(values(var.dead_letter_operators)) : can(regex("^[A-Za-z]+:.+$", p)) && !can(regex("^[A-Za-z]+:\\*$", p))])
    error_message = "dead_letter_operators: principals must be Kafka principals of the form \"<type>:<name>\" (e.g. \"User:oncall\"), never the wildcard \"User:*\"."
  }
}

locals {
  dead_letter_operator_acls = flatten([
    for c in local.consumer_topics : [
      for principal in lookup(var.dead_letter_operators, c.group, []) : concat(
        [
          { principal = principal, operation = "Read", resource_type = "Group", resource_name = "${c.group}.dlq" },
          { principal = principal, operation = "Read", resource_type = "Topic", resource_name = c.dlq_topic },
          { principal = principal, operation = "Write", resource_type = "Topic", resource_name = c.dlq_topic },
          { principal = principal, operation = "IdempotentWrite", resource_type = "Cluster", resource_name = "kafka-cluster" },
        ],
        [for name in slice(c.retry_topics, 0, min(1, length(c.retry_topics))) : { principal = principal, operation = "Write", resource_type = "Topic", resource_name = name }],
      )
    ]
  ])
  # An operator who is also a producer or consumer may already hold some of these: one resource per ACL.
  dead_letter_operator_only = {
    for key, acl in { for acl in local.dead_letter_operator_acls : "${acl.principal}|${acl.operation}|${acl.resource_type}|${acl.resource_name}" => acl... } :
    key => acl[0] if !contains(keys(local.acls), key)
  }
  all_acls = merge({ for key, acl in local.acls : key => acl[0] }, local.dead_letter_operator_only)
}

resource "kafka_acl" "dead_letter_operator" {
  for_each = local.dead_letter_operator_only

  acl_principal                = each.value.principal
  acl_host                     = "*"
  acl_operation                = each.value.operation
  acl_permission_type          = "Allow"
  resource_type                = each.value.resource_type
  resource_name                = each.value.resource_name
  resource_pattern_type_filter = "Literal"

  depends_on = [kafka_topic.this]
}

output "permissions" {
  description = "Every principal's ACLs (producers, consumer group principals and dead-letter operators), as sorted `<operation> <resource type>:<name>` strings: what each identity may do, and nothing more."
  value = {
    for principal in distinct([for acl in values(local.all_acls) : acl.principal]) : principal => sort([
      for acl in values(local.all_acls) : "${acl.operation} ${acl.resource_type}:${acl.resource_name}" if acl.principal == principal
    ])
  }
}
