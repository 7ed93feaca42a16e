# Every feature of the module at once: a regional bucket with a customer managed key (CMEK), payloads kept 10 days
# because a Pub/Sub message (with its dead-letter topic) may live 7, usage logs, producers and consumers, labels.
# terraform init && terraform apply -var="project_id=<project>" -var="kms_key_name=projects/<project>/locations/europe-west1/keyRings/<ring>/cryptoKeys/<key>"

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
  description = "Project owning the bucket."
  type        = string
}

variable "kms_key_name" {
  description = "Cloud KMS key in the bucket's region (europe-west1)."
  type        = string
}

provider "google" {
  project = var.project_id
  region  = "europe-west1"
}

module "order_documents" {
  source = "../.."

  project_id                    = var.project_id
  bucket                        = "${var.project_id}-order-documents"
  location                      = "europe-west1"
  kms_key_name                  = var.kms_key_name
  payload_expiration_days       = 10
  max_message_retention_seconds = 604800 # 7 days: Pub/Sub's longest subscription retention
  log_bucket                    = "${var.project_id}-storage-logs"
  object_creators               = ["serviceAccount:orders@${var.project_id}.iam.gserviceaccount.com"]
  object_viewers = [
    "serviceAccount:billing@${var.project_id}.iam.gserviceaccount.com",
    "serviceAccount:fulfilment@${var.project_id}.iam.gserviceaccount.com",
  ]
  labels = { team = "orders" }
}

output "bucket_url" {
  description = "gs:// URL the claim checks point into."
  value       = module.order_documents.bucket_url
}
