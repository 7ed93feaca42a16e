output "bucket" {
  description = "Producers put each payload here and publish its key; consumers get it by that key."
  value       = module.store.bucket
}

output "payload_kms_key_arn" {
  description = "Producers need kms:GenerateDataKey and consumers kms:Decrypt on this key."
  value       = module.store.kms_key_arn
}

output "topic_arn" {
  description = "Publish the claim checks (references, not payloads) here."
  value       = module.fanout.topic_arn
}

output "queue_urls" {
  description = "Queue each consumer polls, by subscriber."
  value       = module.fanout.queue_urls
}
