# Plan-time checks: topic sizing and configs, the retry/DLQ naming convention, and the ACLs per principal.

mock_provider "kafka" {}

variables {
  topics = {
    "orders.order-placed" = {
      partitions      = 6
      retention_hours = 72
      producers       = ["User:orders"]
      config          = { "max.message.bytes" = "2097152" }
    }
    "orders.audit-log" = {
      cleanup_policy      = "compact"
      replication_factor  = 2
      min_insync_replicas = 1
    }
  }
  consumer_groups = {
    billing = { topics = ["orders.order-placed"], principals = ["User:billing"], retry_topic_count = 2 }
    email   = { topics = ["orders.order-placed"], principals = ["User:email"], retry_topic_count = 0, dlq_retention_hours = 336 }
    audit   = { topics = ["orders.order-placed", "orders.audit-log"], principals = ["User:audit"] }
  }
}

run "topics_get_sizing_and_configs" {
  command = plan

  assert {
    condition     = kafka_topic.this["orders.order-placed"].partitions == 6 && kafka_topic.this["orders.order-placed"].replication_factor == 3
    error_message = "order-placed keeps its 6 partitions and takes the default replication factor 3"
  }
  assert {
    condition = kafka_topic.this["orders.order-placed"].config == tomap({
      "cleanup.policy"      = "delete"
      "max.message.bytes"   = "2097152"
      "min.insync.replicas" = "2"
      "retention.ms"        = "259200000"
    })
    error_message = "72 retention hours are 259200000 ms; extra configs pass through; min.insync.replicas defaults to 2"
  }
  assert {
    condition = kafka_topic.this["orders.audit-log"].config == tomap({
      "cleanup.policy"      = "compact"
      "min.insync.replicas" = "1"
      "retention.ms"        = "604800000"
    }) && kafka_topic.this["orders.audit-log"].partitions == 3 && kafka_topic.this["orders.audit-log"].replication_factor == 2
    error_message = "audit-log is compacted, replicated twice, and takes the default 168 h retention and 3 partitions"
  }
}

run "retry_and_dlq_topics_follow_the_naming_convention" {
  command = plan

  assert {
    condition = toset(keys(kafka_topic.this)) == toset([
      "orders.order-placed", "orders.audit-log",
      "orders.order-placed.billing.retry.1", "orders.order-placed.billing.retry.2", "orders.order-placed.billing.dlq",
      "orders.order-placed.email.dlq",
      "orders.order-placed.audit.retry.1", "orders.order-placed.audit.retry.2", "orders.order-placed.audit.retry.3", "orders.order-placed.audit.dlq",
      "orders.audit-log.audit.retry.1", "orders.audit-log.audit.retry.2", "orders.audit-log.audit.retry.3", "orders.audit-log.audit.dlq",
    ])
    error_message = "each (topic, group) gets <topic>.<group>.retry.<n> for n = 1..retry_topic_count (default 3) and <topic>.<group>.dlq"
  }
  assert {
    condition     = output.retry_topic_names == { audit = { "orders.audit-log" = ["orders.audit-log.audit.retry.1", "orders.audit-log.audit.retry.2", "orders.audit-log.audit.retry.3"], "orders.order-placed" = ["orders.order-placed.audit.retry.1", "orders.order-placed.audit.retry.2", "orders.order-placed.audit.retry.3"] }, billing = { "orders.order-placed" = ["orders.order-placed.billing.retry.1", "orders.order-placed.billing.retry.2"] }, email = { "orders.order-placed" = [] } }
    error_message = "retry_topic_names lists retry topics in retry order per group and topic"
  }
  assert {
    condition     = output.dead_letter_topic_names.email == { "orders.order-placed" = "orders.order-placed.email.dlq" }
    error_message = "dead_letter_topic_names maps group and topic to the DLQ"
  }
  assert {
    condition     = output.dlq_topic_names == output.dead_letter_topic_names
    error_message = "the deprecated output dlq_topic_names stays equal to dead_letter_topic_names for one release"
  }
}

run "retry_and_dlq_topics_copy_the_source_but_never_compact" {
  command = plan

  assert {
    condition     = kafka_topic.this["orders.order-placed.billing.retry.1"].partitions == 6 && kafka_topic.this["orders.order-placed.billing.retry.1"].config["max.message.bytes"] == "2097152" && kafka_topic.this["orders.order-placed.billing.retry.1"].config["retention.ms"] == "259200000"
    error_message = "a retry topic has its source's partitions, configs and retention"
  }
  assert {
    condition     = kafka_topic.this["orders.audit-log.audit.retry.1"].config["cleanup.policy"] == "delete" && kafka_topic.this["orders.audit-log.audit.dlq"].config["cleanup.policy"] == "delete" && kafka_topic.this["orders.audit-log.audit.dlq"].replication_factor == 2
    error_message = "retry and DLQ topics of a compacted source are not compacted"
  }
  assert {
    condition     = kafka_topic.this["orders.order-placed.email.dlq"].config["retention.ms"] == "1209600000" && kafka_topic.this["orders.order-placed.billing.dlq"].config["retention.ms"] == "259200000"
    error_message = "dlq_retention_hours (336 h) sets the DLQ's retention; unset, the DLQ keeps the source's"
  }
}

run "producers_write_and_describe_their_topic" {
  command = plan

  assert {
    condition = toset([for k, a in kafka_acl.this : k if a.acl_principal == "User:orders"]) == toset([
      "User:orders|Write|Topic|orders.order-placed",
      "User:orders|Describe|Topic|orders.order-placed",
      "User:orders|IdempotentWrite|Cluster|kafka-cluster",
    ])
    error_message = "a producer gets Write and Describe on its topic and IdempotentWrite on the cluster, nothing else"
  }
  assert {
    condition     = kafka_acl.this["User:orders|IdempotentWrite|Cluster|kafka-cluster"].resource_type == "Cluster" && kafka_acl.this["User:orders|IdempotentWrite|Cluster|kafka-cluster"].resource_name == "kafka-cluster"
    error_message = "IdempotentWrite is granted on the cluster resource, whose name Kafka fixes as kafka-cluster"
  }
}

run "consumers_read_their_topics_and_write_retries_and_dlq" {
  command = plan

  assert {
    condition = toset([for k, a in kafka_acl.this : k if a.acl_principal == "User:billing"]) == toset([
      "User:billing|Read|Group|billing",
      "User:billing|Read|Topic|orders.order-placed",
      "User:billing|Read|Topic|orders.order-placed.billing.retry.1",
      "User:billing|Write|Topic|orders.order-placed.billing.retry.1",
      "User:billing|Read|Topic|orders.order-placed.billing.retry.2",
      "User:billing|Write|Topic|orders.order-placed.billing.retry.2",
      "User:billing|Write|Topic|orders.order-placed.billing.dlq",
      "User:billing|IdempotentWrite|Cluster|kafka-cluster",
    ])
    error_message = "billing reads its group, topic and retry topics, and writes its retry topics and DLQ"
  }
  assert {
    condition     = !contains(keys(kafka_acl.this), "User:billing|Read|Topic|orders.order-placed.billing.dlq") && !contains(keys(kafka_acl.this), "User:billing|Read|Topic|orders.order-placed.email.dlq")
    error_message = "a consumer never reads a DLQ, and never touches another group's topics"
  }
  assert {
    condition     = length([for k, a in kafka_acl.this : k if a.acl_principal == "User:audit" && a.acl_operation == "Read" && a.resource_type == "Group"]) == 1
    error_message = "a group reading two topics gets one Read ACL on the group"
  }
  assert {
    condition     = alltrue([for a in values(kafka_acl.this) : a.acl_host == "*" && a.acl_permission_type == "Allow" && a.resource_pattern_type_filter == "Literal"])
    error_message = "every ACL allows from any host on the literal resource name"
  }
}

run "no_principals_means_no_acls" {
  command = plan

  variables {
    topics          = { "orders.order-placed" = {} }
    consumer_groups = { billing = { topics = ["orders.order-placed"] } }
  }

  assert {
    condition     = length(kafka_acl.this) == 0 && length(kafka_topic.this) == 5
    error_message = "without principals (a cluster without an authorizer) only the topic, 3 retry topics and the DLQ are planned"
  }
}

run "defaults_come_from_the_default_variables" {
  command = plan

  variables {
    default_partitions          = 12
    default_replication_factor  = 5
    default_retention_hours     = 24
    default_min_insync_replicas = 3
    topics                      = { payments = {} }
    consumer_groups             = {}
  }

  assert {
    condition     = kafka_topic.this["payments"].partitions == 12 && kafka_topic.this["payments"].replication_factor == 5 && kafka_topic.this["payments"].config["retention.ms"] == "86400000" && kafka_topic.this["payments"].config["min.insync.replicas"] == "3"
    error_message = "a topic that sets nothing takes every default_* value"
  }
}
