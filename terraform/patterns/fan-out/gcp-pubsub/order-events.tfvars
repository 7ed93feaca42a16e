# The order-events fan-out on Pub/Sub, by hand; `edakit render configs/order-events-pubsub.yaml` writes the same
# shape from the spec (build/orders-pubsub/<env>/gcp-pubsub.auto.tfvars.json), including the topic's Avro schema.
project_id                 = "orders-platform-staging"
topic_name                 = "orders-staging-order-placed"
message_retention_duration = "86400s"

subscriptions = {
  orders-staging-order-placed-email = {
    filter = "attributes.event_type = \"OrderPlaced\""
    push = {
      endpoint                   = "https://email.orders.example.com/pubsub/push"
      oidc_service_account_email = "email-push@orders-platform-staging.iam.gserviceaccount.com"
    }
  }
  orders-staging-order-placed-billing = {
    filter                       = "attributes.event_type = \"OrderPlaced\" AND attributes.payable = \"true\""
    ack_deadline_seconds         = 120
    enable_exactly_once_delivery = true
    retry_policy                 = { minimum_backoff = "30s", maximum_backoff = "600s" }
    dead_letter_policy           = { max_delivery_attempts = 10 }
  }
  orders-staging-order-placed-audit = {
    enable_message_ordering = true
  }
}
