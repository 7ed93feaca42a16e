resource "aws_cloudwatch_event_bus" "this" {
  name               = var.name
  kms_key_identifier = var.kms_key_identifier
  tags               = var.tags
}

resource "aws_cloudwatch_event_rule" "this" {
  for_each = var.routes

  name           = each.key
  description    = each.value.description
  event_bus_name = aws_cloudwatch_event_bus.this.name
  event_pattern  = each.value.event_pattern
  state          = each.value.state
  tags           = var.tags
}

locals {
  targets = merge([for route, r in var.routes : {
    for id, t in r.targets : "${route}/${id}" => merge(t, { route = route, id = id })
  }]...)
}

resource "aws_cloudwatch_event_target" "this" {
  for_each = local.targets

  rule           = aws_cloudwatch_event_rule.this[each.value.route].name
  event_bus_name = aws_cloudwatch_event_bus.this.name
  target_id      = each.value.id
  arn            = each.value.arn
  role_arn       = each.value.role_arn
  input_path     = each.value.input_path

  retry_policy {
    maximum_event_age_in_seconds = each.value.retry_policy.maximum_event_age_in_seconds
    maximum_retry_attempts       = each.value.retry_policy.maximum_retry_attempts
  }

  # Without a DLQ, events that exhaust the retry policy are dropped with no trace but a metric.
  dead_letter_config {
    arn = aws_sqs_queue.dead_letter[each.value.route].arn
  }

  dynamic "sqs_target" {
    for_each = each.value.message_group_id == null ? [] : [each.value.message_group_id]
    content {
      message_group_id = sqs_target.value
    }
  }
}

resource "aws_cloudwatch_event_archive" "this" {
  count = var.archive == null ? 0 : 1

  name               = substr("${var.name}-archive", 0, 48)
  description        = "Every event on ${var.name}, for replay."
  event_source_arn   = aws_cloudwatch_event_bus.this.arn
  retention_days     = var.archive.retention_days
  kms_key_identifier = var.kms_key_identifier
}
