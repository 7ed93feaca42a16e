# Every feature of the module at once: a topic with replay retention, a customer managed key and an Avro schema,
# an authenticated push subscription, filtered pull subscriptions with exactly-once delivery, ordering, custom
# retry and dead-letter policies, one subscription without a dead-letter topic, and alert policies.
# terraform init && terraform apply -var="project_id=<project>" -var="kms_key_name=projects/<project>/locations/europe-west1/keyRings/<ring>/cryptoKeys/<key>" \
#   -var="oncall_notification_channel=projects/<project>/notificationChannels/<id>"

terraform {
  required_version = ">= 1.9"

  required_providers {
    google = {
      source  = "hashicorp/google"
      version = "~> 6.50"
    }
  }
}

variable "project_id" {
  description = "Project owning the topic and its subscriptions."
  type        = string
}

variable "kms_key_name" {
  description = "Cloud KMS key for the topic and its dead-letter topics."
  type        = string
}

provider "google" {
  project = var.project_id
  region  = "europe-west1"
}

variable "oncall_notification_channel" {
  description = "Cloud Monitoring notification channel of the on-call team (projects/<project>/notificationChannels/<id>)."
  type        = string
}

module "order_placed" {
  source = "../.."

  project_id                 = var.project_id
  topic_name                 = "orders-staging-order-placed"
  message_retention_duration = "86400s"
  kms_key_name               = var.kms_key_name

  schema = {
    name = "order-placed-v1"
    definition = jsonencode({
      type      = "record"
      name      = "OrderPlaced"
      namespace = "shop.orders"
      fields = [
        { name = "order_id", type = "string" },
        { name = "total_amount", type = "double" },
        { name = "currency", type = "string" },
      ]
    })
    encoding = "JSON"
  }

  subscriptions = {
    orders-staging-order-placed-email = {
      filter = "attributes.event_type = \"OrderPlaced\""
      push = {
        endpoint                   = "https://email.orders.example.com/pubsub/push"
        oidc_service_account_email = "email-push@${var.project_id}.iam.gserviceaccount.com"
        audience                   = "https://email.orders.example.com"
      }
    }
    orders-staging-order-placed-billing = {
      filter                       = "attributes.event_type = \"OrderPlaced\" AND attributes.payable = \"true\""
      ack_deadline_seconds         = 120
      enable_exactly_once_delivery = true
      retry_policy                 = { minimum_backoff = "30s", maximum_backoff = "600s" }
      dead_letter_policy           = { max_delivery_attempts = 10 }
    }
    orders-staging-order-placed-audit = {
      enable_message_ordering    = true
      message_retention_duration = "1209600s"
    }
    orders-staging-order-placed-analytics = {
      # Best effort: a message that keeps failing is redelivered until retention expires, never dead-lettered.
      dead_letter_policy = { enabled = false }
    }
  }

  alarm_actions = [var.oncall_notification_channel]
  alerts = {
    dead_letter_threshold      = 0
    oldest_unacked_age_seconds = 900
  }
  labels = { team = "orders" }
}

output "topic_id" {
  description = "Topic producers publish to."
  value       = module.order_placed.topic_id
}

output "dead_letter_subscription_ids" {
  description = "Where each subscription's dead letters wait for inspection and redrive."
  value       = module.order_placed.dead_letter_subscription_ids
}
