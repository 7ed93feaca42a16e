mock_provider "azurerm" {}

override_resource {
  override_during = plan
  target          = azurerm_eventgrid_topic.this
  values = {
    identity = { principal_id = "11111111-1111-1111-1111-111111111111", tenant_id = "22222222-2222-2222-2222-222222222222" }
  }
}

override_resource {
  override_during = plan
  target          = azurerm_storage_account.dead_letter
  values = {
    id = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-events/providers/Microsoft.Storage/storageAccounts/shopdeadletters"
  }
}

variables {
  webhook_delivery_secrets = { notify = "0123456789abcdef-delivery-secret" }
  name                     = "order-events"
  resource_group_name      = "rg-events"
  location                 = "westeurope"
  dead_letter_storage      = { storage_account_name = "shopdeadletters" }
  event_subscriptions = {
    billing = {
      destination = { type = "service_bus_queue", resource_id = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-billing/providers/Microsoft.ServiceBus/namespaces/billing/queues/orders" }
      advanced_filters = [
        { operator = "string_in", key = "type", values = ["OrderPlaced", "OrderCancelled"] },
        { operator = "number_greater_than", key = "data.total", value = "100" },
        { operator = "bool_equals", key = "data.express", value = "true" },
        { operator = "number_in_range", key = "data.items", ranges = [[1, 10]] },
        { operator = "is_not_null", key = "data.customer" },
      ]
      retry_policy = { max_delivery_attempts = 10, event_time_to_live = 60 }
    }
    email = {
      destination    = { type = "webhook", webhook_url = "https://email.example.com/events", active_directory_tenant_id = "22222222-2222-2222-2222-222222222222", active_directory_app_id_or_uri = "api://email-webhook" }
      subject_filter = { subject_begins_with = "/orders/" }
    }
    notify = {
      destination = { type = "webhook", webhook_url = "https://notify.example.com/events", secret_header_name = "X-Delivery-Secret" }
    }
    audit = {
      destination = { type = "storage_queue", resource_id = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-audit/providers/Microsoft.Storage/storageAccounts/audit", queue_name = "order-events" }
    }
  }
}

run "topic_is_cloudevents_with_local_auth_off_and_managed_identity" {
  command = plan

  assert {
    condition     = azurerm_eventgrid_topic.this.input_schema == "CloudEventSchemaV1_0" && azurerm_eventgrid_topic.this.local_auth_enabled == false
    error_message = "The topic takes CloudEvents 1.0 and refuses access keys by default."
  }
  assert {
    condition     = azurerm_eventgrid_topic.this.identity[0].type == "SystemAssigned"
    error_message = "The topic has a system-assigned identity by default."
  }
  assert {
    condition     = azurerm_eventgrid_event_subscription.this["billing"].event_delivery_schema == "CloudEventSchemaV1_0"
    error_message = "Subscriptions deliver in the topic's schema."
  }
}

run "dead_lettering_has_identity_role_and_created_storage" {
  command = plan

  assert {
    condition     = azurerm_role_assignment.dead_letter_writer.role_definition_name == "Storage Blob Data Contributor" && azurerm_role_assignment.dead_letter_writer.principal_id == "11111111-1111-1111-1111-111111111111"
    error_message = "The topic identity must be Storage Blob Data Contributor for dead-lettering."
  }
  assert {
    condition     = azurerm_role_assignment.dead_letter_writer.scope == "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-events/providers/Microsoft.Storage/storageAccounts/shopdeadletters/blobServices/default/containers/dead-letters"
    error_message = "The dead-letter role is scoped to the container only."
  }
  assert {
    condition     = alltrue([for s in values(azurerm_eventgrid_event_subscription.this) : s.dead_letter_identity[0].type == "SystemAssigned" && s.storage_blob_dead_letter_destination[0].storage_blob_container_name == "dead-letters"])
    error_message = "Every subscription dead-letters to the container with the managed identity."
  }
  assert {
    condition     = azurerm_storage_account.dead_letter[0].min_tls_version == "TLS1_2" && azurerm_storage_account.dead_letter[0].shared_access_key_enabled == false && azurerm_storage_account.dead_letter[0].allow_nested_items_to_be_public == false
    error_message = "The created dead-letter account is hardened."
  }
  assert {
    condition     = azurerm_storage_container.dead_letter[0].container_access_type == "private" && azurerm_storage_management_policy.dead_letter[0].rule[0].actions[0].base_blob[0].delete_after_days_since_modification_greater_than == 30
    error_message = "The container is private and dead letters expire after 30 days."
  }
}

run "destinations_filters_retry_and_delivery_roles" {
  command = plan

  assert {
    condition     = azurerm_eventgrid_event_subscription.this["billing"].service_bus_queue_endpoint_id != null && length(azurerm_eventgrid_event_subscription.this["billing"].webhook_endpoint) == 0
    error_message = "billing delivers to a Service Bus queue."
  }
  assert {
    condition     = azurerm_eventgrid_event_subscription.this["email"].webhook_endpoint[0].url == "https://email.example.com/events" && length(azurerm_eventgrid_event_subscription.this["email"].delivery_identity) == 0
    error_message = "email is a webhook without delivery identity."
  }
  assert {
    condition     = azurerm_eventgrid_event_subscription.this["audit"].storage_queue_endpoint[0].queue_name == "order-events"
    error_message = "audit delivers to a storage queue."
  }
  assert {
    condition     = azurerm_eventgrid_event_subscription.this["billing"].retry_policy[0].max_delivery_attempts == 10 && azurerm_eventgrid_event_subscription.this["billing"].retry_policy[0].event_time_to_live == 60
    error_message = "The retry policy is passed through."
  }
  assert {
    condition     = azurerm_eventgrid_event_subscription.this["email"].retry_policy[0].max_delivery_attempts == 30 && azurerm_eventgrid_event_subscription.this["email"].retry_policy[0].event_time_to_live == 1440
    error_message = "Retry defaults are 30 attempts over 1440 minutes."
  }
  assert {
    condition = (
      azurerm_eventgrid_event_subscription.this["billing"].advanced_filter[0].string_in[0].values == tolist(["OrderPlaced", "OrderCancelled"]) &&
      azurerm_eventgrid_event_subscription.this["billing"].advanced_filter[0].number_greater_than[0].value == 100 &&
      azurerm_eventgrid_event_subscription.this["billing"].advanced_filter[0].bool_equals[0].value == true &&
      azurerm_eventgrid_event_subscription.this["billing"].advanced_filter[0].is_not_null[0].key == "data.customer" &&
      length(azurerm_eventgrid_event_subscription.this["billing"].advanced_filter[0].number_in_range) == 1
    )
    error_message = "Advanced filters map to their typed blocks."
  }
  assert {
    condition     = azurerm_eventgrid_event_subscription.this["email"].subject_filter[0].subject_begins_with == "/orders/" && length(azurerm_eventgrid_event_subscription.this["email"].advanced_filter) == 0
    error_message = "email has only a subject filter."
  }
  assert {
    condition     = keys(azurerm_role_assignment.delivery_sender) == ["audit", "billing"] && azurerm_role_assignment.delivery_sender["billing"].role_definition_name == "Azure Service Bus Data Sender"
    error_message = "Identity-based destinations get a sender role; webhooks none."
  }
  assert {
    condition     = azurerm_role_assignment.delivery_sender["audit"].role_definition_name == "Storage Queue Data Message Sender" && endswith(azurerm_role_assignment.delivery_sender["audit"].scope, "/queueServices/default/queues/order-events")
    error_message = "The storage queue sender role is scoped to the queue."
  }
  assert {
    condition     = toset(keys(azurerm_monitor_metric_alert.this)) == toset(["dropped", "delivery-attempt-failed"]) && azurerm_monitor_metric_alert.dead_lettered["billing"].criteria[0].metric_name == "DeadLetteredCount" && length(azurerm_monitor_metric_alert.dead_lettered) == length(var.event_subscriptions)
    error_message = "Alerts watch DroppedEventCount and DeliveryAttemptFailCount on the topic and DeadLetteredCount per event subscription."
  }
}

run "existing_storage_user_assigned_identity_no_alerts" {
  command = plan

  variables {
    identity = { type = "UserAssigned", user_assigned_identity = { id = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-events/providers/Microsoft.ManagedIdentity/userAssignedIdentities/eg", principal_id = "33333333-3333-3333-3333-333333333333" } }
    dead_letter_storage = {
      create             = false
      storage_account_id = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-shared/providers/Microsoft.Storage/storageAccounts/shared"
    }
    alerts = null
  }

  assert {
    condition     = length(azurerm_storage_account.dead_letter) == 0 && length(azurerm_storage_management_policy.dead_letter) == 0
    error_message = "No storage is created when an existing account is given."
  }
  assert {
    condition     = azurerm_role_assignment.dead_letter_writer.principal_id == "33333333-3333-3333-3333-333333333333" && startswith(azurerm_role_assignment.dead_letter_writer.scope, "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-shared/")
    error_message = "The user-assigned identity gets the role on the existing account's container."
  }
  assert {
    condition     = azurerm_eventgrid_event_subscription.this["billing"].dead_letter_identity[0].type == "UserAssigned" && azurerm_eventgrid_event_subscription.this["billing"].delivery_identity[0].user_assigned_identity == var.identity.user_assigned_identity.id
    error_message = "Dead-letter and delivery use the user-assigned identity."
  }
  assert {
    condition     = length(azurerm_monitor_metric_alert.this) == 0 && length(azurerm_monitor_metric_alert.dead_lettered) == 0
    error_message = "alerts = null creates no alerts."
  }
}

run "webhooks_authenticate_event_grid_with_entra_id_or_a_secret_header" {
  command = plan

  assert {
    condition     = azurerm_eventgrid_event_subscription.this["email"].webhook_endpoint[0].active_directory_tenant_id == "22222222-2222-2222-2222-222222222222" && azurerm_eventgrid_event_subscription.this["email"].webhook_endpoint[0].active_directory_app_id_or_uri == "api://email-webhook"
    error_message = "email's webhook endpoint asks Entra ID for a token to the webhook's application."
  }
  assert {
    condition     = length(azurerm_eventgrid_event_subscription.this["email"].delivery_property) == 0
    error_message = "email sends no secret header."
  }
  assert {
    condition = (
      azurerm_eventgrid_event_subscription.this["notify"].delivery_property[0].header_name == "X-Delivery-Secret" &&
      azurerm_eventgrid_event_subscription.this["notify"].delivery_property[0].type == "Static" &&
      azurerm_eventgrid_event_subscription.this["notify"].delivery_property[0].secret == true &&
      nonsensitive(azurerm_eventgrid_event_subscription.this["notify"].delivery_property[0].value == "0123456789abcdef-delivery-secret")
    )
    error_message = "notify sends its secret as a static, secret delivery property."
  }
  assert {
    condition     = azurerm_eventgrid_event_subscription.this["notify"].webhook_endpoint[0].active_directory_tenant_id == null
    error_message = "notify uses the secret header only."
  }
}

run "an_unauthenticated_webhook_is_an_explicit_opt_out" {
  command = plan

  variables {
    event_subscriptions      = { open = { destination = { type = "webhook", webhook_url = "https://open.example.com/events", allow_unauthenticated_webhook = true } } }
    webhook_delivery_secrets = {}
  }

  assert {
    condition     = length(azurerm_eventgrid_event_subscription.this["open"].delivery_property) == 0 && azurerm_eventgrid_event_subscription.this["open"].webhook_endpoint[0].active_directory_tenant_id == null
    error_message = "allow_unauthenticated_webhook = true plans a webhook without credentials."
  }
}

run "topic_is_private_by_default" {
  command = plan

  assert {
    condition     = azurerm_eventgrid_topic.this.public_network_access_enabled == false && length(azurerm_eventgrid_topic.this.inbound_ip_rule) == 0
    error_message = "The topic has no public endpoint unless asked for."
  }
}

run "public_access_takes_ip_rules" {
  command = plan

  variables {
    public_network_access_enabled = true
    inbound_ip_rules              = ["203.0.113.0/24"]
  }

  assert {
    condition     = azurerm_eventgrid_topic.this.public_network_access_enabled == true && azurerm_eventgrid_topic.this.inbound_ip_rule[0].ip_mask == "203.0.113.0/24" && azurerm_eventgrid_topic.this.inbound_ip_rule[0].action == "Allow"
    error_message = "Public access is narrowed to the listed ranges."
  }
}

run "public_access_from_anywhere_is_an_explicit_opt_out" {
  command = plan

  variables {
    public_network_access_enabled                = true
    allow_public_network_access_without_ip_rules = true
  }

  assert {
    condition     = azurerm_eventgrid_topic.this.public_network_access_enabled == true && length(azurerm_eventgrid_topic.this.inbound_ip_rule) == 0
    error_message = "With the opt-out the topic is public without IP rules."
  }
}

run "rejects_public_network_access_without_ip_rules" {
  command = plan
  variables {
    public_network_access_enabled = true
  }
  expect_failures = [var.public_network_access_enabled]
}

run "rejects_webhook_without_authentication" {
  command = plan
  variables {
    event_subscriptions      = { open = { destination = { type = "webhook", webhook_url = "https://open.example.com/events" } } }
    webhook_delivery_secrets = {}
  }
  expect_failures = [var.event_subscriptions]
}

run "rejects_secret_header_without_its_secret" {
  command = plan
  variables {
    webhook_delivery_secrets = {}
  }
  expect_failures = [var.event_subscriptions]
}

run "rejects_tenant_without_application" {
  command = plan
  variables {
    event_subscriptions      = { email = { destination = { type = "webhook", webhook_url = "https://email.example.com/events", active_directory_tenant_id = "22222222-2222-2222-2222-222222222222", secret_header_name = "X-Delivery-Secret" } } }
    webhook_delivery_secrets = { email = "0123456789abcdef-delivery-secret" }
  }
  expect_failures = [var.event_subscriptions]
}

run "rejects_an_empty_application_id" {
  command = plan
  variables {
    event_subscriptions      = { email = { destination = { type = "webhook", webhook_url = "https://email.example.com/events", active_directory_tenant_id = "22222222-2222-2222-2222-222222222222", active_directory_app_id_or_uri = " " } } }
    webhook_delivery_secrets = {}
  }
  expect_failures = [var.event_subscriptions]
}

run "rejects_event_grid_header_prefix" {
  command = plan
  variables {
    event_subscriptions      = { notify = { destination = { type = "webhook", webhook_url = "https://notify.example.com/events", secret_header_name = "aeg-secret" } } }
    webhook_delivery_secrets = { notify = "0123456789abcdef-delivery-secret" }
  }
  expect_failures = [var.event_subscriptions]
}

run "rejects_webhook_auth_on_other_destinations" {
  command = plan
  variables {
    event_subscriptions      = { billing = { destination = { type = "event_hub", resource_id = "/subscriptions/x", allow_unauthenticated_webhook = true } } }
    webhook_delivery_secrets = {}
  }
  expect_failures = [var.event_subscriptions]
}

run "rejects_a_secret_for_no_secret_header" {
  command = plan
  variables {
    webhook_delivery_secrets = { notify = "0123456789abcdef-delivery-secret", email = "0123456789abcdef-delivery-secret" }
  }
  expect_failures = [var.event_subscriptions]
}

run "rejects_short_delivery_secret" {
  command = plan
  variables {
    webhook_delivery_secrets = { notify = "short" }
  }
  expect_failures = [var.webhook_delivery_secrets]
}

run "rejects_bad_topic_name" {
  command = plan
  variables {
    name = "order_events"
  }
  expect_failures = [var.name]
}

run "rejects_unknown_input_schema" {
  command = plan
  variables {
    input_schema = "CustomEventSchema"
  }
  expect_failures = [var.input_schema]
}

run "rejects_bad_inbound_cidr" {
  command = plan
  variables {
    inbound_ip_rules = ["10.0.0.0/33"]
  }
  expect_failures = [var.inbound_ip_rules]
}

run "rejects_user_assigned_without_identity" {
  command = plan
  variables {
    identity = { type = "UserAssigned" }
  }
  expect_failures = [var.identity]
}

run "rejects_user_assigned_with_empty_ids" {
  command = plan
  variables {
    identity = { type = "UserAssigned", user_assigned_identity = { id = "", principal_id = "33333333-3333-3333-3333-333333333333" } }
  }
  expect_failures = [var.identity]
}

run "rejects_created_storage_without_name" {
  command = plan
  variables {
    dead_letter_storage = { create = true }
  }
  expect_failures = [var.dead_letter_storage]
}

run "rejects_bad_container_name" {
  command = plan
  variables {
    dead_letter_storage = { storage_account_name = "shopdeadletters", container_name = "Dead_Letters" }
  }
  expect_failures = [var.dead_letter_storage]
}

run "rejects_zero_retention_days" {
  command = plan
  variables {
    dead_letter_storage = { storage_account_name = "shopdeadletters", retention_days = 0 }
  }
  expect_failures = [var.dead_letter_storage]
}

run "rejects_bad_subscription_name" {
  command = plan
  variables {
    event_subscriptions = { "a" = { destination = { type = "webhook", webhook_url = "https://x.example.com" } } }
  }
  expect_failures = [var.event_subscriptions]
}

run "rejects_unknown_destination_type" {
  command = plan
  variables {
    event_subscriptions = { billing = { destination = { type = "azure_function", resource_id = "/subscriptions/x" } } }
  }
  expect_failures = [var.event_subscriptions]
}

run "rejects_storage_queue_without_queue_name" {
  command = plan
  variables {
    event_subscriptions = { audit = { destination = { type = "storage_queue", resource_id = "/subscriptions/x" } } }
  }
  expect_failures = [var.event_subscriptions]
}

run "rejects_31_delivery_attempts" {
  command = plan
  variables {
    event_subscriptions = { email = { destination = { type = "webhook", webhook_url = "https://x.example.com" }, retry_policy = { max_delivery_attempts = 31 } } }
  }
  expect_failures = [var.event_subscriptions]
}

run "rejects_ttl_over_1440_minutes" {
  command = plan
  variables {
    event_subscriptions = { email = { destination = { type = "webhook", webhook_url = "https://x.example.com" }, retry_policy = { event_time_to_live = 1441 } } }
  }
  expect_failures = [var.event_subscriptions]
}

run "rejects_unknown_filter_operator" {
  command = plan
  variables {
    event_subscriptions = { email = { destination = { type = "webhook", webhook_url = "https://x.example.com" }, advanced_filters = [{ operator = "StringIn", key = "type", values = ["a"] }] } }
  }
  expect_failures = [var.event_subscriptions]
}

run "rejects_non_numeric_number_filter" {
  command = plan
  variables {
    event_subscriptions = { email = { destination = { type = "webhook", webhook_url = "https://x.example.com" }, advanced_filters = [{ operator = "number_in", key = "data.qty", values = ["many"] }] } }
  }
  expect_failures = [var.event_subscriptions]
}

run "rejects_more_than_25_filter_values" {
  command = plan
  variables {
    event_subscriptions = { email = { destination = { type = "webhook", webhook_url = "https://x.example.com" }, advanced_filters = [{ operator = "string_in", key = "type", values = ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l", "m", "n", "o", "p", "q", "r", "s", "t", "u", "v", "w", "x", "y", "z"] }] } }
  }
  expect_failures = [var.event_subscriptions]
}

run "rejects_severity_5" {
  command = plan
  variables {
    alerts = { severity = 5 }
  }
  expect_failures = [var.alerts]
}
