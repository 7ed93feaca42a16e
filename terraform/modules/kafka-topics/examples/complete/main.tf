# Every feature of the module at once: defaults, per-topic sizing, a compacted topic, extra topic configs,
# producers, consumer groups reading several topics, retry counts and a longer-lived DLQ.
# terraform init && terraform apply -var='bootstrap_servers=["kafka-1:9092"]'

terraform {
  required_version = ">= 1.9"

  required_providers {
    kafka = {
      source  = "Mongey/kafka"
      version = "~> 0.13"
    }
  }
}

variable "bootstrap_servers" {
  description = "Brokers as host:port; SASL credentials come from KAFKA_SASL_USERNAME / KAFKA_SASL_PASSWORD."
  type        = list(string)
}

provider "kafka" {
  bootstrap_servers = var.bootstrap_servers
}

module "payments" {
  source = "../.."

  default_partitions          = 6
  default_replication_factor  = 3
  default_retention_hours     = 168
  default_min_insync_replicas = 2

  topics = {
    "payments.payment-authorized" = {
      partitions = 12
      producers  = ["User:payment-service"]
      config     = { "max.message.bytes" = "2097152", "compression.type" = "zstd" }
    }
    "payments.customer-balance" = {
      # Latest balance per customer key: compaction keeps one record per key.
      cleanup_policy = "compact"
      producers      = ["User:ledger-service"]
    }
  }

  consumer_groups = {
    ledger = {
      topics            = ["payments.payment-authorized"]
      principals        = ["User:ledger-service"]
      retry_topic_count = 3
    }
    notifications = {
      topics              = ["payments.payment-authorized", "payments.customer-balance"]
      principals          = ["User:notification-service"]
      retry_topic_count   = 1
      dlq_retention_hours = 720
    }
  }
}

output "retry_topic_names" {
  description = "Retry topics per group and topic, in retry order."
  value       = module.payments.retry_topic_names
}

output "dead_letter_topic_names" {
  description = "DLQ per group and topic."
  value       = module.payments.dead_letter_topic_names
}
