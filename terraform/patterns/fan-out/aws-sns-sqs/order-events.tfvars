# The order-events fan-out: the Order service publishes OrderPlaced; Email, Billing and Audit each get a queue.
#   terraform apply -var="environment=staging" -var-file=order-events.tfvars
name = "orders-staging-order-placed"

subscribers = {
  email = {
    # Only orders whose customer opted in to e-mail; the body is the event JSON, so filter on it.
    filter_policy        = "{\"event_type\": [\"OrderPlaced\"], \"customer\": {\"email_opt_in\": [true]}}"
    filter_policy_scope  = "MessageBody"
    raw_message_delivery = true
  }
  billing = {
    filter_policy              = "{\"event_type\": [\"OrderPlaced\"]}"
    raw_message_delivery       = true
    visibility_timeout_seconds = 120
    max_receive_count          = 3
  }
  audit = {
    # Audit keeps everything, longer.
    message_retention_seconds     = 1209600
    dlq_message_retention_seconds = 1209600
  }
}
