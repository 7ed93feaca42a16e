# Order events routed by content, by hand; `edakit render configs/order-routing-eventbridge.yaml` writes the same
# shape from the spec (build/orders-routing/<env>/aws-eventbridge-routing.auto.tfvars.json).
name = "orders-staging-orders"

archive = { retention_days = 1 }

routes = {
  fraud-review = {
    description   = "Large orders are reviewed before they ship."
    event_pattern = "{\"detail\":{\"total_amount\":[{\"numeric\":[\">=\",1000]}]},\"detail-type\":[\"OrderPlaced\"],\"source\":[\"shop.orders\"]}"
    targets = {
      queue = {
        arn = "arn:aws:sqs:eu-west-1:123456789012:fraud-review"
      }
    }
  }
  analytics = {
    event_pattern = "{\"source\":[\"shop.orders\"]}"
    targets = {
      queue = {
        arn          = "arn:aws:sqs:eu-west-1:123456789012:order-analytics"
        retry_policy = { maximum_event_age_in_seconds = 3600, maximum_retry_attempts = 9 }
      }
    }
  }
}
