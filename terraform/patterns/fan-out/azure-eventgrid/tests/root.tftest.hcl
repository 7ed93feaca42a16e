# The root passes every input through unchanged and adds the environment to the tags.

mock_provider "azurerm" {}

variables {
  environment              = "staging"
  name                     = "orders-staging-order-placed"
  resource_group_name      = "rg-orders-staging"
  location                 = "westeurope"
  dead_letter_storage      = { storage_account_name = "ordersdlqstaging" }
  webhook_delivery_secrets = { email = "0123456789abcdef-delivery-secret" }
  event_subscriptions = {
    email = {
      destination          = { type = "webhook", webhook_url = "https://email.example.com/events", secret_header_name = "X-Delivery-Secret" }
      included_event_types = ["OrderPlaced"]
    }
    billing = {
      destination      = { type = "storage_queue", resource_id = "/subscriptions/0/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/billing", queue_name = "orders" }
      advanced_filters = [{ operator = "number_greater_than", key = "data.total_amount", value = "0" }]
    }
  }
}

run "every_consumer_gets_its_event_subscription" {
  command = plan

  assert {
    condition     = keys(output.event_subscription_ids) == ["billing", "email"]
    error_message = "one event subscription per consumer, keyed by its name"
  }
  assert {
    condition     = output.dead_letter_container_name == "dead-letters"
    error_message = "omitted dead_letter_storage attributes must take the module's defaults"
  }
}

run "var_file_for_another_environment_is_flagged" {
  command = plan

  variables {
    environment = "prod"
  }

  expect_failures = [check.names_match_environment]
}

run "environment_must_be_a_simple_name" {
  command = plan

  variables {
    environment = "Staging EU"
  }

  expect_failures = [var.environment]
}
