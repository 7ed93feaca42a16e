locals {
  alerting = var.alerts != null
  # alarm_actions is the kit-wide input; alerts.action_group_ids its deprecated predecessor (both are notified).
  alert_action_group_ids = local.alerting ? distinct(concat(var.alarm_actions, var.alerts.action_group_ids)) : []
  runbook                = { for section in ["deadletterqueuenotempty", "deliveryfailing"] : section => "Runbook: ${var.runbook_url}#${section}" }

  # Metric names as Event Grid publishes them for custom topics (namespace Microsoft.EventGrid/topics).
  alert_metrics = {
    "dropped"                 = { metric = "DroppedEventCount", description = "Events were dropped: undeliverable and not dead-lettered. ${local.runbook.deliveryfailing}" }
    "delivery-attempt-failed" = { metric = "DeliveryAttemptFailCount", description = "Delivery attempts to a subscriber are failing; Event Grid retries until the retry policy gives up. ${local.runbook.deliveryfailing}" }
  }
}

# Earlier versions alerted on dead letters topic-wide with one threshold; each subscription now has its own
# (azurerm_monitor_metric_alert.dead_lettered), so the topic-wide alert is replaced, not moved.
resource "azurerm_monitor_metric_alert" "this" {
  for_each = { for key, alert in local.alert_metrics : key => alert if local.alerting }

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
    threshold        = var.alerts.delivery_failure_threshold

    # One alert series per event subscription, so the alert names the failing subscriber.
    dimension {
      name     = "EventSubscriptionName"
      operator = "Include"
      values   = ["*"]
    }
  }

  dynamic "action" {
    for_each = local.alert_action_group_ids
    content {
      action_group_id = action.value
    }
  }
}

# Dead letters per event subscription, each with the spec's dlq_messages for its subscriber. The dimension value is the
# subscription name in upper case, the form Event Grid reports it in (as in its dead-letter blob paths).
resource "azurerm_monitor_metric_alert" "dead_lettered" {
  for_each = local.alerting ? var.event_subscriptions : {}

  name                = "${var.name}-${each.key}-dead-lettered"
  resource_group_name = var.resource_group_name
  scopes              = [azurerm_eventgrid_topic.this.id]
  description         = "Event subscription ${each.key} dead-lettered more than ${each.value.alarm_thresholds.dlq_messages} events to Blob storage in 5 minutes: its endpoint could not take them. ${local.runbook.deadletterqueuenotempty}"
  severity            = var.alerts.severity
  frequency           = "PT1M"
  window_size         = "PT5M"
  tags                = var.tags

  criteria {
    metric_namespace = "Microsoft.EventGrid/topics"
    metric_name      = "DeadLetteredCount"
    aggregation      = "Total"
    operator         = "GreaterThan"
    threshold        = each.value.alarm_thresholds.dlq_messages

    dimension {
      name     = "EventSubscriptionName"
      operator = "Include"
      values   = [upper(each.key)]
    }
  }

  dynamic "action" {
    for_each = local.alert_action_group_ids
    content {
      action_group_id = action.value
    }
  }
}
