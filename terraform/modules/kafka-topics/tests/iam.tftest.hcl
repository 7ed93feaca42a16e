# Each principal's exact ACLs (the permissions output) and the dead-letter operator's (iam.tf).

mock_provider "kafka" {}

variables {
  topics = {
    "orders.order-placed" = { producers = ["User:orders"] }
  }
  consumer_groups = {
    billing = { topics = ["orders.order-placed"], principals = ["User:billing"], retry_topic_count = 2 }
    email   = { topics = ["orders.order-placed"], principals = ["User:email"], retry_topic_count = 0 }
  }
  dead_letter_operators = { billing = ["User:oncall"], email = ["User:oncall"] }
}

run "every_principal_gets_exactly_its_acls" {
  command = plan

  assert {
    condition = jsonencode(output.permissions) == jsonencode({
      "User:orders"  = ["Describe Topic:orders.order-placed", "IdempotentWrite Cluster:kafka-cluster", "Write Topic:orders.order-placed"]
      "User:billing" = sort(["Read Group:billing", "Read Topic:orders.order-placed", "Read Topic:orders.order-placed.billing.retry.1", "Read Topic:orders.order-placed.billing.retry.2", "Write Topic:orders.order-placed.billing.retry.1", "Write Topic:orders.order-placed.billing.retry.2", "Write Topic:orders.order-placed.billing.dlq", "IdempotentWrite Cluster:kafka-cluster"])
      "User:email"   = sort(["Read Group:email", "Read Topic:orders.order-placed", "Write Topic:orders.order-placed.email.dlq", "IdempotentWrite Cluster:kafka-cluster"])
      "User:oncall" = sort([
        "Read Group:billing.dlq", "Read Topic:orders.order-placed.billing.dlq", "Write Topic:orders.order-placed.billing.dlq", "Write Topic:orders.order-placed.billing.retry.1",
        "Read Group:email.dlq", "Read Topic:orders.order-placed.email.dlq", "Write Topic:orders.order-placed.email.dlq", "IdempotentWrite Cluster:kafka-cluster",
      ])
    })
    error_message = "producers write their topic; consumers read their group, topic and retry topics and write retries and DLQ; the operator reads the DLQ as <group>.dlq and replays into retry.1 only"
  }
  assert {
    condition     = length(kafka_acl.dead_letter_operator) == 8 && alltrue([for a in values(kafka_acl.dead_letter_operator) : a.resource_pattern_type_filter == "Literal" && a.acl_permission_type == "Allow"])
    error_message = "the operator's eight ACLs (IdempotentWrite once, for both groups) are literal allows"
  }
}

run "no_wildcard_resource_or_principal" {
  command = plan

  assert {
    condition     = alltrue(flatten([for p, perms in output.permissions : [!strcontains(p, "*"), [for x in perms : !strcontains(x, "*")]]]))
    error_message = "every ACL names a principal and a literal resource"
  }
}

run "an_acl_the_operator_already_holds_is_not_duplicated" {
  command = plan

  variables {
    dead_letter_operators = { billing = ["User:billing"] }
  }

  assert {
    condition     = sort([for a in values(kafka_acl.dead_letter_operator) : "${a.acl_operation} ${a.resource_name}"]) == tolist(["Read billing.dlq", "Read orders.order-placed.billing.dlq"])
    error_message = "billing already writes its DLQ and retry.1 and has IdempotentWrite: only the DLQ reads are added"
  }
}

run "operators_of_unknown_groups_and_wildcards_are_refused" {
  command = plan

  variables {
    dead_letter_operators = { shipping = ["User:*"] }
  }

  expect_failures = [var.dead_letter_operators]
}
