# One expect_failures run per validation rule, plus a run at the accepted limits.

mock_provider "kafka" {}

variables {
  topics          = { orders = {} }
  consumer_groups = { billing = { topics = ["orders"], principals = ["User:billing"] } }
}

run "limits_are_accepted" {
  command = plan

  variables {
    default_partitions          = 1
    default_replication_factor  = 1
    default_retention_hours     = 1
    default_min_insync_replicas = 1
    topics                      = { "ttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttt" = { cleanup_policy = "compact,delete" } }
    consumer_groups             = { g = { topics = ["ttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttt"], retry_topic_count = 0, dlq_retention_hours = 1 } }
  }

  assert {
    condition     = length(kafka_topic.this["ttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttt.g.dlq"].name) == 249 && kafka_topic.this["ttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttt"].config["cleanup.policy"] == "compact,delete"
    error_message = "a 249-character DLQ name, one partition, one replica and compact,delete are all legal"
  }
}

run "default_partitions_zero" {
  command = plan

  variables {
    default_partitions = 0
  }

  expect_failures = [var.default_partitions]
}

run "default_replication_factor_zero" {
  command = plan

  variables {
    default_replication_factor = 0
  }

  expect_failures = [var.default_replication_factor]
}

run "default_retention_hours_zero" {
  command = plan

  variables {
    default_retention_hours = 0
  }

  expect_failures = [var.default_retention_hours]
}

run "default_min_insync_replicas_zero" {
  command = plan

  variables {
    default_min_insync_replicas = 0
  }

  expect_failures = [var.default_min_insync_replicas]
}

run "no_topics" {
  command = plan

  variables {
    topics          = {}
    consumer_groups = {}
  }

  expect_failures = [var.topics]
}

run "topic_name_with_slash" {
  command = plan

  variables {
    topics          = { "orders/placed" = {} }
    consumer_groups = {}
  }

  expect_failures = [var.topics]
}

run "topic_name_dot_dot" {
  command = plan

  variables {
    topics          = { ".." = {} }
    consumer_groups = {}
  }

  expect_failures = [var.topics]
}

run "topic_name_over_249_characters" {
  command = plan

  variables {
    topics          = { "tttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttt" = {} }
    consumer_groups = {}
  }

  expect_failures = [var.topics]
}

run "partitions_zero" {
  command = plan

  variables {
    topics = { orders = { partitions = 0 } }
  }

  expect_failures = [var.topics]
}

run "replication_factor_zero" {
  command = plan

  variables {
    topics = { orders = { replication_factor = 0, min_insync_replicas = 1 } }
  }

  expect_failures = [var.topics]
}

run "replication_factor_fractional" {
  command = plan

  variables {
    topics = { orders = { replication_factor = 2.5, min_insync_replicas = 1 } }
  }

  expect_failures = [var.topics]
}

run "retention_hours_zero" {
  command = plan

  variables {
    topics = { orders = { retention_hours = 0 } }
  }

  expect_failures = [var.topics]
}

run "min_insync_above_replication_factor" {
  command = plan

  variables {
    topics = { orders = { replication_factor = 2, min_insync_replicas = 3 } }
  }

  expect_failures = [var.topics]
}

run "default_min_insync_above_topic_replication" {
  command = plan

  variables {
    topics = { orders = { replication_factor = 1 } }
  }

  expect_failures = [var.topics]
}

run "cleanup_policy_unknown" {
  command = plan

  variables {
    topics = { orders = { cleanup_policy = "archive" } }
  }

  expect_failures = [var.topics]
}

run "config_sets_managed_key" {
  command = plan

  variables {
    topics = { orders = { config = { "retention.ms" = "1000" } } }
  }

  expect_failures = [var.topics]
}

run "producer_without_principal_type" {
  command = plan

  variables {
    topics = { orders = { producers = ["orders-service"] } }
  }

  expect_failures = [var.topics]
}

run "group_id_with_space" {
  command = plan

  variables {
    consumer_groups = { "billing team" = { topics = ["orders"] } }
  }

  expect_failures = [var.consumer_groups]
}

run "group_reads_undeclared_topic" {
  command = plan

  variables {
    consumer_groups = { billing = { topics = ["payments"] } }
  }

  expect_failures = [var.consumer_groups]
}

run "group_reads_no_topic" {
  command = plan

  variables {
    consumer_groups = { billing = { topics = [] } }
  }

  expect_failures = [var.consumer_groups]
}

run "retry_topic_count_negative" {
  command = plan

  variables {
    consumer_groups = { billing = { topics = ["orders"], retry_topic_count = -1 } }
  }

  expect_failures = [var.consumer_groups]
}

run "derived_name_over_249_characters" {
  command = plan

  variables {
    topics          = { "ttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttt" = {} }
    consumer_groups = { billing = { topics = ["ttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttt"] } }
  }

  expect_failures = [var.consumer_groups]
}

run "consumer_principal_without_type" {
  command = plan

  variables {
    consumer_groups = { billing = { topics = ["orders"], principals = ["billing"] } }
  }

  expect_failures = [var.consumer_groups]
}

run "dlq_retention_shorter_than_source" {
  command = plan

  variables {
    consumer_groups = { billing = { topics = ["orders"], dlq_retention_hours = 24 } }
  }

  expect_failures = [var.consumer_groups]
}

run "derived_names_collide" {
  command = plan

  variables {
    topics          = { "a.b" = {}, a = {} }
    consumer_groups = { c = { topics = ["a.b"] }, "b.c" = { topics = ["a"] } }
  }

  expect_failures = [kafka_topic.this]
}

run "derived_name_is_a_declared_topic" {
  command = plan

  variables {
    topics          = { orders = {}, "orders.billing.dlq" = {} }
    consumer_groups = { billing = { topics = ["orders"] } }
  }

  expect_failures = [kafka_topic.this]
}

run "wildcard_producer_rejected" {
  command = plan

  variables {
    topics = { orders = { producers = ["User:*"] } }
  }

  expect_failures = [var.topics]
}

run "wildcard_consumer_rejected" {
  command = plan

  variables {
    topics          = { orders = {} }
    consumer_groups = { billing = { topics = ["orders"], principals = ["User:billing", "User:*"] } }
  }

  expect_failures = [var.consumer_groups]
}

run "wildcard_principals_are_an_explicit_opt_out" {
  command = plan

  variables {
    topics                    = { orders = { producers = ["User:*"] } }
    consumer_groups           = { billing = { topics = ["orders"], principals = ["User:*"] } }
    allow_wildcard_principals = true
  }

  assert {
    condition     = contains([for acl in kafka_acl.this : acl.acl_principal], "User:*")
    error_message = "With allow_wildcard_principals the wildcard is granted as written."
  }
}
