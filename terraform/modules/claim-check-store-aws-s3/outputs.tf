output "bucket" {
  description = "Name of the claim-check bucket."
  value       = aws_s3_bucket.this.id
}

output "bucket_arn" {
  description = "ARN of the claim-check bucket (grant s3:PutObject to producers, s3:GetObject to consumers on BUCKET_ARN/*)."
  value       = aws_s3_bucket.this.arn
}

output "kms_key_arn" {
  description = "KMS key encrypting payloads."
  value       = local.kms_key_arn
}
