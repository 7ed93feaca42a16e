# The order-events fan-out on Kafka: the Order service produces OrderPlaced to one topic; Email, Billing and Audit
# each read it in their own consumer group, with their own retry and dead-letter topics.
#   terraform apply -var="environment=staging" -var='bootstrap_servers=["kafka-1.staging.internal:9092"]' -var-file=order-events.tfvars
default_replication_factor  = 3
default_min_insync_replicas = 2

topics = {
  "orders-staging.order-placed" = {
    partitions      = 6
    retention_hours = 168
    producers       = ["User:order-service"]
  }
}

consumer_groups = {
  email   = { topics = ["orders-staging.order-placed"], principals = ["User:email-service"], retry_topic_count = 2 }
  billing = { topics = ["orders-staging.order-placed"], principals = ["User:billing-service"], retry_topic_count = 3, dlq_retention_hours = 336 }
  audit   = { topics = ["orders-staging.order-placed"], principals = ["User:audit-service"], retry_topic_count = 1 }
}
