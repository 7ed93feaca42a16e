provider "kafka" {
  bootstrap_servers = var.bootstrap_servers
}

module "topics" {
  source = "../../../modules/kafka-topics"

  default_partitions          = var.default_partitions
  default_replication_factor  = var.default_replication_factor
  default_retention_hours     = var.default_retention_hours
  default_min_insync_replicas = var.default_min_insync_replicas
  topics                      = var.topics
  consumer_groups             = var.consumer_groups
}

# Rendered var files carry environment-specific names; applying staging's file with environment=prod is a mistake.
check "names_match_environment" {
  assert {
    condition     = alltrue([for name in keys(var.topics) : strcontains(name, var.environment)])
    error_message = "topic names ${join(", ", [for name in keys(var.topics) : name if !strcontains(name, var.environment)])} do not mention environment \"${var.environment}\": is this the var file rendered for ${var.environment}?"
  }
}
