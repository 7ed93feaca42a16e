# Every feature of the module at once: a customer managed key shared with the queues that carry the claim checks,
# payloads kept 21 days because a message (with its DLQ stay and a redrive) may live 14, access logging, tags.
# terraform init && terraform apply -var="payload_kms_key_arn=arn:aws:kms:eu-west-1:<account>:key/<id>"

terraform {
  required_version = ">= 1.9"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 6.25"
    }
  }
}

provider "aws" {
  region = "eu-west-1"
}

variable "payload_kms_key_arn" {
  description = "Customer managed key for the payloads; producers need kms:GenerateDataKey, consumers kms:Decrypt on it."
  type        = string
}

module "order_documents" {
  source = "../.."

  bucket                        = "shop-staging-order-documents"
  kms_key_arn                   = var.payload_kms_key_arn
  payload_expiration_days       = 21
  max_message_retention_seconds = 1209600 # 14 days: SQS's longest retention, DLQ included
  access_log_bucket             = "shop-staging-access-logs"
  tags                          = { team = "orders", data-classification = "confidential" }
}

# What a producer needs to store a payload before it publishes the claim check.
data "aws_iam_policy_document" "producer" {
  statement {
    actions   = ["s3:PutObject"]
    resources = ["${module.order_documents.bucket_arn}/*"]
  }
  statement {
    actions   = ["kms:GenerateDataKey"]
    resources = [module.order_documents.kms_key_arn]
  }
}

output "bucket" {
  description = "Bucket the claim checks point into."
  value       = module.order_documents.bucket
}

output "producer_policy_json" {
  description = "Attach to the producer's role."
  value       = data.aws_iam_policy_document.producer.json
}
