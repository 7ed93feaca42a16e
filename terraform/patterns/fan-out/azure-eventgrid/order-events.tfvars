# The order-events fan-out on Event Grid, by hand; `edakit render configs/order-events-eventgrid.yaml` writes the
# same shape from the spec (build/orders-eventgrid/<env>/azure-eventgrid.auto.tfvars.json).
name                = "orders-staging-order-placed"
resource_group_name = "rg-orders-staging"
location            = "westeurope"

dead_letter_storage = {
  storage_account_name = "ordersdlqstaging"
}

event_subscriptions = {
  email = {
    destination = {
      type        = "webhook"
      webhook_url = "https://email.orders.example.com/api/events"
      # Event Grid sends an Entra ID token for the email service's application; its EventGridWebhook checks it.
      active_directory_tenant_id     = "00000000-0000-0000-0000-000000000000"
      active_directory_app_id_or_uri = "api://orders-email-webhook"
    }
    included_event_types = ["OrderPlaced"]
  }
  billing = {
    destination          = { type = "service_bus_queue", resource_id = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-billing/providers/Microsoft.ServiceBus/namespaces/billing/queues/orders" }
    included_event_types = ["OrderPlaced"]
    advanced_filters = [
      { operator = "number_greater_than", key = "data.total_amount", value = "0" },
      { operator = "string_in", key = "data.currency", values = ["EUR", "USD"] },
    ]
    retry_policy = { max_delivery_attempts = 10, event_time_to_live = 60 }
  }
  audit = {
    destination = { type = "storage_queue", resource_id = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-audit/providers/Microsoft.Storage/storageAccounts/ordersaudit", queue_name = "order-events" }
  }
}
