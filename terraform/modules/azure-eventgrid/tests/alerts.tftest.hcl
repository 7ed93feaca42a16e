# Dead-letter alerts per event subscription take the spec's dlq_messages (rendered by `edakit render`), every alert
# notifies alarm_actions (and the deprecated alerts.action_group_ids) and links its runbook section.

mock_provider "azurerm" {}

override_resource {
  override_during = plan
  target          = azurerm_eventgrid_topic.this
  values = {
    id       = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-events/providers/Microsoft.EventGrid/topics/order-events"
    identity = { principal_id = "11111111-1111-1111-1111-111111111111", tenant_id = "22222222-2222-2222-2222-222222222222" }
  }
}

variables {
  name                = "order-events"
  resource_group_name = "rg-events"
  location            = "westeurope"
  dead_letter_storage = { storage_account_name = "shopdeadletters" }
  event_subscriptions = {
    billing = {
      destination      = { type = "service_bus_queue", resource_id = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-billing/providers/Microsoft.ServiceBus/namespaces/billing/queues/orders" }
      alarm_thresholds = { dlq_messages = 4 }
    }
    audit = {
      destination = { type = "storage_queue", resource_id = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-audit/providers/Microsoft.Storage/storageAccounts/audit", queue_name = "order-events" }
    }
  }
  alarm_actions = ["/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-ops/providers/Microsoft.Insights/actionGroups/oncall"]
  alerts        = { action_group_ids = ["/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-ops/providers/Microsoft.Insights/actionGroups/legacy"] }
  runbook_url   = "https://wiki.example.com/eda-kit/alerts"
}

run "dead_letters_alert_per_subscription_with_its_threshold" {
  command = plan

  assert {
    condition = (
      azurerm_monitor_metric_alert.dead_lettered["billing"].criteria[0].threshold == 4
      && azurerm_monitor_metric_alert.dead_lettered["audit"].criteria[0].threshold == 0
      && azurerm_monitor_metric_alert.dead_lettered["billing"].criteria[0].dimension[0].values == tolist(["BILLING"])
      && azurerm_monitor_metric_alert.dead_lettered["billing"].criteria[0].metric_namespace == "Microsoft.EventGrid/topics"
      && azurerm_monitor_metric_alert.dead_lettered["billing"].window_size == "PT5M"
    )
    error_message = "each subscription's DeadLetteredCount alert fires above its own dlq_messages (default: the first)"
  }
  assert {
    condition = (
      endswith(azurerm_monitor_metric_alert.dead_lettered["billing"].description, "Runbook: https://wiki.example.com/eda-kit/alerts#deadletterqueuenotempty")
      && endswith(azurerm_monitor_metric_alert.this["dropped"].description, "Runbook: https://wiki.example.com/eda-kit/alerts#deliveryfailing")
      && endswith(azurerm_monitor_metric_alert.this["delivery-attempt-failed"].description, "Runbook: https://wiki.example.com/eda-kit/alerts#deliveryfailing")
    )
    error_message = "each alert's description ends with its runbook section under runbook_url"
  }
  assert {
    condition = alltrue([for a in concat(values(azurerm_monitor_metric_alert.dead_lettered), values(azurerm_monitor_metric_alert.this)) : toset([for action in a.action : action.action_group_id]) == toset([
      "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-ops/providers/Microsoft.Insights/actionGroups/oncall",
      "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-ops/providers/Microsoft.Insights/actionGroups/legacy",
    ])])
    error_message = "every alert notifies alarm_actions and the deprecated alerts.action_group_ids"
  }
}

run "alarm_actions_must_be_action_group_ids" {
  command = plan

  variables {
    alarm_actions = ["arn:aws:sns:eu-west-1:123456789012:ops-alerts"]
  }

  expect_failures = [var.alarm_actions]
}

run "a_negative_dlq_threshold_is_refused" {
  command = plan

  variables {
    event_subscriptions = { billing = { destination = { type = "storage_queue", resource_id = "/subscriptions/0/resourceGroups/r/providers/Microsoft.Storage/storageAccounts/a", queue_name = "q" }, alarm_thresholds = { dlq_messages = -1 } } }
  }

  expect_failures = [var.event_subscriptions]
}

run "a_runbook_url_with_a_fragment_is_refused" {
  command = plan

  variables {
    runbook_url = "https://wiki.example.com/alerts#top"
  }

  expect_failures = [var.runbook_url]
}
