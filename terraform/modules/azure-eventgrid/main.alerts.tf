locals {
  # Metric names as Event Grid publishes them for custom topics (namespace Microsoft.EventGrid/topics).
  alert_metrics = {
    "dead-lettered"           = { metric = "DeadLetteredCount", threshold = 0, description = "Events were dead-lettered to Blob storage: their subscriber could not take them." }
    "dropped"                 = { metric = "DroppedEventCount", threshold = try(var.alerts.delivery_failure_threshold, 0), description = "Events were dropped: undeliverable and not dead-lettered." }
    "delivery-attempt-failed" = { metric = "DeliveryAttemptFailCount", threshold = try(var.alerts.delivery_failure_threshold, 0), description = "Delivery attempts to a subscriber are failing; Event Grid retries until the retry policy gives up." }
  }
}

resource "azurerm_monitor_metric_alert" "this" {
  for_each = { for key, alert in local.alert_metrics : key => alert if var.alerts != null }

  name                = "${var.name}-${each.key}"
  resource_group_name = var.resource_group_name
  scopes              = [azurerm_eventgrid_topic.this.id]
  description         = each.value.description
  severity            = var.alerts.severity
  frequency           = "PT1M"
  window_size         = "PT5M"
  tags                = var.tags

  criteria {
    metric_namespace = "Microsoft.EventGrid/topics"
    metric_name      = each.value.metric
    aggregation      = "Total"
    operator         = "GreaterThan"
    threshold        = each.value.threshold

    # One alert series per event subscription, so the alert names the failing subscriber.
    dimension {
      name     = "EventSubscriptionName"
      operator = "Include"
      values   = ["*"]
    }
  }

  dynamic "action" {
    for_each = var.alerts.action_group_ids
    content {
      action_group_id = action.value
    }
  }
}
