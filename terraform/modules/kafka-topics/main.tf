locals {
  hour_ms = 3600000

  # Topics the caller declared, with the default_* fallbacks applied.
  source_topics = {
    for name, t in var.topics : name => {
      partitions          = coalesce(t.partitions, var.default_partitions)
      replication_factor  = coalesce(t.replication_factor, var.default_replication_factor)
      retention_hours     = coalesce(t.retention_hours, var.default_retention_hours)
      min_insync_replicas = coalesce(t.min_insync_replicas, var.default_min_insync_replicas)
      cleanup_policy      = t.cleanup_policy
      config              = t.config
    }
  }

  # The naming convention, shared with the runtime: per (topic, group) the retry topics
  # "<topic>.<group>.retry.<n>" (n = 1..retry_topic_count, in retry order) and the DLQ "<topic>.<group>.dlq".
  consumer_topics = flatten([
    for group, g in var.consumer_groups : [
      for topic in g.topics : {
        group        = group
        topic        = topic
        principals   = g.principals
        retry_topics = [for n in range(1, max(floor(g.retry_topic_count), 0) + 1) : "${topic}.${group}.retry.${n}"]
        dlq_topic    = "${topic}.${group}.dlq"
        # Undeclared topics are reported by the consumer_groups validation; here they get no topics of their own.
        declared            = contains(keys(var.topics), topic)
        dlq_retention_hours = g.dlq_retention_hours
      }
    ]
  ])

  # Retry and DLQ topics copy their source's sizing and configs so every message that fits the source fits them,
  # but always use cleanup.policy=delete: compaction would drop retries that share a key.
  derived_topics = flatten([
    for c in local.consumer_topics : concat(
      [for name in c.retry_topics : { name = name, settings = merge(local.source_topics[c.topic], { cleanup_policy = "delete" }) }],
      [{
        name = c.dlq_topic
        settings = merge(local.source_topics[c.topic], {
          cleanup_policy  = "delete"
          retention_hours = coalesce(c.dlq_retention_hours, local.source_topics[c.topic].retention_hours)
        })
      }],
    ) if c.declared
  ])
  # A list, not map keys, so that the precondition on kafka_topic.this can see collisions.
  derived_topic_names = [for t in local.derived_topics : t.name]

  # Grouping (...) lets colliding names through to that precondition instead of failing here without context.
  all_topics = merge(local.source_topics, {
    for name, settings in { for t in local.derived_topics : t.name => t.settings... } : name => settings[0]
  })

  producer_acls = flatten([
    for topic, t in var.topics : [
      for principal in t.producers : [
        { principal = principal, operation = "Write", resource_type = "Topic", resource_name = topic },
        { principal = principal, operation = "Describe", resource_type = "Topic", resource_name = topic },
      ]
    ]
  ])

  # Consumers read their topics and retry topics, and write to the retry and DLQ topics when a message fails.
  consumer_acls = flatten([
    for c in local.consumer_topics : [
      for principal in c.principals : concat(
        [
          { principal = principal, operation = "Read", resource_type = "Group", resource_name = c.group },
          { principal = principal, operation = "Read", resource_type = "Topic", resource_name = c.topic },
          { principal = principal, operation = "Write", resource_type = "Topic", resource_name = c.dlq_topic },
        ],
        flatten([
          for name in c.retry_topics : [
            { principal = principal, operation = "Read", resource_type = "Topic", resource_name = name },
            { principal = principal, operation = "Write", resource_type = "Topic", resource_name = name },
          ]
        ]),
      )
    ]
  ])

  # Clients are idempotent producers by default since Kafka 3.0; without IdempotentWrite their first send fails.
  writers = distinct(concat(
    flatten([for t in values(var.topics) : t.producers]),
    flatten([for c in local.consumer_topics : c.principals]),
  ))
  cluster_acls = [
    for principal in local.writers : { principal = principal, operation = "IdempotentWrite", resource_type = "Cluster", resource_name = "kafka-cluster" }
  ]

  # Keyed like the provider's import id; grouping (...) folds an ACL that two groups of one principal both need.
  acls = {
    for acl in concat(local.producer_acls, local.consumer_acls, local.cluster_acls) :
    "${acl.principal}|${acl.operation}|${acl.resource_type}|${acl.resource_name}" => acl...
  }
}

resource "kafka_topic" "this" {
  for_each = local.all_topics

  name               = each.key
  partitions         = each.value.partitions
  replication_factor = each.value.replication_factor
  config = merge(each.value.config, {
    "cleanup.policy"      = each.value.cleanup_policy
    "min.insync.replicas" = tostring(each.value.min_insync_replicas)
    "retention.ms"        = tostring(each.value.retention_hours * local.hour_ms)
  })

  lifecycle {
    # Dots are legal in topic and group names, so "a.b" + group "c" and "a" + group "b.c" derive the same topics.
    precondition {
      condition     = length(local.derived_topic_names) == length(distinct(local.derived_topic_names)) && length(setintersection(keys(var.topics), local.derived_topic_names)) == 0
      error_message = "retry and DLQ topic names (\"<topic>.<group>.retry.<n>\", \"<topic>.<group>.dlq\") must be unique and differ from the topics in var.topics; these coincide: ${join(", ", distinct(concat([for name in local.derived_topic_names : name if length([for other in local.derived_topic_names : other if other == name]) > 1], tolist(setintersection(keys(var.topics), local.derived_topic_names)))))}. Rename a topic or group id."
    }
  }
}

resource "kafka_acl" "this" {
  for_each = local.acls

  acl_principal                = each.value[0].principal
  acl_host                     = "*"
  acl_operation                = each.value[0].operation
  acl_permission_type          = "Allow"
  resource_type                = each.value[0].resource_type
  resource_name                = each.value[0].resource_name
  resource_pattern_type_filter = "Literal"

  # An ACL on a missing topic is legal, but creating topics first keeps plans and failures readable.
  depends_on = [kafka_topic.this]
}
